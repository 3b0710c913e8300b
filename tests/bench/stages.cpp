// Where the CPU time of filing a photo goes: each step photodrop-ingest takes
// (ingest/image.cpp, ingest/codes.cpp, ingest/content_hash.cpp), run alone on
// one thread over the given photos, and the steps it took before issue 15
// (the whole decode libvips' thumbnail makes, the Lanczos thumbnail), with
// CPU-seconds per photo for each. Built and run by `tests/bench/profile ingest`.
#include "ingest/codes.hpp"
#include "ingest/content_hash.hpp"

#include <fmt/format.h>
#include <vips/vips8>

#include <ctime>
#include <map>
#include <string>
#include <vector>

using vips::VImage;

namespace {
double cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

std::map<std::string, double> spent;

template <typename F>
auto timed(const std::string& step, F&& f) {
    double start = cpu_seconds();
    auto out = f();
    spent[step] += cpu_seconds() - start;
    return out;
}

size_t encoded(const VImage& image) {
    void* data = nullptr;
    size_t size = 0;
    image.write_to_buffer(".jpg", &data, &size,
                          VImage::option()->set("Q", 85)->set("strip", true)->set("optimize_coding", true));
    g_free(data);
    return size;
}
}  // namespace

int main(int argc, char** argv) {
    if (VIPS_INIT(argv[0]) != 0 || argc < 2) {
        fmt::print(stderr, "usage: {} PHOTO.jpg...\n", argv[0]);
        return 2;
    }
    vips_concurrency_set(1);
    vips_cache_set_max(0);
    auto fit = [](int edge) { return VImage::option()->set("height", edge)->set("size", VIPS_SIZE_DOWN); };
    for (int i = 1; i < argc; ++i) {
        const char* path = argv[i];
        timed("now: content hash (SHA-256)", [&] { return photodrop::ingest::sha256_file(path); });
        timed("now: header and EXIF", [&] { return VImage::new_from_file(path).width(); });
        VImage larger = timed("now: decode at 1/2 (libjpeg DCT scaling)", [&] {
            return VImage::new_from_file(path, VImage::option()->set("shrink", 2)->set("autorotate", true)).copy_memory();
        });
        VImage preview = timed("now: preview, Lanczos 3 from the 1/2 decode",
                               [&] { return larger.thumbnail_image(1600, fit(1600)).copy_memory(); });
        VImage thumbnail = timed("now: thumbnail, triangle from the preview", [&] {
            return preview.resize(400.0 / std::max(preview.width(), preview.height()),
                                  VImage::option()->set("kernel", VIPS_KERNEL_LINEAR))
                .copy_memory();
        });
        timed("now: flatness (statistics of the thumbnail)", [&] { return thumbnail.stats().getpoint(5, 1)[0]; });
        timed("before: flatness (statistics of the preview)", [&] { return preview.stats().getpoint(5, 1)[0]; });
        timed("now: encode preview", [&] { return encoded(preview); });
        timed("now: encode thumbnail", [&] { return encoded(thumbnail); });
        timed("now: code, preview read whole", [&] { return photodrop::ingest::find_code(preview, preview).has_value(); });
        timed("now: code, preview and the spots of the 1/2 decode",
              [&] { return photodrop::ingest::find_code(preview, larger).has_value(); });
        timed("before: preview by thumbnail() (whole decode, Lanczos 3)",
              [&] { return VImage::thumbnail(path, 1600, fit(1600)).copy_memory().width(); });
        timed("before: thumbnail, Lanczos 3 from the preview",
              [&] { return preview.thumbnail_image(400, fit(400)).copy_memory().width(); });
    }
    for (const auto& [step, seconds] : spent) fmt::print("{:<60} {:.4f} CPU-s/photo\n", step, seconds / (argc - 1));
}
