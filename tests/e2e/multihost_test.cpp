// Past one host: two front-end hosts (two mounts of one tenant) and two ingest
// hosts (two photodrop-ingest processes) on one catalog and one data
// directory, as the README's production layout has them. Run on SQLite and,
// as test_e2e_multihost_postgresql, on a private PostgreSQL server.

#include "tests/support/deployment.hpp"
#include "tests/support/files.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

using namespace photodrop;
using namespace photodrop::test;

namespace {

constexpr uid_t photographer = photographer_uid;

// photodrop-ingest with one worker: one ingest host.
Process start_ingest(const MountedTenant& t, const std::string& name) {
    return Process({PHOTODROP_INGEST_BIN, "--catalog", t.catalog_location(), "--data", t.data_dir().string(), "--workers",
                    "1", "--socket", (t.dir() / (name + ".sock")).string(), "--listen",
                    "127.0.0.1:" + std::to_string(free_port())},
                   (t.dir() / (name + ".log")).string());
}

bool settled(UploadState s) {
    return s != UploadState::Receiving && s != UploadState::Queued && s != UploadState::Processing;
}

// Waits (at most `seconds`) until `count` uploads of the job have left the queue; returns them.
std::vector<Upload> wait_until_settled(Catalog& catalog, Id job, size_t count, int seconds) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    for (;;) {
        auto all = catalog.uploads(job);
        size_t done = std::count_if(all.begin(), all.end(), [](const Upload& u) { return settled(u.state); });
        if (all.size() >= count && done == all.size()) return all;
        if (std::chrono::steady_clock::now() > deadline) {
            FAIL_CHECK(fmt::format("{} of {} uploads settled within {} s", done, count, seconds));
            return all;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

// How many outcome lines each upload has in an ingest service's log.
std::map<Id, int> outcomes_in(const std::string& log) {
    std::map<Id, int> seen;
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);)
        if (line.starts_with("upload ") && line.find(" result=") != std::string::npos) ++seen[std::stoll(line.substr(7))];
    return seen;
}

}  // namespace

TEST_CASE("two mounts of a tenant and two ingest services on one catalog and one data directory") {
    REQUIRE_MOUNTABLE();
    MountedTenant a;
    MountedTenant b(a, "b");
    a.mount();
    b.mount();
    auto ingest_one = start_ingest(a, "ingest-1");
    auto ingest_two = start_ingest(a, "ingest-2");

    TempDir local;
    auto base = make_jpeg(local.path(), "base.jpg", 640, 480);
    // 200 uploads, half through each mount: 150 photos, and 50 files whose
    // bytes are those of an earlier one (some through the same mount, some through the other).
    constexpr int files = 200, distinct = 150;
    std::vector<std::string> content(files);
    for (int i = 0; i < files; ++i) content[i] = i < distinct ? jpeg_variant(base, i) : content[(i - distinct) * 3];
    auto name_of = [](int i) { return fmt::format("IMG_{:04}.jpg", i); };
    std::atomic<int> failed{0};
    auto upload_through = [&](MountedTenant& mount, int first) {
        AsUser as(photographer, photographer);
        for (int i = first; i < files; i += 2)
            if (write_file(mount.path("job00002/" + name_of(i)), content[i]) != 0) ++failed;
    };
    {
        std::jthread through_a(upload_through, std::ref(a), 0);
        std::jthread through_b(upload_through, std::ref(b), 1);
    }
    REQUIRE(failed == 0);

    auto uploads = wait_until_settled(a.catalog(), a.flat_job.id, files, 180);
    REQUIRE(uploads.size() == files);
    std::map<std::string, Upload> by_name;
    for (const auto& u : uploads) by_name[u.filename] = u;
    std::set<Id> photo_ids;
    int duplicates = 0;
    for (int i = 0; i < files; ++i) {
        CAPTURE(name_of(i));
        const auto& u = by_name.at(name_of(i));
        CHECK(u.state == UploadState::Ingested);
        CHECK(u.attempts == 1);  // claimed once, by one service
        REQUIRE(u.photo_id);
        if (u.duplicate) ++duplicates;
        else photo_ids.insert(*u.photo_id);
        // The photo it became, or the one it duplicates, holds exactly its bytes.
        auto photo = a.catalog().photo(*u.photo_id);
        REQUIRE(photo);
        CHECK(sha256(read_file(a.data_dir() / photo->original_path)) == sha256(content[i]));
    }
    // Identical content is one photo, and a duplicate of it for each other upload.
    CHECK(photo_ids.size() == distinct);
    CHECK(duplicates == files - distinct);
    CHECK(a.catalog().photos(a.flat_job.id).size() == distinct);

    // Each upload has one outcome, from one of the two services, and both took a share.
    auto one = outcomes_in(ingest_one.log()), two = outcomes_in(ingest_two.log());
    CHECK(one.size() > 0);
    CHECK(two.size() > 0);
    for (const auto& u : uploads) {
        CAPTURE(u.filename);
        CHECK(one[u.id] + two[u.id] == 1);
    }

    // A photographer whose front-end host dies part way through a file
    // reconnects through the other and continues it from what is kept.
    auto big = jpeg_variant(make_jpeg(local.path(), "big.jpg", 3000, 2000), 1000);
    auto resumed = a.path("job00002/resumed.jpg");
    {
        AsUser as(photographer, photographer);
        int fd = ::open(resumed.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        REQUIRE(fd >= 0);
        size_t half = big.size() / 2;
        CHECK(::write(fd, big.data(), half) == static_cast<ssize_t>(half));
        CHECK(::fsync(fd) == 0);
        a.kill_daemon();  // the handle dies with host A
        ::close(fd);
    }
    {
        AsUser as(photographer, photographer);
        auto there = b.path("job00002/resumed.jpg");
        struct stat st {};
        REQUIRE(::stat(there.c_str(), &st) == 0);
        CHECK(st.st_size > 0);
        CHECK(st.st_size <= static_cast<off_t>(big.size() / 2));
        // As `reput` does: the rest, at the offset the server shows.
        REQUIRE(write_file(there, big.substr(st.st_size), O_WRONLY, st.st_size) == 0);
    }
    auto all = wait_until_settled(b.catalog(), b.flat_job.id, files + 1, 60);
    auto named = uploads_named(b.catalog(), b.flat_job.id, "resumed.jpg");
    REQUIRE(named.size() == 1);
    CHECK(named[0].state == UploadState::Ingested);
    REQUIRE(named[0].photo_id);
    auto photo = b.catalog().photo(*named[0].photo_id);
    REQUIRE(photo);
    CHECK(sha256(read_file(b.data_dir() / photo->original_path)) == sha256(big));

    ingest_one.signal(SIGTERM);
    ingest_two.signal(SIGTERM);
    CHECK(ingest_one.wait_for(30) == 0);
    CHECK(ingest_two.wait_for(30) == 0);
}

TEST_CASE("a file being written through one host's mount cannot be written through another's") {
    REQUIRE_MOUNTABLE();
    MountedTenant a;
    MountedTenant b(a, "b");
    a.mount();
    b.mount();
    std::optional<AsUser> as(std::in_place, photographer, photographer);
    auto first = "\xFF\xD8\xFF" + some_bytes(300'000, 1), second = "\xFF\xD8\xFF" + some_bytes(200'000, 2);
    auto on_a = a.path("job00002/shared.jpg"), on_b = b.path("job00002/shared.jpg");

    int writer = ::open(on_a.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    REQUIRE(writer >= 0);
    REQUIRE(::write(writer, first.data(), 1000) == 1000);
    REQUIRE(::fsync(writer) == 0);
    // Whether B truncates, continues or overwrites it: refused while A writes.
    CHECK(::truncate(on_b.c_str(), 1) != 0);
    CHECK(errno == EACCES);
    for (int flags : {O_WRONLY, O_WRONLY | O_TRUNC, O_WRONLY | O_APPEND}) {
        CAPTURE(flags);
        int other = ::open(on_b.c_str(), flags | O_CLOEXEC);
        CHECK(other < 0);
        CHECK(errno == EACCES);
        if (other >= 0) ::close(other);
    }
    REQUIRE(::write(writer, first.data() + 1000, first.size() - 1000) == static_cast<ssize_t>(first.size() - 1000));
    REQUIRE(::close(writer) == 0);
    as.reset();
    // What A wrote is kept whole: nothing of B's attempts reached it.
    auto kept = uploads_named(a.catalog(), a.flat_job.id, "shared.jpg");
    REQUIRE(kept.size() == 1);
    CHECK(kept[0].state == UploadState::Queued);
    CHECK(kept[0].size == static_cast<int64_t>(first.size()));
    CHECK(sha256(read_file(a.data_dir() / kept[0].data_path)) == sha256(first));

    // Once A has let go of it, B may overwrite it. The kernel sends A's
    // RELEASE, which ends its claim, just after close(2) returns.
    as.emplace(photographer, photographer);
    CHECK(within(2, [&] { return write_file(on_b, second) == 0; }));
    as.reset();
    auto now = uploads_named(b.catalog(), b.flat_job.id, "shared.jpg");
    REQUIRE(now.size() == 1);
    CHECK(now[0].state == UploadState::Queued);
    CHECK(now[0].size == static_cast<int64_t>(second.size()));
    CHECK(sha256(read_file(a.data_dir() / now[0].data_path)) == sha256(second));
}
