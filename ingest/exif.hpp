#pragma once
// The EXIF facts a photo keeps, read through libvips ("exif-ifd0-Make", ...).

#include <optional>
#include <string>
#include <string_view>

namespace vips { class VImage; }

namespace photodrop::ingest {

struct ExifFacts {
    std::optional<std::string> captured_at;  // DateTimeOriginal as "YYYY-MM-DD HH:MM:SS"
    int captured_us = 0;                     // SubSecTimeOriginal, in microseconds
    std::string camera_make;
    std::string camera_model;
    std::string camera_serial;  // BodySerialNumber
    int orientation = 1;        // 1..8, as in EXIF
};

// Reads the facts from a loaded image's metadata; missing fields stay empty.
ExifFacts read_exif(const vips::VImage& image);

// The value in libvips' text form of an EXIF field:
// "EOS R5 (EOS R5, ASCII, 7 components, 7 bytes)" -> "EOS R5".
std::string exif_value(std::string_view vips_text);

// EXIF's "YYYY:MM:DD HH:MM:SS" as "YYYY-MM-DD HH:MM:SS"; nullopt for anything
// that is not a plausible date and time (cameras write "0000:00:00 00:00:00").
std::optional<std::string> capture_time(std::string_view exif_datetime);

// EXIF's sub-seconds ("45": the digits of a fraction, 0.45 s) in microseconds;
// 0 for anything else.
int subsec_us(std::string_view exif_subsec);

}  // namespace photodrop::ingest
