#pragma once
// A real photodrop-fs mount for tests: a catalog with a tenant and its jobs in a
// temporary directory, the daemon started by its PID, unmounted and stopped at
// the end.

#include "catalog/catalog.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"

#include <sys/fsuid.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace photodrop::test {

// Whether this machine lets the tests mount: root and /dev/fuse.
bool can_mount();

// A test that mounts fails at once, saying why, where it cannot.
#define REQUIRE_MOUNTABLE() \
    REQUIRE_MESSAGE(::photodrop::test::can_mount(), "mounting needs root and /dev/fuse, and this machine has neither")

// Whether this run mounts with --no-passthrough (PHOTODROP_TEST_WRITES=checked:
// every write of an upload through photodrop-fs), as the *_checked tests do.
bool checked_writes();

// Whether the kernel can write uploads itself (FUSE passthrough, Linux 6.9 and
// later) and this run lets it.
bool kernel_writes();

// Whether `path` is a mount point in /proc/self/mountinfo.
bool is_mounted(const std::filesystem::path& path);

// The uid of the SFTP user that a MountedTenant of its own has (its "photographer").
constexpr uid_t photographer_uid = 1234;

class MountedTenant {
public:
    // Tenant `slug` with a planned `albums` job job00001 and a planned `flat` job
    // job00002, and an SFTP user of uid photographer_uid, in a catalog of its
    // own in a temporary directory.
    explicit MountedTenant(std::string slug = "demo");
    // The same in a deployment shared with other tenants: BASE/catalog.db,
    // BASE/data, the mount at BASE/mounts/SLUG.
    MountedTenant(const std::filesystem::path& base, std::string slug);
    // The tenant of `first` mounted again, as a second front-end host mounts
    // it: the same catalog and data directory, a mount point of its own
    // (BASE/mounts-HOST/SLUG).
    MountedTenant(const MountedTenant& first, const std::string& host);
    ~MountedTenant();

    // Starts photodrop-fs with `settings` ("PHOTODROP_KEY=value") and waits for the mount.
    void mount(const std::vector<std::string>& settings = {});
    // Unmounts (fusermount3 -u) and waits for the daemon.
    void unmount();
    // SIGKILL, then clears the dead mount: a crash.
    void kill_daemon();
    // SIGTERM: the daemon unmounts and exits; returns its exit status.
    int terminate();

    std::filesystem::path path(const std::string& relative = "") const;
    Catalog& catalog() { return *catalog_; }
    const std::filesystem::path& dir() const { return base_; }
    // The catalog's file or URL (test::catalog_location of the deployment's directory).
    std::string catalog_location() const;
    std::filesystem::path data_dir() const { return base_ / "data"; }
    std::filesystem::path mounts_dir() const { return base_ / (host_.empty() ? "mounts" : "mounts-" + host_); }
    std::filesystem::path staging_dir() const { return data_dir() / slug_ / "staging"; }
    std::filesystem::path wake_socket() const { return data_dir() / "ingest.sock"; }
    std::string log() const;

    Tenant tenant;
    Job albums_job;
    Job flat_job;
    std::optional<SftpUser> photographer;  // with a catalog of its own

private:
    void setup();
    void make_mount_point();
    std::filesystem::path log_path() const;

    std::optional<TempDir> own_dir_;
    std::filesystem::path base_;
    std::string slug_;
    std::string host_;  // empty: the first host
    std::unique_ptr<Catalog> catalog_;
    Process daemon_;
};

// Polls `ready` for at most `seconds`; whether it became true.
template <class Ready>
bool within(double seconds, Ready ready) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    for (;;) {
        if (ready()) return true;
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// Every upload of `job` named `name`, oldest first.
std::vector<Upload> uploads_named(Catalog& catalog, Id job, const std::string& name);

// Acts as another uid on this thread (setfsuid/setfsgid): FUSE sees the
// request as coming from that user.
class AsUser {
public:
    AsUser(uid_t uid, gid_t gid) : uid_(setfsuid(uid)), gid_(setfsgid(gid)) {}
    ~AsUser() {
        setfsuid(uid_);
        setfsgid(gid_);
    }
    AsUser(const AsUser&) = delete;
    AsUser& operator=(const AsUser&) = delete;

private:
    uid_t uid_;
    gid_t gid_;
};

}  // namespace photodrop::test
