// A full disk, for real: a small ext4 file system, loop-mounted as the data
// directory, filled up with one file and freed again. Needs root and mkfs.ext4;
// skipped otherwise.

#include "ingest/disk_space.hpp"
#include "tests/ingest/fixture.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <vector>

using namespace photodrop;
using namespace photodrop::ingest;
namespace fs = std::filesystem;

namespace {

bool can_loop_mount() { return ::geteuid() == 0 && test::run_command("command -v mkfs.ext4 >/dev/null 2>&1") == 0; }

// An ext4 file system of `mib` MiB without blocks reserved for root (the
// tests run as root), mounted at `at` until destroyed.
class LoopFileSystem {
public:
    LoopFileSystem(fs::path image, fs::path at, int mib) : image_(std::move(image)), at_(std::move(at)) {
        mounted_ = test::run_command(fmt::format("truncate -s {}M '{}' && mkfs.ext4 -q -F -m 0 '{}' && "
                                                 "mount -o loop '{}' '{}'",
                                                 mib, image_.string(), image_.string(), image_.string(),
                                                 at_.string())) == 0;
    }
    ~LoopFileSystem() {
        if (mounted_) test::run_command(fmt::format("umount '{}'", at_.string()));
        std::error_code ec;
        fs::remove(image_, ec);
    }
    bool mounted() const { return mounted_; }

private:
    fs::path image_, at_;
    bool mounted_ = false;
};

// Writes `path` until the file system says ENOSPC.
void fill(const fs::path& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    std::vector<char> chunk(1 << 20, 'x');
    for (size_t size : {size_t{1} << 20, size_t{4096}, size_t{512}})
        while (::write(fd, chunk.data(), size) > 0) {
        }
    int error = errno;
    ::fsync(fd);
    ::close(fd);
    CHECK(error == ENOSPC);
}

// Files whose names end in .tmp anywhere under `dir`.
std::vector<std::string> temporaries(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& entry : fs::recursive_directory_iterator(dir))
        if (entry.path().extension() == ".tmp") out.push_back(entry.path().string());
    return out;
}

}  // namespace

TEST_CASE("a full disk is waited out: the upload stays queued, counts no attempt, and is ingested when space returns") {
    if (!can_loop_mount()) {
        MESSAGE("skipped: needs root and mkfs.ext4 to mount a small file system");
        return;
    }
    test::IngestFixture f;
    LoopFileSystem loop(f.dir.path() / "data.ext4", f.data, 24);
    REQUIRE(loop.mounted());
    f.settings.space_retry = std::chrono::milliseconds(0);
    f.settings.retry.max_attempts = 1;  // were a full disk an attempt, the first one would fail the upload

    auto upload = f.queue(test::encode(test::photo_like(1600, 1200), ".jpg"), "IMG_0001.JPG");
    fill(f.data / "filler");
    auto space = disk_space(f.data);
    REQUIRE(space);
    CHECK(space->free_bytes < 64 * 1024);
    Config config;
    CHECK(space->free_bytes < ingest_space_floor(config));  // the service would not even claim it

    for (int round = 0; round < 2; ++round) {
        CAPTURE(round);
        auto outcome = f.ingest_next();
        CHECK(outcome.result == Result::WaitingForSpace);
        auto after = f.catalog->upload(upload.id);
        CHECK(after->state == UploadState::Queued);
        CHECK(after->attempts == 0);
        CHECK(after->reason.starts_with("waiting for disk space: "));
        CHECK(after->reason.find("No space left on device") != std::string::npos);
        CHECK(temporaries(f.data).empty());  // no partial rendition left behind
        CHECK(fs::exists(f.absolute(upload.data_path)));
        CHECK(f.catalog->queue_stats().waiting_for_space == 1);
    }
    CHECK(f.catalog->photos(f.job.id).empty());

    fs::remove(f.data / "filler");
    auto outcome = f.ingest_next();
    REQUIRE_MESSAGE(outcome.result == Result::Ingested, outcome.reason);
    auto after = f.catalog->upload(upload.id);
    CHECK(after->state == UploadState::Ingested);
    CHECK(after->reason.empty());
    auto photo = f.catalog->photo(*after->photo_id);
    CHECK(fs::is_regular_file(f.absolute(photo->original_path)));
    CHECK(fs::is_regular_file(f.absolute(photo->thumbnail_path)));
    CHECK(fs::is_regular_file(f.absolute(photo->preview_path)));
    CHECK(f.catalog->queue_stats().waiting_for_space == 0);
}
