#include "tests/support/mount.hpp"
#include "tests/support/catalog_location.hpp"

#include "tests/support/files.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

#ifndef PHOTODROP_FS_BIN
#error "PHOTODROP_FS_BIN must name the photodrop-fs binary"
#endif

namespace photodrop::test {

std::string MountedTenant::catalog_location() const { return test::catalog_location(base_); }

bool can_mount() { return ::geteuid() == 0 && ::access("/dev/fuse", R_OK | W_OK) == 0; }

bool checked_writes() {
    const char* writes = std::getenv("PHOTODROP_TEST_WRITES");
    return writes && std::string_view(writes) == "checked";
}

bool kernel_writes() {
    if (checked_writes()) return false;
    utsname u {};
    if (::uname(&u) != 0) return false;
    int major = 0, minor = 0;
    std::sscanf(u.release, "%d.%d", &major, &minor);
    return major > 6 || (major == 6 && minor >= 9);
}

bool is_mounted(const std::filesystem::path& path) {
    std::ifstream in("/proc/self/mountinfo");
    std::string want = path.string();
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string id, parent, dev, root, mountpoint;
        fields >> id >> parent >> dev >> root >> mountpoint;
        if (mountpoint == want) return true;
    }
    return false;
}

MountedTenant::MountedTenant(std::string slug) : own_dir_(std::in_place), base_(own_dir_->path()), slug_(std::move(slug)) {
    setup();
    photographer = catalog_->add_user(tenant.id, "photographer", photographer_uid, {});
}

MountedTenant::MountedTenant(const std::filesystem::path& base, std::string slug) : base_(base), slug_(std::move(slug)) {
    setup();
}

MountedTenant::MountedTenant(const MountedTenant& first, const std::string& host)
    : tenant(first.tenant),
      albums_job(first.albums_job),
      flat_job(first.flat_job),
      photographer(first.photographer),
      base_(first.base_),
      slug_(first.slug_),
      host_(host),
      catalog_(open_catalog(catalog_location())) {
    make_mount_point();
}

void MountedTenant::setup() {
    catalog_ = open_catalog(catalog_location());
    tenant = catalog_->add_tenant(slug_, "Studio " + slug_);
    albums_job = catalog_->add_job(tenant.id, "job00001", "Spring portraits", Layout::Albums, JobStatus::Planned);
    flat_job = catalog_->add_job(tenant.id, "job00002", "Sports day", Layout::Flat, JobStatus::Planned);
    make_mount_point();
}

void MountedTenant::make_mount_point() {
    std::filesystem::create_directories(path());
    std::filesystem::create_directories(data_dir());
    // Other uids must get through the mount's parents, which sshd's chroot wants root-owned and not writable.
    for (auto p : {base_, mounts_dir(), path()}) std::filesystem::permissions(p, std::filesystem::perms(0755));
}

MountedTenant::~MountedTenant() {
    try {
        unmount();
    } catch (...) {
    }
}

std::filesystem::path MountedTenant::path(const std::string& relative) const {
    auto mnt = mounts_dir() / slug_;
    return relative.empty() ? mnt : mnt / relative;
}

void MountedTenant::mount(const std::vector<std::string>& settings) {
    // The default reserve (1 GiB) would make a test depend on this machine's free disk.
    auto env = settings;
    if (std::none_of(env.begin(), env.end(), [](const std::string& s) { return s.starts_with("PHOTODROP_FREE_SPACE_RESERVE="); }))
        env.push_back("PHOTODROP_FREE_SPACE_RESERVE=16M");
    std::vector<std::string> argv{PHOTODROP_FS_BIN, "-f", "--catalog", catalog_location(), "--data", data_dir().string(),
                                  "--tenant", slug_, "--wake-socket", wake_socket().string(), path().string()};
    if (checked_writes()) argv.insert(argv.begin() + 1, "--no-passthrough");
    daemon_ = Process(argv, log_path().string(), env);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!is_mounted(path())) {
        if (daemon_.wait_for(0) >= 0 || std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("photodrop-fs did not mount: " + log());
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void MountedTenant::unmount() {
    if (is_mounted(path())) run({"fusermount3", "-u", "-z", path().string()});
    if (daemon_.running() && daemon_.wait_for(10) < 0) daemon_.signal(SIGKILL);
    daemon_.wait();
}

void MountedTenant::kill_daemon() {
    daemon_.signal(SIGKILL);
    daemon_.wait();
    run({"fusermount3", "-u", "-z", path().string()});
}

int MountedTenant::terminate() {
    daemon_.signal(SIGTERM);
    int status = daemon_.wait_for(10);
    return status;
}

std::filesystem::path MountedTenant::log_path() const {
    return base_ / ("fs-" + slug_ + (host_.empty() ? "" : "-" + host_) + ".log");
}

std::string MountedTenant::log() const { return read_file(log_path()); }

std::vector<Upload> uploads_named(Catalog& catalog, Id job, const std::string& name) {
    auto all = catalog.uploads(job);
    std::erase_if(all, [&](const Upload& u) { return u.filename != name; });
    return all;
}

}  // namespace photodrop::test
