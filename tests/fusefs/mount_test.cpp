// photodrop-fs through a real mount, acting as a photographer's uid.

#include "tests/support/files.hpp"
#include "tests/support/mount.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

using namespace photodrop;
using namespace photodrop::test;

namespace {

constexpr uid_t photographer = 1234;

#define REQUIRE_MOUNTABLE()                                                      \
    if (!can_mount()) {                                                          \
        MESSAGE("SKIPPED: mounting needs root and /dev/fuse, and has neither"); \
        return;                                                                  \
    }

// The datagrams photodrop-fs sends to wake the ingest service.
class WakeListener {
public:
    explicit WakeListener(const std::filesystem::path& path) : fd_(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    }
    ~WakeListener() { ::close(fd_); }
    // Every upload id received so far.
    std::vector<Id> received() {
        std::vector<Id> ids;
        char buf[64];
        for (ssize_t n; (n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT)) > 0;) ids.push_back(std::stoll(std::string(buf, static_cast<size_t>(n))));
        return ids;
    }

private:
    int fd_;
};

struct stat stat_of(const std::filesystem::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st;
}

}  // namespace

TEST_CASE("the root belongs to root, lists the planned jobs and refuses every change") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    auto root = stat_of(m.path());
    CHECK(root.st_uid == 0);
    CHECK((root.st_mode & 07777) == 0755);
    AsUser as(photographer, photographer);
    CHECK(list(m.path()) == std::vector<std::string>{"job00001", "job00002"});
    CHECK(make_dir(m.path("newjob")) == EACCES);
    CHECK(write_file(m.path("loose.jpg"), "x") == EACCES);
    CHECK(::rename(m.path("job00001").c_str(), m.path("renamed").c_str()) == -1);
    CHECK(::rmdir(m.path("job00001").c_str()) == -1);
    CHECK(m.log().find("refused: new folders cannot be made at the top") != std::string::npos);
}

TEST_CASE("albums and their sections are made with mkdir; deeper folders are refused") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    AsUser as(photographer, photographer);
    CHECK(make_dir(m.path("job00001/Class 1A")) == 0);
    CHECK(make_dir(m.path("job00001/Class 1A/Group")) == 0);
    CHECK(make_dir(m.path("job00001/Class 1A/individuals")) == 0);
    CHECK(list(m.path("job00001/Class 1A")) == std::vector<std::string>{"group", "individuals"});
    CHECK(make_dir(m.path("job00001/Class 1A/extras")) == EACCES);
    CHECK(make_dir(m.path("job00001/Class 1A/group/deeper")) == EACCES);
    CHECK(make_dir(m.path("job00002/folder")) == EACCES);  // a flat job
    CHECK(make_dir(m.path("job00001/Class 1A")) == EEXIST);
    CHECK(m.log().find("an album holds only the folders 'group' and 'individuals', not 'extras'") != std::string::npos);

    // Files land in the section they were put in.
    CHECK(write_file(m.path("job00001/Class 1A/group/g.jpg"), some_bytes(5000)) == 0);
    CHECK(write_file(m.path("job00001/Class 1A/individuals/i.jpg"), some_bytes(5000)) == 0);
    CHECK(write_file(m.path("job00001/Class 1A/a.jpg"), some_bytes(5000)) == 0);
    auto g = uploads_named(m.catalog(), m.albums_job.id, "g.jpg");
    REQUIRE(g.size() == 1);
    CHECK(g[0].folder.section == Section::Group);
    auto i = uploads_named(m.catalog(), m.albums_job.id, "i.jpg");
    REQUIRE(i.size() == 1);
    CHECK(i[0].folder.section == Section::Individuals);
    auto a = uploads_named(m.catalog(), m.albums_job.id, "a.jpg");
    REQUIRE(a.size() == 1);
    CHECK(a[0].folder.section == Section::Individuals);
    CHECK(a[0].uid == photographer);
    CHECK(list(m.path("job00001/Class 1A")) == std::vector<std::string>{"a.jpg", "group", "individuals"});
    CHECK(::rmdir(m.path("job00001/Class 1A/group").c_str()) == -1);  // not empty
    CHECK(errno == ENOTEMPTY);
}

TEST_CASE("loose files in an albums job, archives and other files are refused with their reasons") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    AsUser as(photographer, photographer);
    REQUIRE(make_dir(m.path("job00001/A")) == 0);
    CHECK(write_file(m.path("job00001/loose.jpg"), "x") == EACCES);
    CHECK(write_file(m.path("job00001/A/x.zip"), "PK\x03\x04") == EACCES);
    CHECK(write_file(m.path("job00001/A/notes.txt"), "hello") == EACCES);
    CHECK(list(m.path("job00001/A")).empty());
    auto rejected = m.catalog().uploads(m.albums_job.id, UploadState::Rejected);
    REQUIRE(rejected.size() == 3);
    CHECK(rejected[0].reason.find("organised in albums") != std::string::npos);
    CHECK(rejected[1].reason.find("archives (.zip) are not accepted") != std::string::npos);
    CHECK(rejected[2].reason.find("not .txt") != std::string::npos);
}

TEST_CASE("a ZIP archive named x.jpg is refused by its content and none of its bytes are kept") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    AsUser as(photographer, photographer);
    REQUIRE(make_dir(m.path("job00001/A")) == 0);
    std::string zip = "PK\x03\x04" + some_bytes(200000).substr(4);
    CHECK(write_file(m.path("job00001/A/x.jpg"), zip) != 0);
    CHECK(list(m.path("job00001/A")).empty());
    auto rejected = m.catalog().uploads(m.albums_job.id, UploadState::Rejected);
    REQUIRE(rejected.size() == 1);
    CHECK(rejected[0].reason.find("ZIP archive") != std::string::npos);
    uintmax_t kept = 0;
    for (auto& e : std::filesystem::directory_iterator(m.staging_dir())) kept += e.file_size();
    CHECK(kept == 0);
}

TEST_CASE("junk files are accepted and thrown away") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    AsUser as(photographer, photographer);
    REQUIRE(make_dir(m.path("job00001/A")) == 0);
    CHECK(write_file(m.path("job00001/A/.DS_Store"), some_bytes(6148)) == 0);
    CHECK(write_file(m.path("job00001/A/Thumbs.db"), some_bytes(100)) == 0);
    CHECK(list(m.path("job00001/A")).empty());
    CHECK(m.catalog().uploads(m.albums_job.id, UploadState::Discarded).size() == 2);
}

TEST_CASE("a WinSCP .filepart becomes queued exactly once, when renamed to its real name") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    WakeListener wake(m.wake_socket());
    m.mount();
    AsUser as(photographer, photographer);
    REQUIRE(make_dir(m.path("job00001/A")) == 0);
    auto bytes = some_bytes(300000);
    REQUIRE(write_file(m.path("job00001/A/X.jpg.filepart"), bytes) == 0);
    auto temp = uploads_named(m.catalog(), m.albums_job.id, "X.jpg.filepart");
    REQUIRE(temp.size() == 1);
    CHECK(temp[0].state == UploadState::Receiving);
    CHECK(wake.received().empty());
    REQUIRE(::rename(m.path("job00001/A/X.jpg.filepart").c_str(), m.path("job00001/A/X.jpg").c_str()) == 0);
    auto real = uploads_named(m.catalog(), m.albums_job.id, "X.jpg");
    REQUIRE(real.size() == 1);
    CHECK(real[0].id == temp[0].id);
    CHECK(real[0].state == UploadState::Queued);
    CHECK(real[0].size == 300000);
    CHECK(read_file(m.path("job00001/A/X.jpg")) == bytes);
    CHECK(list(m.path("job00001/A")) == std::vector<std::string>{"X.jpg"});
    // Renaming once more does not queue it again.
    REQUIRE(::rename(m.path("job00001/A/X.jpg").c_str(), m.path("job00001/A/Y.jpg").c_str()) == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(wake.received() == std::vector<Id>{real[0].id});
    // The rules apply to the new name.
    CHECK(::rename(m.path("job00001/A/Y.jpg").c_str(), m.path("job00001/A/Y.zip").c_str()) == -1);
    CHECK(errno == EACCES);
}

TEST_CASE("an interrupted upload resumed at its offset ends byte-identical") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    AsUser as(photographer, photographer);
    auto bytes = some_bytes(3 << 20, 7);
    auto half = bytes.size() / 2 + 12345;
    REQUIRE(write_file(m.path("job00002/r.jpg"), bytes.substr(0, half)) == 0);
    CHECK(stat_of(m.path("job00002/r.jpg")).st_size == static_cast<off_t>(half));
    REQUIRE(write_file(m.path("job00002/r.jpg"), bytes.substr(half), O_WRONLY, static_cast<off_t>(half)) == 0);
    CHECK(sha256(read_file(m.path("job00002/r.jpg"))) == sha256(bytes));
    auto u = uploads_named(m.catalog(), m.flat_job.id, "r.jpg");
    REQUIRE(u.size() == 1);
    CHECK(u[0].state == UploadState::Queued);
    CHECK(u[0].size == static_cast<int64_t>(bytes.size()));
    // What is kept on disk, not only what the kernel's cache of the mount shows: whole
    // pages went to disk directly, the odd ends through the page cache.
    {
        AsUser root(0, 0);
        CHECK(sha256(read_file(m.data_dir() / u[0].data_path)) == sha256(bytes));
    }
    // Appending works the same way.
    REQUIRE(write_file(m.path("job00002/r.jpg"), "tail", O_WRONLY | O_APPEND) == 0);
    CHECK(read_file(m.path("job00002/r.jpg")) == bytes + "tail");
}

TEST_CASE("uploads spliced from libfuse's pipe are kept byte for byte") {
    REQUIRE_MOUNTABLE();
    // libfuse splices WRITEs only when its pipe may grow to 1 MiB + 4 KiB, which
    // the packaged sysctl setting allows; put back whatever this machine had.
    struct PipeLimit {
        std::string before = read_file("/proc/sys/fs/pipe-max-size");
        PipeLimit() { write_file("/proc/sys/fs/pipe-max-size", "2097152\n"); }
        ~PipeLimit() { write_file("/proc/sys/fs/pipe-max-size", before); }
    } limit;
    MountedTenant m;
    m.mount();
    AsUser as(photographer, photographer);
    auto bytes = some_bytes((5 << 20) + 4321, 11);
    REQUIRE(write_file(m.path("job00002/s.jpg"), bytes) == 0);
    auto u = uploads_named(m.catalog(), m.flat_job.id, "s.jpg");
    REQUIRE(u.size() == 1);
    CHECK(u[0].state == UploadState::Queued);
    AsUser root(0, 0);
    CHECK(sha256(read_file(m.data_dir() / u[0].data_path)) == sha256(bytes));
}

TEST_CASE("an overwrite with truncation replaces the content") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    AsUser as(photographer, photographer);
    REQUIRE(write_file(m.path("job00002/o.jpg"), some_bytes(100000, 1)) == 0);
    auto second = some_bytes(10000, 2);
    REQUIRE(write_file(m.path("job00002/o.jpg"), second) == 0);
    CHECK(stat_of(m.path("job00002/o.jpg")).st_size == 10000);
    CHECK(read_file(m.path("job00002/o.jpg")) == second);
    CHECK(uploads_named(m.catalog(), m.flat_job.id, "o.jpg").size() == 1);
}

TEST_CASE("deleting a queued upload cancels it") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    AsUser as(photographer, photographer);
    REQUIRE(write_file(m.path("job00002/d.jpg"), some_bytes(1000)) == 0);
    REQUIRE(::unlink(m.path("job00002/d.jpg").c_str()) == 0);
    CHECK(list(m.path("job00002")).empty());
    auto u = uploads_named(m.catalog(), m.flat_job.id, "d.jpg");
    REQUIRE(u.size() == 1);
    CHECK(u[0].state == UploadState::Deleted);
    CHECK(std::filesystem::exists(m.data_dir() / u[0].data_path));  // nothing is destroyed
}

TEST_CASE("a job that leaves planned disappears from the listing without a remount") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    AsUser as(photographer, photographer);
    REQUIRE(list(m.path()).size() == 2);
    m.catalog().set_job_status(m.albums_job.id, JobStatus::Selling);
    CHECK(list(m.path()) == std::vector<std::string>{"job00002"});
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    CHECK(make_dir(m.path("job00001/late")) != 0);
    m.catalog().set_job_status(m.albums_job.id, JobStatus::Planned);
    CHECK(list(m.path()).size() == 2);
}

TEST_CASE("links, device nodes and chown are refused; chmod and timestamps are kept") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    AsUser as(photographer, photographer);
    REQUIRE(write_file(m.path("job00002/t.jpg"), some_bytes(1000)) == 0);
    CHECK(::symlink("t.jpg", m.path("job00002/s.jpg").c_str()) == -1);
    CHECK(errno == EPERM);
    CHECK(::link(m.path("job00002/t.jpg").c_str(), m.path("job00002/h.jpg").c_str()) == -1);
    CHECK(errno == EOPNOTSUPP);
    CHECK(::mknod(m.path("job00002/f.jpg").c_str(), S_IFIFO | 0644, 0) == -1);
    CHECK(errno == EPERM);
    CHECK(::chown(m.path("job00002/t.jpg").c_str(), 0, 0) == -1);

    CHECK(run({"touch", "-d", "2021-06-15 10:20:30", m.path("job00002/t.jpg").string()}) == 0);
    CHECK(::chmod(m.path("job00002/t.jpg").c_str(), 0600) == 0);
    auto st = stat_of(m.path("job00002/t.jpg"));
    struct tm when {};
    localtime_r(&st.st_mtime, &when);
    CHECK(when.tm_year + 1900 == 2021);
    CHECK(when.tm_mon == 5);
    CHECK(when.tm_mday == 15);
    CHECK((st.st_mode & 0777) == 0600);
    // Kept in the catalog too, not only in the kernel's cache.
    auto recorded = uploads_named(m.catalog(), m.flat_job.id, "t.jpg")[0];
    CHECK(recorded.mtime_ns / 1'000'000'000 == st.st_mtime);
    CHECK(recorded.mode == 0600);
    CHECK(recorded.state == UploadState::Queued);
}

TEST_CASE("statfs reports the free space of the data directory") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    struct statvfs mounted {}, data {};
    REQUIRE(::statvfs(m.path().c_str(), &mounted) == 0);
    REQUIRE(::statvfs(m.data_dir().c_str(), &data) == 0);
    CHECK(mounted.f_blocks * mounted.f_frsize == data.f_blocks * data.f_frsize);
}

TEST_CASE("after kill -9 and a remount every closed upload is there, queued, with its size") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    {
        AsUser as(photographer, photographer);
        for (int i = 0; i < 50; ++i)
            REQUIRE(write_file(m.path("job00002/p" + std::to_string(i) + ".jpg"), some_bytes(20000 + i * 1000, i)) == 0);
    }
    m.kill_daemon();
    m.mount();
    AsUser as(photographer, photographer);
    auto names = list(m.path("job00002"));
    CHECK(names.size() == 50);
    for (int i = 0; i < 50; ++i) {
        auto p = m.path("job00002/p" + std::to_string(i) + ".jpg");
        CAPTURE(p);
        CHECK(stat_of(p).st_size == 20000 + i * 1000);
        CHECK(read_file(p) == some_bytes(20000 + i * 1000, i));
    }
    CHECK(m.catalog().uploads(m.flat_job.id, UploadState::Queued).size() == 50);
}

TEST_CASE("the kernel writes an upload back to the mount after 8 MiB, so that close has little left to write") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    struct stat st = stat_of(m.path());
    auto knob = std::filesystem::path("/sys/class/bdi") /
                (std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev))) / "max_bytes";
    if (!std::filesystem::exists(knob)) {
        MESSAGE("SKIPPED: this kernel has no per-mount write-back limit (", knob.string(), ")");
        return;
    }
    // The kernel keeps the limit as a fraction of its dirty memory, so it reads back a little under.
    auto limit = std::stoull(read_file(knob));
    CHECK(limit <= (8u << 20));
    CHECK(limit > (7u << 20));
}

TEST_CASE("SIGTERM unmounts cleanly") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    CHECK(m.terminate() == 0);
    CHECK_FALSE(is_mounted(m.path()));
}
