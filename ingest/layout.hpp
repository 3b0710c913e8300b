#pragma once
// What the structure of a JPEG or a PNG file says, read from its bytes
// without decoding it: where the image ends, and whether its compressed data
// was zeroed. Decoders ignore bytes after the end and read zeros as data.

#include "ingest/format.hpp"

#include <cstdint>
#include <string>

namespace photodrop::ingest {

struct ImageLayout {
    // Bytes after the end of the image (a JPEG's EOI marker, a PNG's IEND
    // chunk): another file appended to it, a polyglot. 0 for other formats
    // and for a file that ends where its image does, or before.
    int64_t bytes_after = 0;
    // A JPEG's entropy-coded data (all its scans) and the zero bytes that end
    // its scans. An encoder never writes kilobytes of zero bytes at the end of
    // a scan but for a flat region; a file whose data was never written (a
    // copy that stopped, a disk that lost it) is zeros from there on.
    int64_t scan_bytes = 0;
    int64_t trailing_zeros = 0;

    // Whether the image data is zeros from some point on: at least 4 KiB of
    // them, and at least half of it.
    bool zeroed() const { return trailing_zeros >= 4096 && trailing_zeros * 2 >= scan_bytes; }
};

// The layout of the file at `path`; an empty layout (all 0) for a format
// other than JPEG and PNG, or a file that cannot be read. A file cut short
// while it is read (an upload taken back by its writer) ends where it was cut.
ImageLayout layout_of(const std::string& path, ImageFormat format);

}  // namespace photodrop::ingest
