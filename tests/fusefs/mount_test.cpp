// photodrop-fs through a real mount, acting as a photographer's uid.

#include "tests/support/files.hpp"
#include "tests/support/mount.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>
#include <utility>

using namespace photodrop;
using namespace photodrop::test;

namespace {

constexpr uid_t photographer = photographer_uid;

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

// The kernel sends RELEASE after close(2) has returned, and only once the
// last descriptor of the file is closed: a client's rename can come between
// the commit of a temporary name and the writer's release. Whichever of the
// two comes second queues the upload.
TEST_CASE("a temporary name renamed to its real name while its writer still holds it is queued when it lets go") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    WakeListener wake(m.wake_socket());
    m.mount();
    AsUser as(photographer, photographer);
    auto temp = m.path("job00002/Y.jpg.filepart"), real = m.path("job00002/Y.jpg");
    auto bytes = some_bytes(200000, 7);
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    int held = ::dup(fd);  // keeps the file open past the first close: no RELEASE yet
    REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
    REQUIRE(::close(fd) == 0);  // FLUSH: committed, receiving under its temporary name
    REQUIRE(::rename(temp.c_str(), real.c_str()) == 0);
    auto renamed = uploads_named(m.catalog(), m.flat_job.id, "Y.jpg");
    REQUIRE(renamed.size() == 1);
    CHECK(renamed[0].state == UploadState::Receiving);  // its writer still holds it
    REQUIRE(::close(held) == 0);  // the last descriptor: RELEASE
    CHECK(within(2, [&] { return uploads_named(m.catalog(), m.flat_job.id, "Y.jpg")[0].state == UploadState::Queued; }));
    CHECK(uploads_named(m.catalog(), m.flat_job.id, "Y.jpg")[0].size == 200000);
    CHECK(within(1, [&] { return wake.received() == std::vector<Id>{renamed[0].id}; }));
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

// How long `seen()` took to hold, polled for at most 1.5 s; nullopt if it never did.
template <class F>
std::optional<std::chrono::milliseconds> time_until(F seen) {
    auto started = std::chrono::steady_clock::now();
    for (;;) {
        auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
        if (seen()) return took;
        if (took > std::chrono::milliseconds(1500)) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

// The specification's promise: a change made in the catalog, by any host, is
// seen by a running mount within a second.
#define CHECK_SEEN_WITHIN_A_SECOND(what, condition)                                            \
    do {                                                                                       \
        auto took = time_until([&] { return condition; });                                     \
        INFO(what);                                                                            \
        CHECK(took.has_value());                                                               \
        if (took) CHECK(took->count() <= 1000);                                                \
    } while (0)

TEST_CASE("a job that leaves planned disappears from the listing without a remount") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    AsUser as(photographer, photographer);
    REQUIRE(list(m.path()).size() == 2);
    m.catalog().set_job_status(m.albums_job.id, JobStatus::Selling);
    CHECK_SEEN_WITHIN_A_SECOND("set to selling", list(m.path()) == std::vector<std::string>{"job00002"});
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    CHECK(make_dir(m.path("job00001/late")) != 0);
    m.catalog().set_job_status(m.albums_job.id, JobStatus::Planned);
    CHECK_SEEN_WITHIN_A_SECOND("set back to planned", list(m.path()).size() == 2);
}

TEST_CASE("catalog changes reach a running mount both ways, again and again, within a second") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    auto& c = m.catalog();
    auto listed = [&](const std::string& job) {
        AsUser as(photographer, photographer);
        auto names = list(m.path());
        return std::find(names.begin(), names.end(), job) != names.end();
    };
    REQUIRE(listed("job00001"));
    for (int round = 0; round < 4; ++round) {
        CAPTURE(round);
        auto name = fmt::format("job{:05}", 100 + round);
        auto job = c.add_job(m.tenant.id, name, "", Layout::Flat, JobStatus::Planned);
        CHECK_SEEN_WITHIN_A_SECOND("a job added", listed(name));
        for (const auto& j : {job, m.flat_job}) {
            c.set_job_status(j.id, JobStatus::Selling);
            CHECK_SEEN_WITHIN_A_SECOND("set to selling", !listed(j.name));
            c.set_job_status(j.id, JobStatus::Planned);
            CHECK_SEEN_WITHIN_A_SECOND("set back to planned", listed(j.name));
        }
        c.set_user_jobs(m.photographer->id, {m.flat_job.id});
        CHECK_SEEN_WITHIN_A_SECOND("the user restricted to one job", !listed("job00001") && !listed(name));
        CHECK(listed(m.flat_job.name));
        c.set_user_jobs(m.photographer->id, {});
        CHECK_SEEN_WITHIN_A_SECOND("the user given every job again", listed("job00001") && listed(name));
        c.set_user_enabled(m.photographer->id, false);
        CHECK_SEEN_WITHIN_A_SECOND("the user disabled", !listed(m.flat_job.name));
        c.set_user_enabled(m.photographer->id, true);
        CHECK_SEEN_WITHIN_A_SECOND("the user enabled again", listed(m.flat_job.name));
        // An upload through the mount between the rounds, and pauses that
        // cross a cache's age, must not hide the next change.
        {
            AsUser as(photographer, photographer);
            CHECK(write_file(m.path(fmt::format("job00002/round-{}.jpg", round)), some_bytes(1000)) == 0);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(150 * round));
    }
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

bool listed(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

TEST_CASE("every change of the catalog is seen by a running mount within a second, again and again, both ways") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    AsUser as(photographer, photographer);
    REQUIRE(list(m.path()).size() == 2);
    for (int round = 0; round < 5; ++round) {
        CAPTURE(round);
        auto name = "job1000" + std::to_string(round);
        auto job = m.catalog().add_job(m.tenant.id, name, "Added", Layout::Flat, JobStatus::Planned);
        CHECK(within(1.0, [&] { return listed(list(m.path()), name); }));
        m.catalog().set_job_status(m.albums_job.id, JobStatus::Selling);
        CHECK(within(1.0, [&] { return !listed(list(m.path()), "job00001"); }));
        m.catalog().set_job_status(m.albums_job.id, JobStatus::Planned);
        CHECK(within(1.0, [&] { return listed(list(m.path()), "job00001"); }));
        CHECK(within(1.5, [&] { return make_dir(m.path("job00001/round" + std::to_string(round))) == 0; }));
        m.catalog().set_job_status(job.id, JobStatus::Archived);
        CHECK(within(1.0, [&] { return !listed(list(m.path()), name); }));
        CHECK(within(1.5, [&] { return write_file(m.path(name + "/late.jpg"), some_bytes(100)) != 0; }));
    }
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
    // The kernel keeps the limit as a fraction of its dirty threshold, which moves with free memory: it
    // reads back near 8 MiB, not exactly (8 MiB + 1108 bytes on one machine, a little under on another).
    auto limit = std::stoull(read_file(knob));
    CHECK(limit <= (8u << 20) + (8u << 20) / 100);
    CHECK(limit > (7u << 20));
}

TEST_CASE("SIGTERM unmounts cleanly") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    CHECK(m.terminate() == 0);
    CHECK_FALSE(is_mounted(m.path()));
}

namespace {
// A descriptor opened by the test, closed at the end; close() reports what the client is told.
class Open {
public:
    Open(const std::filesystem::path& p, int flags) : fd_(::open(p.c_str(), flags | O_CLOEXEC, 0644)), err_(errno) {}
    ~Open() {
        if (fd_ >= 0) ::close(fd_);
    }
    int fd() const { return fd_; }
    int open_error() const { return fd_ >= 0 ? 0 : err_; }
    // 0, or the errno of pwrite.
    int write(const std::string& bytes, off_t at) {
        for (size_t done = 0; done < bytes.size();) {
            ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done, at + static_cast<off_t>(done));
            if (n < 0) return errno;
            done += static_cast<size_t>(n);
        }
        return 0;
    }
    // 0, or the errno of close.
    int close() {
        int rc = ::close(std::exchange(fd_, -1));
        return rc == 0 ? 0 : errno;
    }

private:
    int fd_;
    int err_;
};

const std::string jpeg_head = std::string("\xff\xd8\xff\xe0\x00\x10JFIF\x00", 11);
std::string zip_trailer() { return std::string("PK\x05\x06", 4) + std::string(18, '\0'); }

uintmax_t staged_bytes(const MountedTenant& m) {
    uintmax_t kept = 0;
    for (auto& e : std::filesystem::directory_iterator(m.staging_dir())) kept += e.file_size();
    return kept;
}
}  // namespace

TEST_CASE("a second writer of a file being uploaded is refused, so that two uploads never mix") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    AsUser as(photographer, photographer);
    auto first = some_bytes(3 << 20, 1), second = some_bytes(2 << 20, 2);
    Open a(m.path("job00002/same.jpg"), O_WRONLY | O_CREAT | O_TRUNC);
    REQUIRE(a.open_error() == 0);
    REQUIRE(a.write(first.substr(0, 1 << 20), 0) == 0);
    Open b(m.path("job00002/same.jpg"), O_WRONLY | O_CREAT | O_TRUNC);
    CHECK(b.open_error() == EACCES);
    Open c(m.path("job00002/same.jpg"), O_WRONLY);
    CHECK(c.open_error() == EACCES);
    CHECK(::truncate(m.path("job00002/same.jpg").c_str(), 10) != 0);
    REQUIRE(a.write(first.substr(1 << 20), 1 << 20) == 0);
    CHECK(a.close() == 0);
    // Once the first has closed, the second may replace it, whole.
    CHECK(write_file(m.path("job00002/same.jpg"), second) == 0);
    CHECK(sha256(read_file(m.path("job00002/same.jpg"))) == sha256(second));
    auto u = uploads_named(m.catalog(), m.flat_job.id, "same.jpg");
    REQUIRE(u.size() == 1);
    AsUser root(0, 0);
    CHECK(sha256(read_file(m.data_dir() / u[0].data_path)) == sha256(second));
}

TEST_CASE("a handle opened before the ingest took the upload cannot change what it stored") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    auto photo = jpeg_head + some_bytes(300000, 3);
    std::optional<AsUser> as(std::in_place, photographer, photographer);
    REQUIRE(write_file(m.path("job00002/kept.jpg"), photo) == 0);
    Open kept(m.path("job00002/kept.jpg"), O_RDWR);
    REQUIRE(kept.open_error() == 0);
    as.reset();
    // What the ingest service does: claim the upload, move its bytes into the store.
    auto claimed = m.catalog().claim_next(int64_t{60} * 1'000'000'000);
    REQUIRE(claimed);
    auto original = m.data_dir() / "demo/originals/kept.jpg";
    std::filesystem::create_directories(original.parent_path());
    std::filesystem::rename(m.data_dir() / claimed->data_path, original);
    as.emplace(photographer, photographer);
    // The kernel's cache may take the bytes; none reaches the store, and close says so.
    kept.write("PK\x03\x04 not a photo", 0);
    kept.write("more", static_cast<off_t>(photo.size()));
    CHECK(::ftruncate(kept.fd(), 10) != 0);
    CHECK(kept.close() == EACCES);
    as.reset();
    CHECK(sha256(read_file(original)) == sha256(photo));
    CHECK(m.catalog().upload(claimed->id)->state == UploadState::Processing);
}

TEST_CASE("an archive written over an accepted start, or appended to a photo, is refused at close") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    AsUser as(photographer, photographer);
    SUBCASE("a ZIP written at offset 0 after a JPEG start was accepted and made durable") {
        Open f(m.path("job00002/over.jpg"), O_WRONLY | O_CREAT | O_TRUNC);
        REQUIRE(f.write(jpeg_head + some_bytes(100000, 4), 0) == 0);
        REQUIRE(::fsync(f.fd()) == 0);
        REQUIRE(f.write("PK\x03\x04" + some_bytes(100000, 5).substr(4), 0) == 0);
        CHECK(f.close() == EACCES);
    }
    SUBCASE("a ZIP appended to a photo") {
        CHECK(write_file(m.path("job00002/over.jpg"), jpeg_head + some_bytes(100000, 6) + zip_trailer()) == EACCES);
    }
    SUBCASE("a self-extracting archive") {
        CHECK(write_file(m.path("job00002/over.jpg"), "MZ" + some_bytes(100000, 7) + zip_trailer()) == EACCES);
    }
    // Gone at once: a client that stats after a failed close must not find it whole.
    struct stat st {};
    CHECK(::stat(m.path("job00002/over.jpg").c_str(), &st) == -1);
    CHECK(errno == ENOENT);
    CHECK(list(m.path("job00002")).empty());
    auto u = uploads_named(m.catalog(), m.flat_job.id, "over.jpg");
    REQUIRE(u.size() == 1);
    CHECK(u[0].state == UploadState::Rejected);
    CHECK(u[0].reason.find("archive") != std::string::npos);
    CHECK(staged_bytes(m) == 0);
}

TEST_CASE("a size past what was written, or past the largest upload, is refused") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    AsUser as(photographer, photographer);
    REQUIRE(write_file(m.path("job00002/tiny.jpg"), "abcd") == 0);
    CHECK(::truncate(m.path("job00002/tiny.jpg").c_str(), int64_t{40} << 30) == -1);
    CHECK(::truncate(m.path("job00002/tiny.jpg").c_str(), 1000) == -1);
    CHECK(errno == EACCES);
    CHECK(stat_of(m.path("job00002/tiny.jpg")).st_size == 4);
    // Through a handle the gap is found at the commit.
    {
        Open f(m.path("job00002/grown.jpg"), O_WRONLY | O_CREAT | O_TRUNC);
        REQUIRE(f.write("abcd", 0) == 0);
        REQUIRE(::ftruncate(f.fd(), 1 << 20) == 0);
        CHECK(f.close() == EACCES);
    }
    CHECK(uploads_named(m.catalog(), m.flat_job.id, "grown.jpg").at(0).state == UploadState::Rejected);
    // Shrinking is a resume or an overwrite, and allowed.
    CHECK(::truncate(m.path("job00002/tiny.jpg").c_str(), 2) == 0);
    CHECK(read_file(m.path("job00002/tiny.jpg")) == "ab");
    auto u = uploads_named(m.catalog(), m.flat_job.id, "tiny.jpg");
    REQUIRE(u.size() == 1);
    CHECK(u[0].state == UploadState::Queued);
    CHECK(u[0].size == 2);
    AsUser root(0, 0);
    CHECK(std::filesystem::file_size(m.data_dir() / u[0].data_path) == 2);
}

TEST_CASE("an upload larger than max_upload_size is refused and not kept") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount({"PHOTODROP_MAX_UPLOAD_SIZE=1M"});
    AsUser as(photographer, photographer);
    CHECK(write_file(m.path("job00002/big.jpg"), some_bytes(2 << 20, 8)) != 0);
    CHECK(list(m.path("job00002")).empty());
    auto u = uploads_named(m.catalog(), m.flat_job.id, "big.jpg");
    REQUIRE(u.size() == 1);
    CHECK(u[0].state == UploadState::Rejected);
    CHECK(u[0].reason.find("largest upload") != std::string::npos);
    CHECK(staged_bytes(m) == 0);
    CHECK(write_file(m.path("job00002/small.jpg"), some_bytes(1 << 20, 9)) == 0);
}

TEST_CASE("after a crash an interrupted upload shows the bytes that reached the disk, and resumes from there") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    auto bytes = some_bytes(6 << 20, 10);
    size_t sent = 3 << 20;
    {
        AsUser as(photographer, photographer);
        Open f(m.path("job00002/cut.jpg"), O_WRONLY | O_CREAT | O_TRUNC);
        REQUIRE(f.write(bytes.substr(0, sent), 0) == 0);
        REQUIRE(::fsync(f.fd()) == 0);  // the kernel's cache of the mount has given them to photodrop-fs
        m.kill_daemon();
    }
    m.mount();
    AsUser as(photographer, photographer);
    CHECK(stat_of(m.path("job00002/cut.jpg")).st_size == static_cast<off_t>(sent));
    CHECK(list(m.path("job00002")) == std::vector<std::string>{"cut.jpg"});
    REQUIRE(write_file(m.path("job00002/cut.jpg"), bytes.substr(sent), O_WRONLY, static_cast<off_t>(sent)) == 0);
    CHECK(sha256(read_file(m.path("job00002/cut.jpg"))) == sha256(bytes));
    auto u = uploads_named(m.catalog(), m.flat_job.id, "cut.jpg");
    REQUIRE(u.size() == 1);
    CHECK(u[0].state == UploadState::Queued);
}

TEST_CASE("new uploads are refused with a reason while free space is under the reserve") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount({"PHOTODROP_FREE_SPACE_RESERVE=1T"});
    AsUser as(photographer, photographer);
    CHECK(write_file(m.path("job00002/full.jpg"), some_bytes(1000)) == ENOSPC);
    CHECK(list(m.path("job00002")).empty());
    CHECK(m.log().find("out of space") != std::string::npos);
    CHECK(write_file(m.path("job00002/.DS_Store"), some_bytes(100)) == 0);  // thrown away, needs no space
}

TEST_CASE("on a nearly full disk every acknowledged close is whole, and every other one fails and is not queued") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    // The data directory on a small ext4 of its own, with no blocks kept for root.
    struct SmallDisk {
        MountedTenant& m;
        std::filesystem::path image;
        SmallDisk(MountedTenant& m) : m(m), image(m.dir() / "disk.img") {
            REQUIRE(run({"truncate", "-s", "48M", image.string()}) == 0);
            REQUIRE(run({"mkfs.ext4", "-q", "-F", "-m", "0", image.string()}) == 0);
            REQUIRE(run({"mount", "-o", "loop", image.string(), m.data_dir().string()}) == 0);
        }
        ~SmallDisk() {
            m.unmount();
            run({"umount", m.data_dir().string()});
        }
    } disk(m);
    m.mount({"PHOTODROP_FREE_SPACE_RESERVE=0"});
    auto filler = m.data_dir() / "filler";
    int acknowledged = 0, failed = 0;
    for (int round = 0; round < 4; ++round) {
        CAPTURE(round);
        // Filled to within a few hundred KB, a little more room each round.
        std::filesystem::remove(filler);
        struct statvfs fs {};
        REQUIRE(::statvfs(m.data_dir().c_str(), &fs) == 0);
        auto leave = 150000 + round * 120000;
        REQUIRE(run({"fallocate", "-l", std::to_string(fs.f_bavail * fs.f_frsize - leave), filler.string()}) == 0);
        for (int i = 0; i < 5; ++i) {
            auto name = "r" + std::to_string(round) + "-" + std::to_string(i) + ".jpg";
            auto bytes = some_bytes(115098, static_cast<uint32_t>(round * 10 + i));
            int told;
            {
                AsUser as(photographer, photographer);
                told = write_file(m.path("job00002/" + name), bytes);
            }
            auto u = uploads_named(m.catalog(), m.flat_job.id, name);
            REQUIRE(u.size() == 1);
            auto stored = read_file(m.data_dir() / u[0].data_path);
            CAPTURE(name);
            if (told == 0) {
                ++acknowledged;
                CHECK(u[0].state == UploadState::Queued);
                CHECK(sha256(stored) == sha256(bytes));
            } else {
                ++failed;
                CHECK(told == ENOSPC);
                CHECK(u[0].state == UploadState::Receiving);
                CHECK(stored == bytes.substr(0, stored.size()));
                CHECK(u[0].size == static_cast<int64_t>(stored.size()));
                AsUser as(photographer, photographer);
                CHECK(stat_of(m.path("job00002/" + name)).st_size == static_cast<off_t>(stored.size()));
            }
        }
    }
    MESSAGE("acknowledged " << acknowledged << ", failed " << failed);
    CHECK(acknowledged > 0);
    CHECK(failed > 0);
}

TEST_CASE("only the tenant's enabled SFTP users and root reach the jobs; an unknown or removed uid gets nothing") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    auto restricted = m.catalog().add_user(m.tenant.id, "restricted", 2345, {m.albums_job.id});
    m.mount();
    {
        AsUser nobody(65534, 65534);
        CHECK(list(m.path()).empty());
        CHECK(make_dir(m.path("job00001/Album")) != 0);
        CHECK(write_file(m.path("job00002/x.jpg"), some_bytes(1000)) != 0);
    }
    {
        AsUser root(0, 0);
        CHECK(list(m.path()).size() == 2);  // the operator
    }
    AsUser as(2345, 2345);
    CHECK(list(m.path()) == std::vector<std::string>{"job00001"});
    REQUIRE(make_dir(m.path("job00001/A")) == 0);
    // Removed while its session is open: from its next operation on, nothing.
    m.catalog().remove_user(restricted.id);
    CHECK(within(1.5, [&] { return list(m.path()).empty(); }));
    CHECK(make_dir(m.path("job00002/B")) != 0);
    CHECK(write_file(m.path("job00001/A/y.jpg"), some_bytes(1000)) != 0);
    CHECK(m.catalog().uploads(m.flat_job.id).empty());
    CHECK(m.catalog().uploads(m.albums_job.id).empty());
}

// The kernel keeps a name it looked up for any user (a second), and opens a
// folder by it without asking again: each user's right to a job folder is
// checked when the folder is opened, not only when its name is looked up.
TEST_CASE("a job folder another user listed a moment ago does not open for a user who may not see it") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.catalog().add_user(m.tenant.id, "restricted", 2345, {m.flat_job.id});
    m.mount();
    for (int round = 0; round < 3; ++round) {
        CAPTURE(round);
        {
            AsUser as(photographer, photographer);
            REQUIRE(list(m.path()).size() == 2);  // readdirplus: the kernel now holds both names
            struct stat st {};
            REQUIRE(::stat(m.path("job00001").c_str(), &st) == 0);
        }
        AsUser as(2345, 2345);
        DIR* dir = ::opendir(m.path("job00001").c_str());
        CHECK(dir == nullptr);
        CHECK(errno == ENOENT);
        if (dir) ::closedir(dir);
        CHECK(list(m.path()) == std::vector<std::string>{"job00002"});
        CHECK(make_dir(m.path("job00001/sneaky")) != 0);
    }
}

TEST_CASE("a user disabled while it uploads is refused at its close, and the upload is not queued") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    AsUser as(photographer, photographer);
    Open f(m.path("job00002/late.jpg"), O_WRONLY | O_CREAT | O_TRUNC);
    REQUIRE(f.open_error() == 0);
    REQUIRE(f.write(some_bytes(200000, 12), 0) == 0);
    m.catalog().set_user_enabled(m.photographer->id, false);
    CHECK(f.close() == EACCES);
    auto u = uploads_named(m.catalog(), m.flat_job.id, "late.jpg");
    REQUIRE(u.size() == 1);
    CHECK(u[0].state == UploadState::Receiving);
    CHECK(list(m.path("job00002")).empty());
}

TEST_CASE("a junk file that another client has open can be written again, as a Mac folder upload from two clients does") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    AsUser as(photographer, photographer);
    Open first(m.path("job00002/.DS_Store"), O_WRONLY | O_CREAT | O_TRUNC);
    REQUIRE(first.open_error() == 0);
    // The kernel sees the name (it is shown while open) and sends an open, not a create.
    CHECK(write_file(m.path("job00002/.DS_Store"), some_bytes(6148)) == 0);
    CHECK(write_file(m.path("job00002/.DS_Store"), some_bytes(6148), O_WRONLY) == 0);
    CHECK(first.close() == 0);
    CHECK(m.catalog().uploads(m.flat_job.id, UploadState::Discarded).size() == 3);
}

namespace {
// "Klasse 3ä" and "Schüler.jpg" as Windows and Linux send them (NFC) and as macOS does (NFD).
const std::string klasse_nfc = "Klasse 3\xc3\xa4";
const std::string klasse_nfd = "Klasse 3a\xcc\x88";
const std::string schueler_nfc = "Sch\xc3\xbc" "ler.jpg";
const std::string schueler_nfd = "Schu\xcc\x88ler.jpg";

bool log_has_line_starting(const std::string& log, const std::string& start) {
    return log.starts_with(start) || log.find("\n" + start) != std::string::npos;
}
}  // namespace

TEST_CASE("a name sent in NFD (macOS) and in NFC (Windows) is one album and one file, shown in NFC") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    AsUser as(photographer, photographer);
    CHECK(make_dir(m.path("job00001/" + klasse_nfc)) == 0);
    CHECK(make_dir(m.path("job00001/" + klasse_nfd)) == EEXIST);
    CHECK(m.catalog().albums(m.albums_job.id).size() == 1);
    CHECK(list(m.path("job00001")) == std::vector<std::string>{klasse_nfc});

    // A Mac stats, lists and writes into the album under its own spelling.
    struct stat st {};
    CHECK(::stat(m.path("job00001/" + klasse_nfd).c_str(), &st) == 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK(write_file(m.path("job00001/" + klasse_nfd + "/" + schueler_nfd), some_bytes(3000)) == 0);
    CHECK(::stat(m.path("job00001/" + klasse_nfd + "/" + schueler_nfd).c_str(), &st) == 0);
    CHECK(st.st_size == 3000);
    CHECK(read_file(m.path("job00001/" + klasse_nfc + "/" + schueler_nfc)) == some_bytes(3000));
    CHECK(list(m.path("job00001/" + klasse_nfc)) == std::vector<std::string>{schueler_nfc});
    CHECK(list(m.path("job00001/" + klasse_nfd)) == std::vector<std::string>{schueler_nfc});
    auto stored = uploads_named(m.catalog(), m.albums_job.id, schueler_nfc);
    REQUIRE(stored.size() == 1);
    CHECK(stored[0].state == UploadState::Queued);
    CHECK(uploads_named(m.catalog(), m.albums_job.id, schueler_nfd).empty());

    // The Windows spelling of the same file continues the same upload.
    CHECK(write_file(m.path("job00001/" + klasse_nfc + "/" + schueler_nfc), some_bytes(4000)) == 0);
    CHECK(m.catalog().uploads(m.albums_job.id).size() == 1);
    CHECK(list(m.path("job00001/" + klasse_nfc)) == std::vector<std::string>{schueler_nfc});

    // A rename to an NFD name stores it in NFC.
    CHECK(make_dir(m.path("job00001/Other")) == 0);
    CHECK(::rename(m.path("job00001/Other").c_str(), m.path("job00001/Gr\x75\xcc\x88n").c_str()) == 0);
    CHECK(list(m.path("job00001")) == std::vector<std::string>{"Gr\xc3\xbcn", klasse_nfc});
}

TEST_CASE("a file replaced under one form of its name (NFD, NFC) reads back as the new file under the other") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    AsUser as(photographer, photographer);
    auto nfc = m.path("job00002/" + schueler_nfc);
    auto nfd = m.path("job00002/" + schueler_nfd);
    // Two clients, one on Windows and one on a Mac, each read the file: the kernel holds an inode per name.
    REQUIRE(write_file(nfc, some_bytes(5000, 1)) == 0);
    REQUIRE(read_file(nfd) == some_bytes(5000, 1));
    struct stat st {};
    // The Mac replaces it with a shorter file: the other name shows its size and bytes, not the old ones.
    CHECK(write_file(nfd, some_bytes(3000, 2)) == 0);
    CHECK(::stat(nfc.c_str(), &st) == 0);
    CHECK(st.st_size == 3000);
    CHECK(read_file(nfc) == some_bytes(3000, 2));
    // And the other way round, longer.
    CHECK(write_file(nfc, some_bytes(7000, 3)) == 0);
    CHECK(::stat(nfd.c_str(), &st) == 0);
    CHECK(st.st_size == 7000);
    CHECK(read_file(nfd) == some_bytes(7000, 3));
    // A client's temporary file renamed over it: the kernel is told just after the rename (it holds the folder then).
    REQUIRE(write_file(m.path("job00002/new.jpg.filepart"), some_bytes(2000, 4)) == 0);
    REQUIRE(::rename(m.path("job00002/new.jpg.filepart").c_str(), nfd.c_str()) == 0);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (read_file(nfc) != some_bytes(2000, 4) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(read_file(nfc) == some_bytes(2000, 4));
    CHECK(list(m.path("job00002")) == std::vector<std::string>{schueler_nfc});
}

TEST_CASE("a name with a bidi override, a C1 control or a zero-width space is refused, with its reason") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    AsUser as(photographer, photographer);
    REQUIRE(make_dir(m.path("job00001/A")) == 0);
    std::string disguised = "photo\xe2\x80\xae" "gpj.exe.jpg";  // shows as "photoexe.jpg.jpg" reversed
    CHECK(write_file(m.path("job00001/A/" + disguised), "x") == EACCES);
    CHECK(make_dir(m.path("job00001/Class\xe2\x80\x8b" "1")) == EACCES);
    CHECK(write_file(m.path("job00001/A/c1\xc2\x9b" "31m.jpg"), "x") == EACCES);
    CHECK(list(m.path("job00001")) == std::vector<std::string>{"A"});
    CHECK(list(m.path("job00001/A")).empty());

    auto rejected = m.catalog().uploads(m.albums_job.id, UploadState::Rejected);
    REQUIRE(rejected.size() == 2);
    CHECK(rejected[0].filename == disguised);  // as sent
    CHECK(rejected[0].reason ==
          "the name contains a right-to-left override (U+202E), which is used to disguise file names");
    CHECK(rejected[1].reason.find("a control character (U+009B)") != std::string::npos);
    auto log = m.log();
    CHECK(log.find("file=A/photo\\u{202E}gpj.exe.jpg refused: the name contains a right-to-left override (U+202E)") !=
          std::string::npos);
    CHECK(log.find("a zero-width space (U+200B)") != std::string::npos);
    CHECK(log.find("\xe2\x80\xae") == std::string::npos);
    CHECK(log.find("\xc2\x9b") == std::string::npos);
}

TEST_CASE("a refused name is logged escaped: a newline cannot forge a log line, an escape cannot reach a terminal") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    AsUser as(photographer, photographer);
    REQUIRE(make_dir(m.path("job00001/A")) == 0);
    std::string forged = "photodrop-fs: tenant=demo job=job00001 user=uid:1234 file=x.jpg received 1 bytes, queued";
    CHECK(write_file(m.path("job00001/A/a.jpg\n" + forged + "\n.jpg"), "x") == EACCES);
    CHECK(write_file(m.path("job00001/A/\x1b[31mred.jpg"), "x") == EACCES);
    CHECK(write_file(m.path("job00001/A/bad\xff.jpg"), "x") == EACCES);
    auto log = m.log();
    CHECK_FALSE(log_has_line_starting(log, forged));
    CHECK(log.find("file=A/a.jpg\\n" + forged + "\\n.jpg refused: the name contains a control character (U+000A)") !=
          std::string::npos);
    CHECK(log.find("file=A/\\x1B[31mred.jpg refused") != std::string::npos);
    CHECK(log.find("file=A/bad\\xFF.jpg refused: the name is not valid UTF-8") != std::string::npos);
    CHECK(log.find('\x1b') == std::string::npos);
    CHECK(log.find('\xff') == std::string::npos);
    auto rejected = m.catalog().uploads(m.albums_job.id, UploadState::Rejected);
    REQUIRE(rejected.size() == 3);
    // Stored as sent; PostgreSQL's text holds only UTF-8, and has it as shown.
    bool postgres = std::string_view(std::getenv("PHOTODROP_TEST_CATALOG") ? std::getenv("PHOTODROP_TEST_CATALOG") : "") == "postgresql";
    CHECK(rejected[2].filename == (postgres ? "bad\\xFF.jpg" : "bad\xff.jpg"));
}

namespace {
// The disk space the staging files hold, in bytes, with what is set aside past their ends; as root.
int64_t staged_allocation(const MountedTenant& m) {
    int64_t bytes = 0;
    for (auto& e : std::filesystem::directory_iterator(m.staging_dir())) bytes += stat_of(e.path()).st_blocks * 512;
    return bytes;
}
}  // namespace

TEST_CASE("a new upload is written by the kernel where it can; the room set aside for it is given back at its close") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount({"PHOTODROP_MAX_UPLOAD_SIZE=64M"});
    auto bytes = jpeg_head + some_bytes(3 << 20, 21);
    const timespec times[2] = {{1'600'000'000, 0}, {1'600'000'000, 0}};
    {
        AsUser as(photographer, photographer);
        Open f(m.path("job00002/kernel.jpg"), O_WRONLY | O_CREAT | O_TRUNC);
        REQUIRE(f.open_error() == 0);
        REQUIRE(f.write(some_bytes(5 << 20, 20), 0) == 0);
        REQUIRE(::ftruncate(f.fd(), 0) == 0);  // a client that starts again
        REQUIRE(f.write(bytes, 0) == 0);
        REQUIRE(::futimens(f.fd(), times) == 0);  // as `put -p` keeps a photo's time
        {
            AsUser root(0, 0);
            // Room for the largest upload allowed, so that no write the kernel makes can find the disk full.
            if (kernel_writes()) CHECK(staged_allocation(m) >= 64 << 20);
            else CHECK(staged_allocation(m) < 8 << 20);
        }
        CHECK(f.close() == 0);
        CHECK(sha256(read_file(m.path("job00002/kernel.jpg"))) == sha256(bytes));
        CHECK(stat_of(m.path("job00002/kernel.jpg")).st_mtim.tv_sec == times[1].tv_sec);
    }
    INFO(m.log());
    CHECK((m.log().find("file=kernel.jpg receiving (written by the kernel)") != std::string::npos) == kernel_writes());
    auto u = uploads_named(m.catalog(), m.flat_job.id, "kernel.jpg");
    REQUIRE(u.size() == 1);
    CHECK(u[0].state == UploadState::Queued);
    CHECK(u[0].size == static_cast<int64_t>(bytes.size()));
    AsUser root(0, 0);
    CHECK(staged_allocation(m) < static_cast<int64_t>(bytes.size()) + (1 << 20));
    CHECK(stat_of(m.data_dir() / u[0].data_path).st_mtim.tv_sec == times[1].tv_sec);
}

TEST_CASE("when the quota has no room for the largest upload, a new upload's writes come through photodrop-fs") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.catalog().set_tenant_quota(m.tenant.id, 32 << 20);
    m.mount({"PHOTODROP_MAX_UPLOAD_SIZE=64M"});
    AsUser as(photographer, photographer);
    CHECK(write_file(m.path("job00002/near.jpg"), jpeg_head + some_bytes(1 << 20, 22)) == 0);
    m.catalog().set_tenant_quota(m.tenant.id, std::nullopt);
    std::this_thread::sleep_for(std::chrono::milliseconds(600));  // photodrop-fs reads the quota again
    CHECK(write_file(m.path("job00002/free.jpg"), jpeg_head + some_bytes(1 << 20, 23)) == 0);
    INFO(m.log());
    CHECK(m.log().find("file=near.jpg receiving\n") != std::string::npos);
    CHECK((m.log().find("file=free.jpg receiving (written by the kernel)") != std::string::npos) == kernel_writes());
    for (const char* name : {"near.jpg", "free.jpg"}) CHECK(uploads_named(m.catalog(), m.flat_job.id, name).at(0).state == UploadState::Queued);
}

TEST_CASE("an upload whose every byte reached the disk before a crash is queued by a resume that writes nothing") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    auto bytes = jpeg_head + some_bytes(2 << 20, 24);
    {
        AsUser as(photographer, photographer);
        Open f(m.path("job00002/whole.jpg"), O_WRONLY | O_CREAT | O_TRUNC);
        REQUIRE(f.write(bytes, 0) == 0);
        REQUIRE(::fsync(f.fd()) == 0);
        m.kill_daemon();
    }
    m.mount();
    AsUser as(photographer, photographer);
    REQUIRE(stat_of(m.path("job00002/whole.jpg")).st_size == static_cast<off_t>(bytes.size()));
    Open resume(m.path("job00002/whole.jpg"), O_WRONLY);
    REQUIRE(resume.open_error() == 0);
    CHECK(resume.close() == 0);
    auto u = uploads_named(m.catalog(), m.flat_job.id, "whole.jpg");
    REQUIRE(u.size() == 1);
    CHECK(u[0].state == UploadState::Queued);  // the client was told its close succeeded
    CHECK(sha256(read_file(m.path("job00002/whole.jpg"))) == sha256(bytes));
}

TEST_CASE("a file open for reading can be overwritten: the kernel, which opens a file either way, is not asked to pass through") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    AsUser as(photographer, photographer);
    auto first = jpeg_head + some_bytes(1 << 20, 25), second = jpeg_head + some_bytes(1 << 20, 26);
    REQUIRE(write_file(m.path("job00002/again.jpg"), first) == 0);
    REQUIRE(m.catalog().claim_next(60'000'000'000));  // the ingest has it: an overwrite is a new upload
    Open reader(m.path("job00002/again.jpg"), O_RDONLY);
    REQUIRE(reader.open_error() == 0);
    CHECK(write_file(m.path("job00002/again.jpg"), second) == 0);
    CHECK(sha256(read_file(m.path("job00002/again.jpg"))) == sha256(second));
    CHECK(reader.close() == 0);
    INFO(m.log());
    auto log = m.log();
    auto second_receipt = log.rfind("file=again.jpg receiving");
    REQUIRE(second_receipt != std::string::npos);
    CHECK(log.compare(second_receipt, 25, "file=again.jpg receiving\n") == 0);
}

TEST_CASE("opening a file while the kernel writes it is refused until its close, and the upload is whole") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount();
    AsUser as(photographer, photographer);
    auto bytes = jpeg_head + some_bytes(2 << 20, 27);
    Open writer(m.path("job00002/busy.jpg"), O_WRONLY | O_CREAT | O_TRUNC);
    REQUIRE(writer.write(bytes.substr(0, 1 << 20), 0) == 0);
    {
        Open reader(m.path("job00002/busy.jpg"), O_RDONLY);
        // The kernel opens a file either in passthrough or through its cache.
        CHECK(reader.open_error() == (kernel_writes() ? EIO : 0));
    }
    REQUIRE(writer.write(bytes.substr(1 << 20), 1 << 20) == 0);
    CHECK(writer.close() == 0);
    CHECK(sha256(read_file(m.path("job00002/busy.jpg"))) == sha256(bytes));
    auto u = uploads_named(m.catalog(), m.flat_job.id, "busy.jpg");
    REQUIRE(u.size() == 1);
    CHECK(u[0].state == UploadState::Queued);
}

namespace {
// Writes `total` bytes in 1 MiB blocks until a write fails: the bytes written before, and the errno (0 if none).
std::pair<int64_t, int> write_until_refused(Open& f, int64_t total) {
    const std::string block = some_bytes(1 << 20, 28);
    for (int64_t at = 0; at < total; at += static_cast<int64_t>(block.size()))
        if (int err = f.write(block, at); err != 0) return {at, err};
    return {total, 0};
}
}  // namespace

TEST_CASE("an upload past max_upload_size is refused at its close, and the kernel's writes of it are stopped on the way") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount({"PHOTODROP_MAX_UPLOAD_SIZE=4M"});
    constexpr int64_t total = int64_t{1} << 30;
    AsUser as(photographer, photographer);
    Open f(m.path("job00002/video.jpg"), O_WRONLY | O_CREAT | O_TRUNC);
    REQUIRE(f.open_error() == 0);
    auto [written, err] = write_until_refused(f, total);
    INFO(m.log());
    if (kernel_writes()) {
        // Stopped within moments of passing the size: the disk does not fill.
        CHECK(err == EPERM);
        CHECK(written >= 4 << 20);
        CHECK(written < total / 2);
    } else {
        // The kernel's write-back cache takes every write; photodrop-fs refuses them on their way to the disk.
        CHECK(err == 0);
        AsUser root(0, 0);
        CHECK(staged_bytes(m) <= 4 << 20);
    }
    CHECK(f.close() == EFBIG);
    CHECK(list(m.path("job00002")).empty());
    auto u = uploads_named(m.catalog(), m.flat_job.id, "video.jpg");
    REQUIRE(u.size() == 1);
    CHECK(u[0].state == UploadState::Rejected);
    CHECK(u[0].reason.find("largest upload") != std::string::npos);
    {
        AsUser root(0, 0);
        CHECK(staged_bytes(m) == 0);
    }
    CHECK(write_file(m.path("job00002/video.jpg"), jpeg_head + some_bytes(1 << 20, 29)) == 0);
}

TEST_CASE("an upload stopped for its size when photodrop-fs ends can be overwritten after the remount") {
    REQUIRE_MOUNTABLE();
    MountedTenant m;
    m.mount({"PHOTODROP_MAX_UPLOAD_SIZE=4M"});
    {
        AsUser as(photographer, photographer);
        Open f(m.path("job00002/stuck.jpg"), O_WRONLY | O_CREAT | O_TRUNC);
        CHECK(write_until_refused(f, int64_t{1} << 30).second == (kernel_writes() ? EPERM : 0));
        m.kill_daemon();  // before the close: the staging file stays as it was stopped
    }
    m.mount({"PHOTODROP_MAX_UPLOAD_SIZE=4M"});
    INFO(m.log());
    AsUser as(photographer, photographer);
    auto bytes = jpeg_head + some_bytes(2 << 20, 30);
    CHECK(write_file(m.path("job00002/stuck.jpg"), bytes) == 0);
    CHECK(sha256(read_file(m.path("job00002/stuck.jpg"))) == sha256(bytes));
    auto live = uploads_named(m.catalog(), m.flat_job.id, "stuck.jpg");
    REQUIRE_FALSE(live.empty());
    CHECK(live.back().state == UploadState::Queued);
}
