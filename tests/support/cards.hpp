#pragma once
// Photo-like images made with libvips, and photos of subjects' cards as a
// photographer takes them: a QR code made by Debian's qrencode, or a barcode
// by zint, printed on a white card held in a photo-like frame, turned, scaled
// and blurred with libvips; capture times and camera serials set with exiftool.

#include <vips/vips8>

#include <filesystem>
#include <string>

namespace photodrop::test {

// VIPS_INIT and the ingest service's loader restrictions, once per process.
void start_vips();

// Gradients, waves and grain: compresses like a photograph. `variant` makes
// images of the same size differ.
vips::VImage photo_like(int width, int height, int variant = 0);

enum class Symbology { Qr, Code128, Ean13 };

struct Card {
    std::string code;
    Symbology symbology = Symbology::Qr;
    int size = 300;      // the code's long edge in the photo, px
    double angle = 0;    // degrees
};

// The code as black modules on white (its quiet zone around it), 8-bit, one band.
vips::VImage code_image(const std::string& code, Symbology symbology, const std::filesystem::path& scratch);

// `frame` with the card in it, its centre at (`x`, `y`); then the whole
// photo blurred by `blur` (gaussian sigma; 0: sharp).
vips::VImage with_card(const vips::VImage& frame, const Card& card, int x, int y, double blur,
                       const std::filesystem::path& scratch);

// When and with which camera a photo was taken.
struct Shot {
    std::string taken = "2024:05:17 10:00:00";  // EXIF's form
    std::string subsec;                         // SubSecTimeOriginal ("25": 0.25 s)
    std::string serial;                         // BodySerialNumber
    std::string model = "EOS R5";
};

// Writes `image` as a JPEG at `path` with the shot's EXIF (exiftool).
void write_photo(const vips::VImage& image, const std::filesystem::path& path, const Shot& shot);

}  // namespace photodrop::test
