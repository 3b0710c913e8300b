// read_header() and render() on their own: formats, refusals, renditions.

#include "ingest/image.hpp"
#include "ingest/layout.hpp"
#include "ingest/refusal.hpp"
#include "ingest/vips_words.hpp"
#include "tests/ingest/fixture.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <thread>
#include <vector>

using namespace photodrop;
using namespace photodrop::ingest;
using photodrop::test::Bytes;
using vips::VImage;

namespace {
std::string refusal_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const Refusal& refusal) {
        return refusal.what();
    }
    return "(not refused)";
}

// A rendition (JPEG bytes) decoded.
VImage image_of(const std::vector<unsigned char>& jpeg) { return VImage::new_from_buffer(jpeg.data(), jpeg.size(), ""); }

// A small real JPEG whose frame header claims width x height.
Bytes jpeg_claiming(int width, int height) {
    return test::with_frame_size(test::encode(test::photo_like(64, 48), ".jpg"), width, height);
}
}  // namespace

TEST_CASE("the format comes from the content, not the name") {
    test::TempDir dir;
    auto image = test::photo_like(320, 240);
    for (auto [suffix, format] : {std::pair{".jpg", ImageFormat::Jpeg}, std::pair{".png", ImageFormat::Png},
                                  std::pair{".tif", ImageFormat::Tiff}, std::pair{".webp", ImageFormat::Webp}}) {
        auto path = dir.path() / "upload.jpeg";  // the name says JPEG whatever it is
        test::write_bytes(path, test::encode(image, suffix));
        auto header = read_header(path.string(), 100'000'000);
        CHECK(header.format == format);
        CHECK(header.width == 320);
        CHECK(header.height == 240);
    }
}

TEST_CASE("loaders outside the accepted formats are blocked") {
    test::TempDir dir;
    auto image = test::photo_like(32, 32);
    for (const char* suffix : {".gif", ".v", ".ppm", ".csv"}) {
        auto path = dir.path() / (std::string("upload") + suffix);
        try {
            test::write_bytes(path, test::encode(image, suffix));
        } catch (const vips::VError&) {
            continue;  // this libvips cannot write it either
        }
        CAPTURE(suffix);
        CHECK_FALSE(detect_format(path.string()));
        CHECK_THROWS_AS(VImage::new_from_file(path.c_str()), vips::VError);
        CHECK_THROWS_AS(read_header(path.string(), 100'000'000), Refusal);
    }
}

TEST_CASE("a header over the pixel limit is refused before decoding") {
    test::TempDir dir;
    auto path = dir.path() / "bomb.jpg";
    test::write_bytes(path, jpeg_claiming(20000, 20000));
    // Only 64x48 pixels of data follow the header: a decode would fail as
    // truncated, so a pixel-limit reason shows nothing was decoded.
    auto reason = refusal_of([&] { read_header(path.string(), 100'000'000); });
    CHECK(reason.find("20000x20000") != std::string::npos);
    CHECK(reason.find("400 megapixels") != std::string::npos);
    CHECK(reason.find("over the limit of 100 megapixels") != std::string::npos);

    auto small = dir.path() / "small.png";
    test::write_bytes(small, test::encode(test::photo_like(100, 100), ".png"));
    CHECK(refusal_of([&] { read_header(small.string(), 9'999); }).find("over the limit") != std::string::npos);
    CHECK_NOTHROW(read_header(small.string(), 10'000));
}

TEST_CASE("renditions are upright sRGB JPEGs without metadata, from one decode") {
    test::TempDir dir;
    auto path = dir.path() / "portrait.png";
    // 16-bit with alpha: the renditions still come out as 8-bit sRGB.
    VImage rgba = test::photo_like(2000, 1500).bandjoin_const({255}).cast(VIPS_FORMAT_USHORT) * 256;
    rgba = rgba.cast(VIPS_FORMAT_USHORT).copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_RGB16));
    test::write_bytes(path, test::encode(rgba, ".png"));

    auto renditions = render(path.string(), RenditionSizes{1600, 400});
    VImage preview = image_of(renditions.preview), thumbnail = image_of(renditions.thumbnail);
    CHECK(preview.width() == 1600);
    CHECK(preview.height() == 1200);
    CHECK(thumbnail.width() == 400);
    CHECK(thumbnail.height() == 300);
    for (const VImage& image : {preview, thumbnail}) {
        CHECK(image.bands() == 3);
        CHECK(image.format() == VIPS_FORMAT_UCHAR);
        CHECK(image.interpretation() == VIPS_INTERPRETATION_sRGB);
        CHECK(image.get_typeof("exif-data") == 0);
        CHECK(image.get_typeof("icc-profile-data") == 0);
    }
}

TEST_CASE("a JPEG is decoded at half size and its renditions are those of the whole decode, upright, codes read or not") {
    // 3600x2400 turned by its EXIF orientation 6: libjpeg decodes it at 1800 px
    // (1/2), the preview comes from that. Against libvips' thumbnail of the
    // whole decode (what the ingest made before), pixel by pixel.
    test::TempDir dir;
    VImage photo = test::photo_like(3600, 2400).copy();
    photo.set("orientation", 6);
    auto path = dir.path() / "sideways.jpg";
    test::write_bytes(path, test::encode(photo, ".jpg"));
    CHECK(decode_shrink(3600, 1600) == 2);
    VImage whole = VImage::thumbnail(path.c_str(), 1600, VImage::option()->set("height", 1600)->set("size", VIPS_SIZE_DOWN));
    REQUIRE(whole.width() == 1067);
    for (bool read_codes : {false, true}) {
        CAPTURE(read_codes);
        auto renditions = render(path.string(), RenditionSizes{1600, 400}, read_codes);
        VImage preview = image_of(renditions.preview), thumbnail = image_of(renditions.thumbnail);
        CHECK(preview.width() == 1067);
        CHECK(preview.height() == 1600);
        CHECK(thumbnail.width() == 267);
        CHECK(thumbnail.height() == 400);
        CHECK(renditions.note.empty());
        CHECK_FALSE(renditions.flat);
        CHECK_FALSE(renditions.code);
        // Upright and the same picture: the mean difference from the whole
        // decode's preview is a grey level or two (JPEG noise), where a turn
        // the wrong way or a shifted image differs by tens.
        double difference = (preview.cast(VIPS_FORMAT_FLOAT) - whole.cast(VIPS_FORMAT_FLOAT)).abs().avg();
        CHECK(difference < 3.0);
    }
}

TEST_CASE("a truncated file is refused when decoded") {
    test::TempDir dir;
    for (const char* suffix : {".jpg", ".png", ".webp", ".tif"}) {
        CAPTURE(suffix);
        Bytes bytes = test::encode(test::photo_like(800, 600), suffix);
        bytes.resize(bytes.size() * 6 / 10);
        auto path = dir.path() / (std::string("cut") + suffix);
        test::write_bytes(path, bytes);
        auto reason = refusal_of([&] {
            read_header(path.string(), 100'000'000);
            render(path.string(), RenditionSizes{});
        });
        CHECK(reason != "(not refused)");
    }
}

TEST_CASE("damage the decoder gets past is accepted with its words as a note; a clean image has none") {
    test::TempDir dir;
    Bytes clean = test::encode(test::photo_like(2400, 1600), ".jpg");
    auto clean_path = dir.path() / "clean.jpg";
    test::write_bytes(clean_path, clean);
    CHECK(render(clean_path.string(), RenditionSizes{}).note.empty());

    // 60 KB of random bytes in the middle of the compressed data.
    Bytes damaged = clean;
    uint32_t state = 12345;
    for (size_t i = damaged.size() / 2 - 30'000; i < damaged.size() / 2 + 30'000; ++i) {
        state = state * 1103515245 + 12345;
        damaged[i] = static_cast<unsigned char>(state >> 16);
    }
    auto damaged_path = dir.path() / "damaged.jpg";
    test::write_bytes(damaged_path, damaged);
    auto renditions = render(damaged_path.string(), RenditionSizes{});
    CHECK(renditions.note.find("Corrupt JPEG data") != std::string::npos);
    CHECK_FALSE(renditions.preview.empty());
}

TEST_CASE("a JPEG whose image data is zeros from some point on is known by its layout; flat images are told apart") {
    test::TempDir dir;
    Bytes bytes = test::encode(test::photo_like(2400, 1600), ".jpg");
    auto clean = dir.path() / "clean.jpg";
    test::write_bytes(clean, bytes);
    auto clean_layout = layout_of(clean.string(), ImageFormat::Jpeg);
    CHECK(clean_layout.scan_bytes > 100'000);
    CHECK_FALSE(clean_layout.zeroed());
    auto progressive = dir.path() / "progressive.jpg";
    test::write_bytes(progressive, test::encode(test::photo_like(2400, 1600), ".jpg[interlace]"));
    CHECK_FALSE(layout_of(progressive.string(), ImageFormat::Jpeg).zeroed());

    size_t at = 2;
    while (at + 4 < bytes.size() && bytes[at + 1] != 0xDA) at += 2 + ((size_t{bytes[at + 2]} << 8) | bytes[at + 3]);
    at += 2 + ((size_t{bytes[at + 2]} << 8) | bytes[at + 3]);
    // Everything after the first scan header zeroed, and as many zeros again: the
    // decoder reads zeros to its last row without an error, and makes a pattern of them.
    std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(at), bytes.end(), 0);
    bytes.resize(bytes.size() * 8, 0);
    auto zeros = dir.path() / "zeros.jpg";
    test::write_bytes(zeros, bytes);
    auto layout = layout_of(zeros.string(), ImageFormat::Jpeg);
    CHECK(layout.zeroed());
    CHECK(layout.trailing_zeros == static_cast<int64_t>(bytes.size() - at));
    CHECK_FALSE(render(zeros.string(), RenditionSizes{}).flat);

    // A flat image of another colour, decoded cleanly, is still a picture (a graphic).
    auto flat = dir.path() / "flat.png";
    VImage grey40 = (VImage::black(300, 200, VImage::option()->set("bands", 3)) + 40)
                        .cast(VIPS_FORMAT_UCHAR)
                        .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
    test::write_bytes(flat, test::encode(grey40, ".png"));
    auto renditions = render(flat.string(), RenditionSizes{});
    CHECK(renditions.note.empty());
    CHECK(renditions.flat);
    // Mid-grey, libjpeg's fill for data that is missing, is refused.
    auto grey = dir.path() / "grey.png";
    test::write_bytes(grey, test::encode((grey40 + 88).cast(VIPS_FORMAT_UCHAR), ".png"));
    CHECK(refusal_of([&] { render(grey.string(), RenditionSizes{}); }).find("holds no picture") != std::string::npos);
}

TEST_CASE("bytes after the end of a JPEG or a PNG are counted: a polyglot") {
    test::TempDir dir;
    for (const char* suffix : {".jpg", ".jpg[interlace]", ".png"}) {
        CAPTURE(suffix);
        Bytes bytes = test::encode(test::photo_like(300, 200), suffix);
        auto path = dir.path() / "image";
        test::write_bytes(path, bytes);
        auto format = std::string(suffix).starts_with(".png") ? ImageFormat::Png : ImageFormat::Jpeg;
        CHECK(layout_of(path.string(), format).bytes_after == 0);
        std::string zip = "PK\x03\x04 an archive follows";
        bytes.insert(bytes.end(), zip.begin(), zip.end());
        test::write_bytes(path, bytes);
        CHECK(layout_of(path.string(), format).bytes_after == static_cast<int64_t>(zip.size()));
    }
}

TEST_CASE("a damaged photo keeps its own words while other workers decode, fail and read headers at once") {
    // libvips keeps a failure's words in one buffer for the whole process: a
    // worker that cleared it between another's failure and that one's throw
    // left the other photo with no words (seen with the ASan build).
    test::TempDir dir;
    Bytes clean = test::encode(test::photo_like(1200, 800), ".jpg");
    Bytes cut = clean;
    cut.resize(cut.size() * 7 / 10);
    auto cut_path = dir.path() / "cut.jpg";
    test::write_bytes(cut_path, cut);
    VImage upright = test::photo_like(640, 480).copy();
    upright.set("orientation", 6);
    auto oriented_path = dir.path() / "oriented.jpg";
    test::write_bytes(oriented_path, test::encode(upright, ".jpg"));
    auto missing_path = dir.path() / "not-there.jpg";

    std::atomic<bool> stop = false;
    std::atomic<int> without_words = 0;
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 30; ++i) {
                std::string words;
                try {
                    words = render(cut_path.string(), RenditionSizes{}).note;
                } catch (const Refusal& refusal) {
                    words = refusal.what();
                }
                if (words.find("Premature end") == std::string::npos) ++without_words;
            }
        });
    std::thread others([&] {
        while (!stop) {
            read_header(oriented_path.string(), 100'000'000);
            refusal_of([&] { read_header(missing_path.string(), 100'000'000); });
        }
    });
    for (auto& thread : threads) thread.join();
    stop = true;
    others.join();
    CHECK(without_words == 0);
}

TEST_CASE("a failure's words leave out lines that name a file: another worker's, or a path of the data directory") {
    using detail::own_words;
    CHECK(own_words("VipsForeignLoad: \"demo/staging/000021\" is not a known file format\nVipsJpeg: Corrupt JPEG data") ==
          "VipsJpeg: Corrupt JPEG data");
    CHECK(own_words("VipsJpeg: Premature end of JPEG file\nVipsJpeg: out of order read") ==
          "VipsJpeg: Premature end of JPEG file; VipsJpeg: out of order read");
    CHECK(own_words("A\nA\nB\n") == "A; B");
    CHECK(own_words("") == "");
}
