#include "ingest/image.hpp"

#include "ingest/disk_space.hpp"
#include "ingest/refusal.hpp"
#include "ingest/vips_words.hpp"

#include <fmt/format.h>
#include <vips/vips8>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <system_error>

namespace photodrop::ingest {

using vips::VImage;

namespace {
// A libvips failure is the upload's fault (a refusal, "<what>: <libvips' words>"),
// unless libvips ran out of disk space (its temporary files), which is transient.
// When libvips gave no words, the reason says so rather than end in ": ".
[[noreturn]] void refuse(std::string_view what, const VipsFailure& e) {
    std::string text = e.what();
    if (says_out_of_space(text))
        throw std::system_error(ENOSPC, std::generic_category(), fmt::format("libvips: {}", text));
    if (text.empty()) throw Refusal(fmt::format("{} (libvips gave no detail)", what));
    throw Refusal(fmt::format("{}: {}", what, text));
}

std::vector<unsigned char> encode_jpeg(const VImage& image) {
    void* data = nullptr;
    size_t size = 0;
    image.write_to_buffer(".jpg", &data, &size,
                          VImage::option()->set("Q", 85)->set("strip", true)->set("optimize_coding", true));
    std::unique_ptr<void, decltype(&g_free)> owned(data, &g_free);
    auto* bytes = static_cast<unsigned char*>(data);
    return {bytes, bytes + size};
}

// sRGB, 8 bit, three bands, alpha flattened onto white.
VImage to_srgb8(VImage image) {
    if (image.has_alpha())
        image = image.flatten(VImage::option()->set("background", std::vector<double>{255, 255, 255}));
    if (image.interpretation() != VIPS_INTERPRETATION_sRGB || image.bands() != 3)
        image = image.colourspace(VIPS_INTERPRETATION_sRGB);
    if (image.format() != VIPS_FORMAT_UCHAR) image = image.cast(VIPS_FORMAT_UCHAR);
    return image;
}
// What a decode of `image` holds at once, by how its library decodes it.
int64_t whole_image_bytes(const VImage& image, ImageFormat format) {
    int64_t pixels = int64_t{image.width()} * image.height();
    auto flag = [&](const char* name) { return image.get_typeof(name) != 0 && image.get_int(name) != 0; };
    switch (format) {
        case ImageFormat::Jpeg:  // libjpeg keeps every scan's coefficients, 2 bytes each, at full resolution
            return flag("jpeg-multiscan") ? pixels * image.bands() * 2 : 0;
        case ImageFormat::Png:
            return flag("interlaced") ? pixels * image.bands() * static_cast<int64_t>(vips_format_sizeof(image.format())) : 0;
        case ImageFormat::Heif:
        case ImageFormat::Webp: return pixels * 4;
        case ImageFormat::Tiff: return 0;
    }
    return 0;
}
}  // namespace

ImageHeader read_header(const std::string& path, int64_t pixel_limit) {
    auto format = detect_format(path);
    if (!format) throw Refusal(why_not_an_image(path));

    ImageHeader header;
    header.format = *format;
    VImage image;
    try {
        // Loading is lazy: this reads the header and metadata, no pixels.
        image = with_vips_words([&] {
            VImage out;
            VImage::call(loader_of(*format), VImage::option()
                                                 ->set("filename", path.c_str())
                                                 ->set("access", VIPS_ACCESS_SEQUENTIAL)
                                                 ->set("out", &out));
            return out;
        });
    } catch (const VipsFailure& e) {
        refuse("the image header cannot be read", e);
    }
    header.width = image.width();
    header.height = image.height();
    int64_t pixels = int64_t{header.width} * header.height;
    if (pixels > pixel_limit)
        throw Refusal(fmt::format("the image is {}x{} pixels ({:.0f} megapixels), over the limit of {:.0f} megapixels",
                                  header.width, header.height, static_cast<double>(pixels) / 1e6,
                                  static_cast<double>(pixel_limit) / 1e6));
    header.exif = read_exif(image);
    header.decode_bytes = whole_image_bytes(image, *format);
    return header;
}

namespace {
// Whether every band of `image` is one flat value (standard deviation under
// 1), and whether that value is mid-grey, what libjpeg makes of missing data.
struct Flatness {
    bool flat = true;
    bool mid_grey = true;
};
Flatness flatness_of(const VImage& image) {
    // One row per band after the first (all bands): ..., mean (col 4), deviation (col 5).
    VImage stats = image.stats();
    Flatness out;
    for (int band = 1; band <= image.bands(); ++band) {
        if (stats.getpoint(5, band)[0] >= 1.0) out.flat = false;
        if (std::abs(stats.getpoint(4, band)[0] - 128.0) >= 1.0) out.mid_grey = false;
    }
    out.mid_grey = out.mid_grey && out.flat;
    return out;
}
}  // namespace

namespace {
// The image decoded once, upright, in memory, and the preview made from it.
// A JPEG is decoded by libjpeg's DCT scaling at the smallest of 1/1, 1/2, 1/4
// and 1/8 that still holds the preview (decoded_edge(): 3000 px of a 6000 px
// photo), which costs a third less than the whole decode libvips' thumbnail
// makes (it leaves a factor of two to its own resize), and the preview is
// resized from that. Other formats go through libvips' thumbnail (its own
// shrink-on-load where the format has one): to the preview's size, or, when
// `keep_larger` (codes are read), to decoded_edge() first. `fail_on`:
// VIPS_FAIL_ON_WARNING fails on any damage the decoder reports;
// VIPS_FAIL_ON_ERROR decodes past what it can (garbage inside a JPEG's
// compressed data) but still fails on a file that ends early or that it
// cannot make sense of.
struct Decoded {
    VImage preview;  // sRGB 8 bit
    VImage larger;   // as decoded (sRGB, grey or CMYK; its ICC profile attached); the preview unless kept
};
Decoded decode(const std::string& path, const RenditionSizes& sizes, bool keep_larger, VipsFailOn fail_on) {
    return with_vips_words([&] {
        auto thumbnail = [&](int edge) {
            return VImage::thumbnail(
                path.c_str(), edge,
                VImage::option()->set("height", edge)->set("size", VIPS_SIZE_DOWN)->set("fail_on", fail_on));
        };
        VImage larger;
        const char* loader = vips_foreign_find_load(path.c_str());
        if (loader && std::string_view(loader) == "VipsForeignLoadJpegFile") {
            VImage header = VImage::new_from_file(path.c_str());
            int shrink = decode_shrink(std::max(header.width(), header.height()), sizes.preview);
            larger = VImage::new_from_file(
                         path.c_str(),
                         VImage::option()->set("shrink", shrink)->set("autorotate", true)->set("fail_on", fail_on))
                         .copy_memory();
        } else {
            if (!loader) forget_vips_error();
            if (!keep_larger) {
                VImage preview = to_srgb8(thumbnail(sizes.preview)).copy_memory();
                return Decoded{preview, preview};
            }
            VImage header = VImage::new_from_file(path.c_str());
            larger = thumbnail(decoded_edge(std::max(header.width(), header.height()), sizes.preview)).copy_memory();
        }
        // thumbnail_image imports an embedded ICC profile into sRGB, as thumbnail does.
        VImage preview = to_srgb8(larger.thumbnail_image(
                                      sizes.preview,
                                      VImage::option()->set("height", sizes.preview)->set("size", VIPS_SIZE_DOWN)))
                             .copy_memory();
        return Decoded{preview, keep_larger ? larger : preview};
    });
}

// The thumbnail, from the preview: a quarter of its size, where a triangle
// filter is as good as Lanczos' (SSIM 0.993 against it on the benchmark's
// photos) at half its cost.
VImage thumbnail_of(const VImage& preview, int edge) {
    double scale = static_cast<double>(edge) / std::max(preview.width(), preview.height());
    if (scale >= 1.0) return preview;
    return preview.resize(scale, VImage::option()->set("kernel", VIPS_KERNEL_LINEAR));
}
}  // namespace

int decode_shrink(int long_edge, int preview) {
    int shrink = 1;
    while (shrink < 8 && long_edge / (shrink * 2) >= preview) shrink *= 2;
    return shrink;
}

int decoded_edge(int long_edge, int preview) { return std::max(preview, long_edge / decode_shrink(long_edge, preview)); }

Renditions render(const std::string& path, const RenditionSizes& sizes, bool read_codes) {
    // The rule: a clean decode is accepted as it is. A decode that fails on
    // warnings is tried again past them; if that succeeds the photo is
    // accepted with the decoder's words as its note, if not it is refused.
    // Either way, an image that decodes to nothing is refused. libvips
    // reports a decoder's warnings only through its process-wide error buffer
    // and log, which the workers share; the strict decode's own failure, run
    // again under vips_words' lock, is the one place where they belong to this
    // file. A clean file (nearly all) is decoded once.
    Decoded decoded;
    std::string note;
    try {
        decoded = decode(path, sizes, read_codes, VIPS_FAIL_ON_WARNING);
    } catch (const VipsFailure& strict) {
        note = strict.what();
        if (says_out_of_space(note))
            throw std::system_error(ENOSPC, std::generic_category(), fmt::format("libvips: {}", note));
        if (note.empty()) note = "the decoder reported damage but gave no detail";
        try {
            decoded = decode(path, sizes, read_codes, VIPS_FAIL_ON_ERROR);
        } catch (const VipsFailure& e) {
            refuse("the image is truncated or corrupt", e);
        }
    }
    try {
        return with_vips_words([&] {
            const VImage& preview = decoded.preview;
            VImage thumbnail = thumbnail_of(preview, sizes.thumbnail);
            // An image that decodes to nothing: one flat value, and either the decoder
            // reported damage or the value is mid-grey. A real photograph is never flat
            // (sensor noise, light falloff); a flat graphic of another colour with a
            // clean decode is still a picture. A resize keeps a flat image flat, so a
            // thumbnail that is not flat answers for the preview at a sixteenth of the
            // cost; one that is (nearly never) leaves it to the preview.
            auto flatness = flatness_of(thumbnail);
            if (flatness.flat) flatness = flatness_of(preview);
            if (flatness.flat && (!note.empty() || flatness.mid_grey))
                throw Refusal(note.empty() ? std::string("the image holds no picture: every pixel is the same grey, "
                                                         "which is what a file whose image data is missing or zeroed "
                                                         "decodes to")
                                           : fmt::format("the image holds no picture: every pixel is the same colour, "
                                                         "and the decoder reported damage ({})",
                                                         note));
            Renditions out{encode_jpeg(preview), encode_jpeg(thumbnail), note, flatness.flat, std::nullopt};
            if (read_codes && !flatness.flat) out.code = find_code(preview, decoded.larger);
            return out;
        });
    } catch (const VipsFailure& e) {
        // The image decoded fine: this is not the upload's fault.
        throw std::runtime_error(fmt::format("cannot write the renditions: {}", e.what()));
    }
}

}  // namespace photodrop::ingest
