#include "tests/support/cards.hpp"

#include "ingest/vips_setup.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <mutex>
#include <stdexcept>

namespace photodrop::test {

using vips::VImage;

namespace {
void run(const std::string& command) {
    if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
}
// Single quotes around `s` for the shell (no quote in the codes and paths of the tests).
std::string quoted(const std::string& s) { return "'" + s + "'"; }
}  // namespace

void start_vips() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (VIPS_INIT("photodrop-test") != 0) throw std::runtime_error("VIPS_INIT failed");
        ingest::restrict_vips();
    });
}

VImage photo_like(int width, int height, int variant) {
    start_vips();
    VImage xy = VImage::xyz(width, height);
    VImage x = xy[0], y = xy[1];
    VImage grain = VImage::gaussnoise(width, height, VImage::option()->set("sigma", 10.0));
    VImage red = x * (180.0 / width) + 40 + variant % 50;
    VImage green = y * (180.0 / height) + 40;
    VImage blue = ((x + y * 0.5 + variant * 7) * 1.5).sin() * 60 + 120;
    return VImage::bandjoin({red + grain, green + grain, blue + grain})
        .cast(VIPS_FORMAT_UCHAR)
        .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
}

VImage code_image(const std::string& code, Symbology symbology, const std::filesystem::path& scratch) {
    auto png = scratch / fmt::format("code-{}-{}.png", static_cast<int>(symbology), code);
    if (symbology == Symbology::Qr)
        run(fmt::format("qrencode -s 1 -m 4 -o {} {}", quoted(png.string()), quoted(code)));
    else
        run(fmt::format("zint -b {} --notext --quietzones --scale=1 -o {} -d {} >/dev/null",
                        symbology == Symbology::Code128 ? 20 : 13, quoted(png.string()), quoted(code)));
    VImage image = VImage::new_from_file(png.c_str());
    if (image.has_alpha()) image = image.flatten(VImage::option()->set("background", std::vector<double>{255}));
    image = image.colourspace(VIPS_INTERPRETATION_B_W).extract_band(0).cast(VIPS_FORMAT_UCHAR);
    return image.copy_memory();
}

VImage with_card(const VImage& frame, const Card& card, int x, int y, double blur, const std::filesystem::path& scratch) {
    VImage code = code_image(card.code, card.symbology, scratch);
    double scale = static_cast<double>(card.size) / std::max(code.width(), code.height());
    code = code.resize(scale, VImage::option()->set("kernel", VIPS_KERNEL_NEAREST));
    // A white card a little larger than the code, slightly grey as paper photographs.
    int margin = std::max(8, card.size / 8);
    VImage paper = code.embed(margin, margin, code.width() + 2 * margin, code.height() + 2 * margin,
                              VImage::option()->set("extend", VIPS_EXTEND_WHITE)) * 0.9 + 10;
    VImage rgba = VImage::bandjoin({paper, paper, paper, VImage::black(paper.width(), paper.height()) + 255})
                      .cast(VIPS_FORMAT_UCHAR)
                      .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
    if (card.angle != 0)
        rgba = rgba.rotate(card.angle, VImage::option()->set("background", std::vector<double>{0, 0, 0, 0}));
    VImage photo = frame.composite2(rgba, VIPS_BLEND_MODE_OVER,
                                    VImage::option()
                                        ->set("x", x - rgba.width() / 2)
                                        ->set("y", y - rgba.height() / 2))
                       .extract_band(0, VImage::option()->set("n", 3));
    if (blur > 0) photo = photo.gaussblur(blur);
    return photo.cast(VIPS_FORMAT_UCHAR).copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
}

void write_photo(const VImage& image, const std::filesystem::path& path, const Shot& shot) {
    image.jpegsave(path.c_str(), VImage::option()->set("Q", 90));
    std::string tags = fmt::format("-Make=Canon -Model={} -DateTimeOriginal={}", quoted(shot.model), quoted(shot.taken));
    if (!shot.subsec.empty()) tags += fmt::format(" -SubSecTimeOriginal={}", quoted(shot.subsec));
    if (!shot.serial.empty()) tags += fmt::format(" -SerialNumber={}", quoted(shot.serial));
    run(fmt::format("exiftool -q -overwrite_original {} {}", tags, quoted(path.string())));
}

}  // namespace photodrop::test
