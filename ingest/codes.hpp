#pragma once
// Reading a subject's card: the QR code or barcode (Code 128, EAN-13, EAN-8,
// Data Matrix) photographed before the subject (SPEC.md "Subjects (QR
// cards)"), with ZXing-cpp, on renditions the ingest has decoded already.

#include <optional>
#include <string>

namespace vips { class VImage; }

namespace photodrop::ingest {

struct Code {
    std::string text;    // what the code holds, UTF-8
    std::string format;  // "QRCode", "Code128", "EAN-13", ...
};

// The first code found in `image` (any bands and format; read as 8-bit
// luminance), looked for in every orientation; nullopt if none.
std::optional<Code> read_code(const vips::VImage& image);

// A card's code in a photo: looked for in `preview` first, and in `larger`
// (a rendition of more pixels from the same decode: a card held far away is a
// few pixels a module in the preview) only when the preview shows none.
std::optional<Code> find_code(const vips::VImage& preview, const vips::VImage& larger);

}  // namespace photodrop::ingest
