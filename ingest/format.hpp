#pragma once
// Which accepted image format a file is in, judged by its content, never by its name.

#include <optional>
#include <string>
#include <string_view>

namespace photodrop::ingest {

enum class ImageFormat { Jpeg, Png, Tiff, Heif, Webp };

// The libvips loader for the file's content, if it is one of the accepted formats.
std::optional<ImageFormat> detect_format(const std::string& path);

// The libvips loader (operation nickname) for a format, e.g. "jpegload".
const char* loader_of(ImageFormat);
// The extension its original gets in the store, e.g. "jpg".
std::string_view extension_of(ImageFormat);
// Every extension extension_of() gives.
inline constexpr std::string_view store_extensions[] = {"jpg", "png", "tif", "heic", "webp"};

// Why a file that detect_format() did not accept is refused, in words a
// photographer understands ("the file is text, not an image").
std::string why_not_an_image(const std::string& path);

}  // namespace photodrop::ingest
