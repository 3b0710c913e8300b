#include "ingest/exif.hpp"

#include "ingest/vips_words.hpp"

#include <vips/vips8>

#include <memory>

namespace photodrop::ingest {

namespace {
std::string trim(std::string_view s) {
    auto begin = s.find_first_not_of(" \t\r\n");
    if (begin == std::string_view::npos) return {};
    auto end = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(begin, end - begin + 1));
}

// The metadata field as text, or "" when the image has no such field.
std::string field(const vips::VImage& image, const char* name) {
    VipsImage* raw = image.get_image();
    if (vips_image_get_typeof(raw, name) == 0) return {};
    char* text = nullptr;
    if (vips_image_get_as_string(raw, name, &text) != 0) {
        forget_vips_error();
        return {};
    }
    std::unique_ptr<char, decltype(&g_free)> owned(text, &g_free);
    return exif_value(text);
}

int number(std::string_view s, size_t at, size_t digits) {
    int value = 0;
    for (size_t i = at; i < at + digits; ++i) {
        if (s[i] < '0' || s[i] > '9') return -1;
        value = value * 10 + (s[i] - '0');
    }
    return value;
}
}  // namespace

std::string exif_value(std::string_view text) {
    // libvips writes "VALUE (VALUE, FORMAT, N components, M bytes)", with the
    // value twice; the value itself may contain " (".
    for (size_t at = text.find(" ("); at != std::string_view::npos; at = text.find(" (", at + 1)) {
        std::string_view value = text.substr(0, at);
        std::string_view rest = text.substr(at + 2);
        if (rest.starts_with(value) && rest.substr(value.size()).starts_with(", ")) return trim(value);
    }
    return trim(text);
}

std::optional<std::string> capture_time(std::string_view s) {
    if (s.size() < 19 || s[4] != ':' || s[7] != ':' || s[10] != ' ' || s[13] != ':' || s[16] != ':')
        return std::nullopt;
    int year = number(s, 0, 4), month = number(s, 5, 2), day = number(s, 8, 2);
    int hour = number(s, 11, 2), minute = number(s, 14, 2), second = number(s, 17, 2);
    if (year < 1900 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 ||
        minute > 59 || second < 0 || second > 60)
        return std::nullopt;
    std::string out(s.substr(0, 19));
    out[4] = '-';
    out[7] = '-';
    return out;
}

int subsec_us(std::string_view s) {
    int us = 0, scale = 100'000;
    for (char c : s) {
        if (c < '0' || c > '9') return 0;
        us += (c - '0') * scale;
        scale /= 10;
    }
    return us;
}

ExifFacts read_exif(const vips::VImage& image) {
    ExifFacts facts;
    facts.captured_at = capture_time(field(image, "exif-ifd2-DateTimeOriginal"));
    if (facts.captured_at) facts.captured_us = subsec_us(field(image, "exif-ifd2-SubSecTimeOriginal"));
    facts.camera_make = field(image, "exif-ifd0-Make");
    facts.camera_model = field(image, "exif-ifd0-Model");
    facts.camera_serial = field(image, "exif-ifd2-BodySerialNumber");
    // The loaders turn the EXIF tag into the "orientation" field, 1..8.
    if (vips_image_get_typeof(image.get_image(), VIPS_META_ORIENTATION) != 0) {
        int orientation = 1;
        if (vips_image_get_int(image.get_image(), VIPS_META_ORIENTATION, &orientation) != 0)
            forget_vips_error();
        else if (orientation >= 1 && orientation <= 8)
            facts.orientation = orientation;
    }
    return facts;
}

}  // namespace photodrop::ingest
