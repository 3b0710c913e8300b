#include "tests/support/mount.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#ifndef PHOTODROP_FS_BIN
#error "PHOTODROP_FS_BIN must name the photodrop-fs binary"
#endif

namespace photodrop::test {

bool can_mount() { return ::geteuid() == 0 && ::access("/dev/fuse", R_OK | W_OK) == 0; }

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

MountedTenant::MountedTenant(std::string slug) : slug_(std::move(slug)) {
    catalog_ = open_catalog(catalog_path());
    tenant = catalog_->add_tenant(slug_, "Studio " + slug_);
    albums_job = catalog_->add_job(tenant.id, "job00001", "Spring portraits", Layout::Albums, JobStatus::Planned);
    flat_job = catalog_->add_job(tenant.id, "job00002", "Sports day", Layout::Flat, JobStatus::Planned);
    std::filesystem::create_directories(path());
    // The mount's parent must let other uids through, as a chroot's parents do.
    std::filesystem::permissions(tmp_.path(), std::filesystem::perms(0755));
}

MountedTenant::~MountedTenant() {
    try {
        unmount();
    } catch (...) {
    }
}

std::filesystem::path MountedTenant::path(const std::string& relative) const {
    auto mnt = tmp_.path() / "mnt";
    return relative.empty() ? mnt : mnt / relative;
}

void MountedTenant::mount() {
    daemon_ = Process({PHOTODROP_FS_BIN, "-f", "--catalog", catalog_path().string(), "--data", data_dir().string(),
                       "--tenant", slug_, "--wake-socket", wake_socket().string(), path().string()},
                      (tmp_.path() / "fs.log").string());
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

std::string MountedTenant::log() const {
    std::ifstream in(tmp_.path() / "fs.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace photodrop::test
