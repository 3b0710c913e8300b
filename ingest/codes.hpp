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

// A card's code in a photo (the first found; nullopt if none): looked for in
// `preview`, in every orientation; when it shows none, in `larger` (more
// pixels from the same decode: a card held far away is a pixel or two a
// module in the preview) at the few spots of the preview that look like a
// code (areas of most contrast), so that the cost per photo stays a small
// part of its ingest. Any bands and format; read as 8-bit luminance.
std::optional<Code> find_code(const vips::VImage& preview, const vips::VImage& larger);

}  // namespace photodrop::ingest
