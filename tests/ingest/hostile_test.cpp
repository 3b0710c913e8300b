// A corpus of hostile images, made here, through the real photodrop-ingest with
// its default workers and memory budget: each file ends ingested (with a note
// when its decoder got past damage) or rejected with a reason; no reason or
// note is empty or names a path of this host; the service does not crash and
// its peak RSS stays within the budget.

#include "tests/ingest/clients.hpp"
#include "tests/ingest/fixture.hpp"
#include "tests/support/process.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <zlib.h>

#include <csignal>
#include <fstream>
#include <functional>
#include <random>

using namespace photodrop;
using namespace std::chrono_literals;
using test::Bytes;
using test::with_frame_size;
using vips::VImage;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr int big_side = 5000;  // 25 MP: ASan's decodes are several times slower
#else
constexpr int big_side = 10000;  // 100 MP, the pixel limit
#endif

constexpr int64_t rss_budget = int64_t{1} << 30;  // photodrop-ingest with its default workers

Bytes random_bytes(size_t count, unsigned seed) {
    std::mt19937 random(seed);
    Bytes out(count);
    for (auto& b : out) b = static_cast<unsigned char>(random());
    return out;
}

Bytes jpeg(int width, int height, const std::string& options = "") {
    return test::encode(test::photo_like(width, height), ".jpg" + options);
}

// A picture with content at any size, cheap to make: libvips streams it.
VImage big_picture(int side) {
    VImage xy = VImage::xyz(side, side);
    VImage x = xy[0], y = xy[1];
    return VImage::bandjoin({(x + y) / 80, (x - y).abs() / 80, x * 0 + 128})
        .cast(VIPS_FORMAT_UCHAR)
        .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
}

// Where a JPEG's entropy-coded data starts: after its first SOS segment.
size_t scan_start(const Bytes& bytes) {
    for (size_t i = 2; i + 4 < bytes.size();) {
        if (bytes[i] != 0xFF) break;
        size_t length = (size_t{bytes[i + 2]} << 8) | bytes[i + 3];
        if (bytes[i + 1] == 0xDA) return i + 2 + length;
        i += 2 + length;
    }
    FAIL("no scan in the JPEG");
    return 0;
}

// `segments` marker segments of `size` bytes each (at most 65533) inserted after SOI.
Bytes with_segments(const Bytes& bytes, unsigned char marker, int segments, size_t size) {
    Bytes out(bytes.begin(), bytes.begin() + 2);
    for (int n = 0; n < segments; ++n) {
        Bytes body = random_bytes(size, static_cast<unsigned>(n + 1));
        out.insert(out.end(), {0xFF, marker, static_cast<unsigned char>((size + 2) >> 8),
                               static_cast<unsigned char>((size + 2) & 0xFF)});
        out.insert(out.end(), body.begin(), body.end());
    }
    out.insert(out.end(), bytes.begin() + 2, bytes.end());
    return out;
}

Bytes concat(Bytes a, std::string_view b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

Bytes cut(Bytes bytes, size_t size) {
    bytes.resize(size);
    return bytes;
}

Bytes garbage_in_middle(Bytes bytes, size_t count) {
    Bytes noise = random_bytes(count, 7);
    std::copy(noise.begin(), noise.end(), bytes.begin() + static_cast<std::ptrdiff_t>(bytes.size() / 2 - count / 2));
    return bytes;
}

Bytes header_then_zeros(Bytes bytes) {
    // As many zeros again: the decoder reads zeros to its last row rather than run out of data.
    std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(scan_start(bytes)), bytes.end(), 0);
    bytes.resize(bytes.size() * 8, 0);
    return bytes;
}

// The PNG with its IHDR claiming width x height, the chunk's CRC made right.
Bytes png_claiming(Bytes bytes, uint32_t width, uint32_t height) {
    auto put = [&](size_t at, uint32_t v) {
        for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<unsigned char>(v >> (24 - 8 * i));
    };
    put(16, width);   // IHDR data starts at 16: signature 8, length 4, type 4
    put(20, height);
    put(29, static_cast<uint32_t>(crc32(0, bytes.data() + 12, 17)));  // over type and 13 bytes of data
    return bytes;
}

// A small JPEG whose ZIP archive follows its end: a polyglot.
Bytes zip_appended() {
    test::TempDir dir;
    test::write_bytes(dir.path() / "inside.txt", Bytes(1000, 'x'));
    auto zip = dir.path() / "a.zip";
    REQUIRE(test::run_command(fmt::format("cd '{}' && zip -q a.zip inside.txt", dir.path().string())) == 0);
    Bytes out = jpeg(800, 600);
    Bytes archive = test::read_bytes(zip);
    out.insert(out.end(), archive.begin(), archive.end());
    return out;
}

Bytes huge_icc() {
    VImage image = test::photo_like(800, 600).copy();
    Bytes profile = random_bytes(4 << 20, 3);
    vips_image_set_blob_copy(image.get_image(), "icc-profile-data", profile.data(), profile.size());
    return test::encode(image, ".jpg");
}

Bytes many_page_tiff() {
    VImage page = test::photo_like(64, 48);
    std::vector<VImage> pages(500, page);
    VImage strip = VImage::arrayjoin(pages, VImage::option()->set("across", 1)).copy();
    strip.set("page-height", 48);
    return test::encode(strip, ".tif");
}

Bytes tall_strips_tiff() {
    // 20000 strips of one row each, the StripOffsets and StripByteCounts 160 KB.
    return test::encode(test::photo_like(200, 20000), ".tif");
}

enum class End { Clean, Noted, Rejected };

struct Case {
    std::string filename;
    End end;
    std::string words;  // in the reason or the note
    std::function<Bytes()> make;
};

std::vector<Case> corpus() {
    Bytes photo = jpeg(2400, 1600);
    Bytes png = test::encode(test::photo_like(800, 600), ".png");
    return {
        {"bomb-50000x50000.jpg", End::Rejected, "over the limit", [] { return with_frame_size(jpeg(64, 48), 50000, 50000); }},
        {"bomb-50000x50000.png", End::Rejected, "over the limit", [=] { return png_claiming(png, 50000, 50000); }},
        {"zlib-bomb.png", End::Rejected, "truncated or corrupt", [] {
             // Half the rows its header declares, every row zeros: the IDAT inflates 1000-fold.
             Bytes half = test::encode(VImage::black(big_side, big_side / 2), ".png[compression=9]");
             return png_claiming(half, big_side, big_side);
         }},
        {"progressive-100mp.jpg", End::Clean, "", [] { return test::encode(big_picture(big_side), ".jpg[interlace,subsample-mode=off]"); }},
        // Random bytes in a progressive scan make markers that end libjpeg's decode.
        {"progressive-100mp-garbage.jpg", End::Rejected, "truncated or corrupt", [] {
             return garbage_in_middle(test::encode(big_picture(big_side), ".jpg[interlace,subsample-mode=off]"), 60'000);
         }},
        {"truncated-after-header.jpg", End::Rejected, "truncated or corrupt", [=] { return cut(photo, scan_start(photo) + 16); }},
        {"truncated-middle.jpg", End::Rejected, "truncated or corrupt", [=] { return cut(photo, photo.size() / 2); }},
        {"truncated-middle.png", End::Rejected, "truncated or corrupt", [=] { return cut(png, png.size() / 2); }},
        {"truncated-middle.tif", End::Rejected, "", [] {
             Bytes tif = test::encode(test::photo_like(600, 400), ".tif");
             return cut(tif, tif.size() / 2);
         }},
        {"garbage-middle.jpg", End::Noted, "Corrupt JPEG data", [=] { return garbage_in_middle(photo, 60'000); }},
        {"header-then-zeros.jpg", End::Rejected, "holds no picture", [=] { return header_then_zeros(photo); }},
        // The rows the data holds decode; the rest is noted as missing.
        {"wrong-frame-size-larger.jpg", End::Noted, "premature end of data", [=] { return with_frame_size(photo, 4800, 3200); }},
        // libjpeg stops at the rows the frame declares: the image is that part of the photo.
        {"wrong-frame-size-smaller.jpg", End::Clean, "", [=] { return with_frame_size(photo, 1200, 800); }},
        {"zip-appended.jpg", End::Noted, "follow the end of the image", zip_appended},
        {"html-appended.jpg", End::Noted, "follow the end of the image",
         [] { return concat(jpeg(800, 600), "<html><body><script>alert(1)</script></body></html>\n"); }},
        // A profile that is not one is ignored: the image is taken as sRGB.
        {"huge-icc.jpg", End::Clean, "", huge_icc},
        {"huge-app-segments.jpg", End::Clean, "", [] { return with_segments(jpeg(800, 600), 0xEB, 100, 65533); }},
        {"huge-exif-segments.jpg", End::Clean, "", [] { return with_segments(jpeg(800, 600), 0xE1, 100, 65533); }},
        {"many-pages.tif", End::Clean, "", many_page_tiff},
        {"tall-strips.tif", End::Clean, "", tall_strips_tiff},
        {"empty.jpg", End::Rejected, "the file is empty", [] { return Bytes{}; }},
        {"animation.gif", End::Rejected, "a GIF image", [] { return test::encode(test::photo_like(64, 48), ".gif"); }},
        {"page.html.jpg", End::Rejected, "text", [] { return concat({}, "<html><body>not a photo</body></html>\n"); }},
    };
}

int64_t peak_rss(pid_t pid) {
    std::ifstream status(fmt::format("/proc/{}/status", pid));
    std::string line;
    while (std::getline(status, line))
        if (line.starts_with("VmHWM:")) return std::stoll(line.substr(6)) * 1024;
    return -1;
}

}  // namespace

TEST_CASE("hostile images: each ends ingested or rejected with words, the service stays up within its memory") {
    test::IngestFixture f;
    auto cases = corpus();
    std::vector<Upload> uploads;
    for (const auto& c : cases) uploads.push_back(f.queue(c.make(), c.filename));

    unsigned short port = static_cast<unsigned short>(test::free_port());
    // The default workers and decode memory: only what a test needs is set.
    test::Process service({test::ingest_binary(), "--catalog", f.catalog_path, "--data", f.data.string(), "--listen",
                           fmt::format("127.0.0.1:{}", port), "--socket", (f.dir.path() / "ingest.sock").string()},
                          (f.dir.path() / "ingest.log").string());
    auto settled = [&] {
        for (const auto& u : uploads) {
            auto state = f.catalog->upload(u.id)->state;
            if (state != UploadState::Ingested && state != UploadState::Rejected && state != UploadState::Failed)
                return false;
        }
        return true;
    };
    bool done = test::wait_until([&] { return !service.running() || settled(); }, 600s);
    REQUIRE_MESSAGE(service.running(), service.log());  // no crash
    REQUIRE_MESSAGE(done, service.log());
    int64_t peak = peak_rss(service.pid());
    auto metrics = test::http_get(static_cast<unsigned short>(port), "/metrics");
    service.signal(SIGTERM);
    CHECK_MESSAGE(service.wait_for(60) == 0, service.log());

    MESSAGE(fmt::format("photodrop-ingest peak RSS {} MiB over {} hostile files", peak >> 20, cases.size()));
    CHECK(peak > 0);
    CHECK(peak <= rss_budget);

    std::string data_dir = f.data.string();
    int noted = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
        const Case& c = cases[i];
        auto upload = *f.catalog->upload(uploads[i].id);
        std::optional<Photo> photo;
        if (upload.photo_id) photo = f.catalog->photo(*upload.photo_id);
        std::string words = photo ? photo->note : upload.reason;
        CAPTURE(c.filename);
        CAPTURE(to_string(upload.state));
        CAPTURE(words);
        switch (c.end) {
            case End::Clean:
                CHECK(upload.state == UploadState::Ingested);
                CHECK(words.empty());
                break;
            case End::Noted:
                CHECK(upload.state == UploadState::Ingested);
                CHECK_FALSE(words.empty());
                break;
            case End::Rejected:
                CHECK(upload.state == UploadState::Rejected);
                CHECK_FALSE(words.empty());
                break;
        }
        if (photo && !photo->note.empty()) ++noted;
        CHECK(words.find(c.words) != std::string::npos);
        CHECK(words.find(data_dir) == std::string::npos);
        CHECK(words.find("staging/") == std::string::npos);
        CHECK(words.find(f.dir.path().string()) == std::string::npos);
        if (!words.empty()) CHECK(words.back() != ' ');
    }
    CHECK(metrics.body.find(fmt::format("photodrop_ingest_photos_with_warnings_total {}\n", noted)) !=
          std::string::npos);
}
