// A tenant's quota through a real mount: what statfs (df, an SFTP client's
// free space) shows, and uploads refused at create or cut at the quota.

#include "tests/support/files.hpp"
#include "tests/support/mount.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

using namespace photodrop;
using namespace photodrop::test;

namespace {

constexpr uid_t photographer = photographer_uid;
constexpr int64_t MiB = int64_t{1} << 20;

struct statvfs statvfs_of(const std::filesystem::path& p) {
    struct statvfs st {};
    REQUIRE(::statvfs(p.c_str(), &st) == 0);
    return st;
}

// What df shows of the mount: its size and what is available, in bytes.
struct Df {
    int64_t size = 0, available = 0, free = 0;
};
Df df(const std::filesystem::path& p) {
    auto st = statvfs_of(p);
    auto unit = static_cast<int64_t>(st.f_frsize);
    return {static_cast<int64_t>(st.f_blocks) * unit, static_cast<int64_t>(st.f_bavail) * unit,
            static_cast<int64_t>(st.f_bfree) * unit};
}

// Whether `a` and `b` differ by less than `slack`.
bool near(int64_t a, int64_t b, int64_t slack) { return std::llabs(a - b) < slack; }

size_t staging_files(MountedTenant& m) {
    size_t n = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(m.staging_dir())) ++n;
    return n;
}

}  // namespace

TEST_CASE("statfs shows the disk without a quota, and the quota and what is left of it with one") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount({"PHOTODROP_FREE_SPACE_RESERVE=1M"});
    auto unit = static_cast<int64_t>(statvfs_of(m.data_dir()).f_frsize);
    auto host = [&] { return df(m.data_dir()); };
    CHECK(df(m.path()).size == host().size);

    {
        AsUser as(photographer, photographer);
        REQUIRE(write_file(m.path("job00002/a.jpg"), some_bytes(3 * MiB)) == 0);
    }
    m.catalog().set_tenant_quota(m.tenant.id, 10 * MiB);
    CHECK(within(1.5, [&] { return near(df(m.path()).size, 10 * MiB, unit); }));
    auto quota = df(m.path());
    CHECK(near(quota.available, 7 * MiB, unit));
    CHECK(quota.free == quota.available);

    // A quota larger than the disk: what is left is what the disk has, less the reserve.
    m.catalog().set_tenant_quota(m.tenant.id, host().size * 4);
    CHECK(within(1.5, [&] { return near(df(m.path()).size, host().size * 4, unit); }));
    CHECK(near(df(m.path()).available, host().available - 1 * MiB, 8 * MiB));
    CHECK(df(m.path()).available <= host().available);

    // Over the quota: nothing is left, never less.
    m.catalog().set_tenant_quota(m.tenant.id, 1 * MiB);
    CHECK(within(1.5, [&] { return near(df(m.path()).size, 1 * MiB, unit); }));
    CHECK(df(m.path()).available == 0);
    CHECK(df(m.path()).free == 0);

    m.catalog().set_tenant_quota(m.tenant.id, std::nullopt);
    CHECK(within(1.5, [&] { return df(m.path()).size == host().size; }));
}

TEST_CASE("at its quota a tenant's new upload is refused at create, with the reason, and nothing is stored") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.catalog().set_tenant_quota(m.tenant.id, 1 * MiB);
    m.mount();
    AsUser as(photographer, photographer);
    // Exactly the quota is accepted.
    auto bytes = some_bytes(1 * MiB);
    REQUIRE(write_file(m.path("job00002/full.jpg"), bytes) == 0);
    auto before = staging_files(m);

    CHECK(write_file(m.path("job00002/over.jpg"), some_bytes(1000, 2)) == EDQUOT);
    CHECK(list(m.path("job00002")) == std::vector<std::string>{"full.jpg"});
    auto refused = uploads_named(m.catalog(), m.flat_job.id, "over.jpg");
    REQUIRE(refused.size() == 1);
    CHECK(refused[0].state == UploadState::Rejected);
    CHECK(refused[0].reason == "the studio's storage quota is used up (1.0 MiB of 1.0 MiB): "
                               "delete photos or ask for a larger quota");
    CHECK(refused[0].data_path.empty());
    CHECK(m.log().find("over.jpg refused: the studio's storage quota is used up") != std::string::npos);
    CHECK(staging_files(m) == before);

    // Opening the full upload again to write more is refused too; reading it is not.
    CHECK(write_file(m.path("job00002/full.jpg"), "more", O_WRONLY | O_APPEND) == EDQUOT);
    CHECK(read_file(m.path("job00002/full.jpg")) == bytes);
    auto full = uploads_named(m.catalog(), m.flat_job.id, "full.jpg");
    REQUIRE(full.size() == 1);
    CHECK(full[0].state == UploadState::Queued);
    // Junk needs no room.
    CHECK(write_file(m.path("job00002/.DS_Store"), some_bytes(100)) == 0);
}

TEST_CASE("a quota set, lowered, raised and cleared while mounted takes effect each time") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    auto unit = static_cast<int64_t>(statvfs_of(m.data_dir()).f_frsize);
    auto write_as_photographer = [&](const std::string& name) {
        AsUser as(photographer, photographer);
        return write_file(m.path("job00002/" + name), some_bytes(600'000, static_cast<uint32_t>(name.size())));
    };
    REQUIRE(write_as_photographer("a.jpg") == 0);
    for (int round = 0; round < 2; ++round) {
        CAPTURE(round);
        auto suffix = std::to_string(round);
        int64_t use = 600'000 * (1 + 2 * round);
        m.catalog().set_tenant_quota(m.tenant.id, use - 1000);
        REQUIRE(within(1.5, [&] { return near(df(m.path()).size, use - 1000, unit); }));
        CHECK(write_as_photographer("refused" + suffix + ".jpg") == EDQUOT);

        m.catalog().set_tenant_quota(m.tenant.id, use + 700'000);
        REQUIRE(within(1.5, [&] { return near(df(m.path()).size, use + 700'000, unit); }));
        CHECK(write_as_photographer("raised" + suffix + ".jpg") == 0);

        m.catalog().set_tenant_quota(m.tenant.id, std::nullopt);
        REQUIRE(within(1.5, [&] { return df(m.path()).size == df(m.data_dir()).size; }));
        CHECK(write_as_photographer("cleared" + suffix + ".jpg") == 0);
    }
    AsUser as(photographer, photographer);
    CHECK(list(m.path("job00002")) ==
          std::vector<std::string>{"a.jpg", "cleared0.jpg", "cleared1.jpg", "raised0.jpg", "raised1.jpg"});
}

TEST_CASE("an upload that crosses the quota fails at its close, keeps the bytes before, and resumes once there is room") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.catalog().set_tenant_quota(m.tenant.id, 1 * MiB);
    m.mount();
    auto bytes = some_bytes(3 * MiB, 7);
    {
        AsUser as(photographer, photographer);
        CHECK(write_file(m.path("job00002/big.jpg"), bytes) == EDQUOT);
    }
    auto u = uploads_named(m.catalog(), m.flat_job.id, "big.jpg");
    REQUIRE(u.size() == 1);
    CHECK(u[0].state == UploadState::Receiving);
    auto stored = read_file(m.data_dir() / u[0].data_path);
    MESSAGE("kept " << stored.size() << " bytes of " << bytes.size());
    CHECK(static_cast<int64_t>(stored.size()) <= 1 * MiB);
    CHECK(stored == bytes.substr(0, stored.size()));
    CHECK(u[0].size == static_cast<int64_t>(stored.size()));
    CHECK(m.log().find("not received: Disk quota exceeded") != std::string::npos);
    {
        AsUser as(photographer, photographer);
        struct stat st {};
        REQUIRE(::stat(m.path("job00002/big.jpg").c_str(), &st) == 0);
        CHECK(st.st_size == static_cast<off_t>(stored.size()));
    }

    // More room: the client resumes from what is there, and the upload ends whole.
    m.catalog().set_tenant_quota(m.tenant.id, 10 * MiB);
    REQUIRE(within(1.5, [&] { return df(m.path()).size > 5 * MiB; }));
    {
        AsUser as(photographer, photographer);
        CHECK(write_file(m.path("job00002/big.jpg"), bytes.substr(stored.size()), O_WRONLY,
                         static_cast<off_t>(stored.size())) == 0);
    }
    u = uploads_named(m.catalog(), m.flat_job.id, "big.jpg");
    REQUIRE(u.size() == 1);
    CHECK(u[0].state == UploadState::Queued);
    CHECK(sha256(read_file(m.data_dir() / u[0].data_path)) == sha256(bytes));
}

TEST_CASE("near its quota every upload a client is told is done is whole, and every other one fails and is not queued") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.catalog().set_tenant_quota(m.tenant.id, 2 * MiB);
    m.mount();
    int acknowledged = 0, failed = 0;
    for (int i = 0; i < 8; ++i) {
        auto name = "f" + std::to_string(i) + ".jpg";
        CAPTURE(name);
        auto bytes = some_bytes(400'000 + static_cast<size_t>(i) * 37'000, static_cast<uint32_t>(i));
        int told;
        {
            AsUser as(photographer, photographer);
            told = write_file(m.path("job00002/" + name), bytes);
        }
        auto u = uploads_named(m.catalog(), m.flat_job.id, name);
        REQUIRE(u.size() == 1);
        if (told == 0) {
            ++acknowledged;
            CHECK(u[0].state == UploadState::Queued);
            CHECK(sha256(read_file(m.data_dir() / u[0].data_path)) == sha256(bytes));
        } else {
            ++failed;
            CHECK(told == EDQUOT);
            CHECK(u[0].state != UploadState::Queued);
            if (u[0].state == UploadState::Receiving) {
                auto stored = read_file(m.data_dir() / u[0].data_path);
                CHECK(stored == bytes.substr(0, stored.size()));
            } else {
                CHECK(u[0].state == UploadState::Rejected);
            }
        }
    }
    MESSAGE("acknowledged " << acknowledged << ", failed " << failed);
    CHECK(acknowledged == 4);  // 400, 437, 474 and 511 thousand bytes: 1.8 MB of the 2 MiB
    CHECK(failed == 4);
    CHECK(m.catalog().tenant_use(m.tenant.id) <= 2 * MiB);
}
