#include "ingest/codes.hpp"

// ZXing 1.4: Result::text() as UTF-8 (std::string), as its next releases have it.
#define ZX_USE_UTF8
#include <ZXing/ReadBarcode.h>
#include <vips/vips8>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace photodrop::ingest {

using vips::VImage;

namespace {

// 8 bit, one band. Green carries most of the luminance, and a code is dark on
// light in every band: taking it costs a copy, where a colour conversion to
// grey would cost as much as reading the code.
VImage luminance_of(VImage image) {
    if (image.interpretation() == VIPS_INTERPRETATION_CMYK) image = image.colourspace(VIPS_INTERPRETATION_sRGB);
    image = image.extract_band(image.bands() >= 3 ? 1 : 0);
    if (image.format() == VIPS_FORMAT_USHORT) image = image / 256;
    if (image.format() != VIPS_FORMAT_UCHAR) image = image.cast(VIPS_FORMAT_UCHAR);
    return image;
}

// 8-bit luminance in memory, row after row.
struct Gray {
    std::vector<uint8_t> pixels;
    int width = 0, height = 0;
    uint8_t at(int x, int y) const { return pixels[static_cast<size_t>(y) * width + x]; }
};
Gray gray_of(const VImage& image) {
    VImage l = luminance_of(image).copy_memory();
    const auto* first = static_cast<const uint8_t*>(l.data());
    return Gray{{first, first + static_cast<size_t>(l.width()) * l.height()}, l.width(), l.height()};
}

// Where in `preview` a code too small to read there may be: the centres of
// the areas of most contrast (a code's black modules on its white card), at
// most `count`, strongest first, in preview pixels. Photographs have such
// areas too (text, edges); they cost a small read each. Plain loops: on
// images this small, libvips' operations cost more to set up than to run.
struct Spot {
    int x, y;
};
std::vector<Spot> code_spots(const Gray& preview, int count) {
    constexpr int block = 8;  // preview pixels
    const int w = preview.width / block, h = preview.height / block;
    if (w < 2 || h < 2) return {};
    std::vector<float> deviation(static_cast<size_t>(w) * h);
    for (int by = 0; by < h; ++by)
        for (int bx = 0; bx < w; ++bx) {
            // Integers: 64 pixels of at most 255, their squares at most 4.2 million.
            uint32_t sum = 0, squares = 0;
            for (int y = by * block; y < (by + 1) * block; ++y) {
                const uint8_t* row = &preview.pixels[static_cast<size_t>(y) * preview.width + bx * block];
                for (int x = 0; x < block; ++x) {
                    sum += row[x];
                    squares += uint32_t{row[x]} * row[x];
                }
            }
            float mean = static_cast<float>(sum) / (block * block);
            deviation[static_cast<size_t>(by) * w + bx] =
                std::sqrt(std::max(0.0f, static_cast<float>(squares) / (block * block) - mean * mean));
        }
    // Contrast over an area, not along an edge: the least of 2x2 neighbouring blocks.
    struct Scored {
        float score;
        Spot spot;
    };
    std::vector<Scored> scored;
    constexpr float least = 30;  // a deviation of 30 grey levels: a dark-and-light area
    for (int by = 0; by + 1 < h; ++by)
        for (int bx = 0; bx + 1 < w; ++bx) {
            auto d = [&](int x, int y) { return deviation[static_cast<size_t>(y) * w + x]; };
            float score = std::min({d(bx, by), d(bx + 1, by), d(bx, by + 1), d(bx + 1, by + 1)});
            if (score >= least) scored.push_back({score, {(bx + 1) * block, (by + 1) * block}});
        }
    std::sort(scored.begin(), scored.end(), [](const Scored& a, const Scored& b) { return a.score > b.score; });
    std::vector<Spot> spots;
    for (const auto& [score, s] : scored) {
        if (static_cast<int>(spots.size()) == count) break;
        bool near = std::any_of(spots.begin(), spots.end(), [&](const Spot& o) {
            return std::abs(o.x - s.x) < 6 * block && std::abs(o.y - s.y) < 6 * block;
        });
        if (!near) spots.push_back(s);
    }
    return spots;
}

// `image` enlarged by `factor`, bilinear, in fixed point (weights of 1/256).
Gray enlarged(const Gray& image, double factor) {
    Gray out{{}, static_cast<int>(image.width * factor), static_cast<int>(image.height * factor)};
    out.pixels.resize(static_cast<size_t>(out.width) * out.height);
    struct Tap {
        int at;      // the first source pixel
        int weight;  // of the second, 0..256
    };
    auto taps = [&](int n, int source) {
        std::vector<Tap> t(static_cast<size_t>(n));
        for (int i = 0; i < n; ++i) {
            double s = std::min(i / factor, source - 1.001);
            t[i].at = static_cast<int>(s);
            t[i].weight = static_cast<int>((s - t[i].at) * 256 + 0.5);
        }
        return t;
    };
    auto across = taps(out.width, image.width), down = taps(out.height, image.height);
    for (int y = 0; y < out.height; ++y) {
        const uint8_t* top = &image.pixels[static_cast<size_t>(down[y].at) * image.width];
        const uint8_t* bottom = top + image.width;
        int fy = down[y].weight;
        uint8_t* row = &out.pixels[static_cast<size_t>(y) * out.width];
        for (int x = 0; x < out.width; ++x) {
            int x0 = across[x].at, fx = across[x].weight;
            int upper = top[x0] * (256 - fx) + top[x0 + 1] * fx;
            int lower = bottom[x0] * (256 - fx) + bottom[x0 + 1] * fx;
            row[x] = static_cast<uint8_t>((upper * (256 - fy) + lower * fy + (1 << 15)) >> 16);
        }
    }
    return out;
}

}  // namespace

namespace {
constexpr auto all_formats = ZXing::BarcodeFormat::QRCode | ZXing::BarcodeFormat::DataMatrix |
                             ZXing::BarcodeFormat::Code128 | ZXing::BarcodeFormat::EAN13 | ZXing::BarcodeFormat::EAN8;

std::optional<Code> read(const Gray& image, const ZXing::DecodeHints& hints) {
    ZXing::ImageView view(image.pixels.data(), image.width, image.height, ZXing::ImageFormat::Lum);
    for (const auto& result : ZXing::ReadBarcodes(view, hints))
        if (result.isValid() && !result.text().empty()) return Code{result.text(), ZXing::ToString(result.format())};
    return std::nullopt;
}

// A spot of the larger image that may hold a small code: read as it is, then
// (a 2D code of two pixels a module, blurred, defeats the local binarizer)
// its middle square enlarged by half and cut at the middle between its
// darkest and lightest.
std::optional<Code> read_spot(const Gray& spot) {
    auto quick = ZXing::DecodeHints().setTryHarder(false).setTryRotate(false).setTryDownscale(false).setMaxNumberOfSymbols(1);
    if (auto code = read(spot, ZXing::DecodeHints(quick).setFormats(all_formats))) return code;
    int side = std::min(spot.width, spot.height), left = (spot.width - side) / 2, top = (spot.height - side) / 2;
    Gray square{std::vector<uint8_t>(static_cast<size_t>(side) * side), side, side};
    for (int y = 0; y < side; ++y)
        std::copy_n(spot.pixels.begin() + static_cast<ptrdiff_t>(top + y) * spot.width + left, side,
                    square.pixels.begin() + static_cast<ptrdiff_t>(y) * side);
    auto [low, high] = std::minmax_element(square.pixels.begin(), square.pixels.end());
    if (*high - *low < 40) return std::nullopt;
    int middle = (*low + *high) / 2;
    Gray cut = enlarged(square, 1.5);
    for (auto& v : cut.pixels) v = v < middle ? 0 : 255;
    return read(cut, ZXing::DecodeHints(quick)
                    .setFormats(ZXing::BarcodeFormat::QRCode | ZXing::BarcodeFormat::DataMatrix)
                    .setBinarizer(ZXing::Binarizer::FixedThreshold));
}
}  // namespace

std::optional<Code> find_code(const VImage& preview, const VImage& larger) {
    Gray small = gray_of(preview);
    auto whole = ZXing::DecodeHints()
                     .setFormats(all_formats)
                     .setTryHarder(true)
                     .setTryRotate(true)
                     .setTryDownscale(false)
                     .setMaxNumberOfSymbols(1);
    if (auto code = read(small, whole)) return code;
    if (larger.width() <= preview.width() && larger.height() <= preview.height()) return std::nullopt;
    // Reading all of the larger image costs several times the preview's read:
    // only the few spots that look like a code are read there.
    constexpr int spots = 6;
    // Preview pixels around a spot: a 2D code of up to ~60 px in the preview with
    // its card, and a barcode as wide as the preview could not read.
    constexpr int half_width = 160, half_height = 80;
    // The larger image as decoded: 8-bit sRGB or grey in memory is read in
    // place (its green band); anything else is made so first.
    VImage source = larger;
    if (source.format() != VIPS_FORMAT_UCHAR || source.interpretation() == VIPS_INTERPRETATION_CMYK)
        source = luminance_of(source);
    source = source.copy_memory();
    const auto* pixels = static_cast<const uint8_t*>(source.data());
    const int bands = source.bands(), band = bands >= 3 ? 1 : 0;
    double scale = static_cast<double>(source.width()) / small.width;
    for (const auto& s : code_spots(small, spots)) {
        int left = std::max(0, static_cast<int>((s.x - half_width) * scale));
        int top = std::max(0, static_cast<int>((s.y - half_height) * scale));
        int width = std::min(source.width() - left, static_cast<int>(2 * half_width * scale));
        int height = std::min(source.height() - top, static_cast<int>(2 * half_height * scale));
        if (width < 32 || height < 32) continue;
        Gray spot{std::vector<uint8_t>(static_cast<size_t>(width) * height), width, height};
        for (int y = 0; y < height; ++y)
            for (int x = 0; x < width; ++x)
                spot.pixels[static_cast<size_t>(y) * width + x] =
                    pixels[(static_cast<size_t>(top + y) * source.width() + left + x) * bands + band];
        if (auto code = read_spot(spot)) return code;
    }
    return std::nullopt;
}

}  // namespace photodrop::ingest
