#include "ingest/format.hpp"

#include "ingest/vips_words.hpp"

#include <vips/vips.h>

#include <array>
#include <fstream>
#include <utility>

namespace photodrop::ingest {

namespace {
using namespace std::string_view_literals;

struct Loader {
    ImageFormat format;
    std::string_view class_name;  // what vips_foreign_find_load() answers
    const char* nickname;         // what the operation is called by
};
constexpr std::array<Loader, 5> loaders{{
    {ImageFormat::Jpeg, "VipsForeignLoadJpegFile", "jpegload"},
    {ImageFormat::Png, "VipsForeignLoadPngFile", "pngload"},
    {ImageFormat::Tiff, "VipsForeignLoadTiffFile", "tiffload"},
    {ImageFormat::Heif, "VipsForeignLoadHeifFile", "heifload"},
    {ImageFormat::Webp, "VipsForeignLoadWebpFile", "webpload"},
}};

// Formats people send by mistake, recognised by their first bytes.
constexpr std::array<std::pair<std::string_view, std::string_view>, 5> known_others{{
    {"GIF8"sv, "a GIF image"sv},
    {"%PDF"sv, "a PDF document"sv},
    {"8BPS"sv, "a Photoshop document"sv},
    {"\x00\x00\x00\x0cjP  "sv, "a JPEG 2000 image"sv},
    {"\x1a\x45\xdf\xa3"sv, "a video"sv},
}};

constexpr std::string_view accepted = "JPEG, PNG, TIFF, HEIF or WebP";

bool looks_like_text(const std::string& head) {
    for (unsigned char c : head)
        if (c == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') || c == 0x7f) return false;
    return true;
}
}  // namespace

std::optional<ImageFormat> detect_format(const std::string& path) {
    // This finds blocked loaders too: only the accepted ones pass.
    const char* found = vips_foreign_find_load(path.c_str());
    if (!found) {
        forget_vips_error();
        return std::nullopt;
    }
    for (const auto& loader : loaders)
        if (loader.class_name == found) return loader.format;
    return std::nullopt;
}

const char* loader_of(ImageFormat format) {
    for (const auto& loader : loaders)
        if (loader.format == format) return loader.nickname;
    return "";
}

std::string_view extension_of(ImageFormat format) {
    switch (format) {
        case ImageFormat::Jpeg: return "jpg";
        case ImageFormat::Png: return "png";
        case ImageFormat::Tiff: return "tif";
        case ImageFormat::Heif: return "heic";
        case ImageFormat::Webp: return "webp";
    }
    return "bin";
}

std::string why_not_an_image(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string head(512, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(in.gcount()));

    if (head.empty()) return "the file is empty";
    for (const auto& [magic, what] : known_others)
        if (head.starts_with(magic)) return "the file is " + std::string(what) + "; only " + std::string(accepted) + " images are accepted";
    if (looks_like_text(head)) return "the file is text, not an image";
    return "the file is not an image in an accepted format (" + std::string(accepted) + ")";
}

}  // namespace photodrop::ingest
