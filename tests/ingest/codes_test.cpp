// Subjects' cards read by the ingest: QR codes and barcodes on cards in
// photo-like frames, turned, small and blurred, through render() as the
// ingest runs it; and no code read from photos without a card.

#include "ingest/codes.hpp"
#include "ingest/image.hpp"
#include "tests/ingest/fixture.hpp"
#include "tests/support/cards.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace photodrop;
using namespace photodrop::test;
using photodrop::ingest::decoded_edge;
using photodrop::ingest::render;
using photodrop::ingest::RenditionSizes;

namespace {
// The code render() reads from the photo at `path`, as the ingest asks for it.
std::optional<std::string> code_read(const std::filesystem::path& path) {
    auto renditions = render(path.string(), RenditionSizes{}, true);
    if (!renditions.code) return std::nullopt;
    return renditions.code->text;
}
}  // namespace

TEST_CASE("decoded_edge is what shrink-on-load gives for the preview") {
    CHECK(decoded_edge(6000, 1600) == 3000);
    CHECK(decoded_edge(2000, 1600) == 2000);
    CHECK(decoded_edge(1200, 1600) == 1600);
    CHECK(decoded_edge(13000, 1600) == 1625);
}

TEST_CASE("a QR card is read whether straight or turned, large or small, sharp or blurred") {
    TempDir dir;
    const int width = 2000, height = 1500;
    int n = 0;
    for (double angle : {0.0, 15.0, 30.0})
        for (int size : {height / 4, 200, 120})
            for (double blur : {0.8, 1.5}) {
                std::string code = fmt::format("S-{:06}", ++n);
                auto photo = with_card(photo_like(width, height, n), Card{code, Symbology::Qr, size, angle},
                                       600 + n * 20, 700, blur, dir.path());
                auto path = dir.path() / fmt::format("card{}.jpg", n);
                write_photo(photo, path, Shot{});
                INFO("angle ", angle, ", ", size, " px, blur ", blur);
                CHECK(code_read(path) == code);
            }
}

TEST_CASE("Code 128 and EAN-13 cards are read") {
    TempDir dir;
    const int width = 2000, height = 1500;
    struct Case {
        Symbology symbology;
        std::string code;
    };
    int n = 0;
    for (const auto& c : {Case{Symbology::Code128, "S000124"}, Case{Symbology::Ean13, "4006381333931"}})
        for (double angle : {0.0, 15.0})
            for (int size : {width / 4, 300}) {
                auto photo =
                    with_card(photo_like(width, height, ++n), Card{c.code, c.symbology, size, angle}, 1000, 750, 0.8,
                              dir.path());
                auto path = dir.path() / fmt::format("barcode{}.jpg", n);
                write_photo(photo, path, Shot{});
                INFO(c.code, ", angle ", angle, ", ", size, " px");
                CHECK(code_read(path) == c.code);
            }
}

TEST_CASE("a card held far away in a 24 MP frame (a code of 120 px) is read") {
    TempDir dir;
    const int width = 6000, height = 4000;
    auto photo = with_card(photo_like(width, height, 3), Card{"S-FAR-120", Symbology::Qr, 120, 10}, 4200, 2600, 1.0,
                           dir.path());
    auto path = dir.path() / "far.jpg";
    write_photo(photo, path, Shot{});
    CHECK(code_read(path) == "S-FAR-120");
}

TEST_CASE("no code is read from photos without a card") {
    TempDir dir;
    for (int variant = 0; variant < 6; ++variant) {
        auto path = dir.path() / fmt::format("plain{}.jpg", variant);
        auto photo = photo_like(2000 + variant * 300, 1500, variant * 17);
        if (variant % 2) photo = photo.gaussblur(1.2).cast(VIPS_FORMAT_UCHAR);
        write_photo(photo, path, Shot{});
        INFO("variant ", variant);
        CHECK_FALSE(code_read(path));
    }
}
