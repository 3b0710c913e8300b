#pragma once
// Checking and decoding an uploaded image with libvips, and rendering its
// preview and thumbnail. Every refusal is a Refusal with a reason a person
// can read; other failures (memory, I/O) are std::exceptions.

#include "ingest/codes.hpp"
#include "ingest/exif.hpp"
#include "ingest/format.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace photodrop::ingest {

struct ImageHeader {
    ImageFormat format = ImageFormat::Jpeg;
    int width = 0;   // as stored, before the EXIF orientation is applied
    int height = 0;
    ExifFacts exif;
    // Bytes its decode holds at once beyond a few scanlines: the whole image
    // for a progressive JPEG (its coefficients), an interlaced PNG, HEIC and
    // WebP; 0 for a decode that streams.
    int64_t decode_bytes = 0;

    // The size once turned upright (orientations 5..8 swap the sides).
    int upright_width() const { return exif.orientation >= 5 ? height : width; }
    int upright_height() const { return exif.orientation >= 5 ? width : height; }
};

// Reads only the header: the format from the content, the size and the EXIF
// facts. Refuses a file that is not an accepted image, and one with more than
// `pixel_limit` pixels, before any pixel is decoded.
ImageHeader read_header(const std::string& path, int64_t pixel_limit);

struct RenditionSizes {
    int preview = 1600;    // long edge, px
    int thumbnail = 400;   // long edge, px
};

// JPEG files: upright, sRGB, 8 bit, no metadata.
struct Renditions {
    std::vector<unsigned char> preview;
    std::vector<unsigned char> thumbnail;
    // The decoder's words on damage it decoded past ("VipsJpeg: Corrupt JPEG
    // data: premature end of data segment"); empty for a clean decode.
    std::string note;
    // Every pixel the same colour (a graphic, or compressed data that decodes to a flat area).
    bool flat = false;
    // The card's code, when codes were read and one was found (find_code()).
    std::optional<Code> code;
};

// Decodes the image once, at the smallest size that holds the preview (a
// JPEG by libjpeg's DCT scaling: 3000 px of a 6000 px photo), renders the
// preview from that decode and the thumbnail from the preview. Images smaller
// than a rendition keep their size. Damage the decoder gets past (garbage in
// the middle of a JPEG) is accepted with a note; a truncated or unreadable
// file, and one that decodes to nothing (one flat colour, mid-grey or with
// damage reported) is refused. With `read_codes`, a card's code is looked for
// in the preview and in that larger decode (find_code()).
Renditions render(const std::string& path, const RenditionSizes& sizes, bool read_codes = false);

// How much shrink-on-load shrinks an image of `long_edge` px for a preview of
// `preview` px: halved while that stays at least `preview`, at most three
// times (libjpeg scales by 1/2, 1/4, 1/8); and the long edge that gives.
int decode_shrink(int long_edge, int preview);
int decoded_edge(int long_edge, int preview);

}  // namespace photodrop::ingest
