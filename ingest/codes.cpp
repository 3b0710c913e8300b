#include "ingest/codes.hpp"

// ZXing 1.4: Result::text() as UTF-8 (std::string), as its next releases have it.
#define ZX_USE_UTF8
#include <ZXing/ReadBarcode.h>
#include <vips/vips8>

namespace photodrop::ingest {

using vips::VImage;

std::optional<Code> read_code(const VImage& image) {
    VImage luminance = image;
    if (luminance.has_alpha()) luminance = luminance.flatten();
    if (luminance.bands() != 1) luminance = luminance.colourspace(VIPS_INTERPRETATION_B_W);
    if (luminance.bands() != 1) luminance = luminance.extract_band(0);
    if (luminance.format() != VIPS_FORMAT_UCHAR) luminance = luminance.cast(VIPS_FORMAT_UCHAR);
    luminance = luminance.copy_memory();

    ZXing::ImageView view(static_cast<const uint8_t*>(luminance.data()), luminance.width(), luminance.height(),
                          ZXing::ImageFormat::Lum);
    auto hints = ZXing::DecodeHints()
                     .setFormats(ZXing::BarcodeFormat::QRCode | ZXing::BarcodeFormat::DataMatrix |
                                 ZXing::BarcodeFormat::Code128 | ZXing::BarcodeFormat::EAN13 |
                                 ZXing::BarcodeFormat::EAN8)
                     .setTryHarder(true)
                     .setTryRotate(true)
                     .setMaxNumberOfSymbols(1);
    for (const auto& result : ZXing::ReadBarcodes(view, hints))
        if (result.isValid() && !result.text().empty())
            return Code{result.text(), ZXing::ToString(result.format())};
    return std::nullopt;
}

std::optional<Code> find_code(const VImage& preview, const VImage& larger) {
    if (auto code = read_code(preview)) return code;
    if (larger.width() <= preview.width() && larger.height() <= preview.height()) return std::nullopt;
    return read_code(larger);
}

}  // namespace photodrop::ingest
