#include "fusefs/filesystem.hpp"

#include "catalog/text.hpp"

#define FUSE_USE_VERSION 314
#include <fuse.h>
#include <fuse_lowlevel.h>

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <system_error>

namespace photodrop::fs {

namespace {
[[noreturn]] void throw_errno(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

// Sets or clears a file's immutable flag (what `chattr +i` sets): no write
// reaches it, even through a descriptor opened before. False where the file
// system has no such flag.
bool set_immutable(int fd, bool on) {
    int flags = 0;
    if (::ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) return false;
    flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
    return ::ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
}

std::vector<std::string> split(const std::string& path) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start < path.size()) {
        auto slash = path.find('/', start);
        if (slash == std::string::npos) slash = path.size();
        if (slash > start) parts.push_back(path.substr(start, slash - start));
        start = slash + 1;
    }
    return parts;
}

timespec to_timespec(int64_t ns) { return timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)}; }
}  // namespace

Fd& Fd::operator=(Fd&& o) noexcept {
    if (this != &o) {
        reset();
        fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
}

Fd::~Fd() { reset(); }

void Fd::reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

policy::Level Node::level() const {
    switch (kind) {
        case Kind::Root: return policy::Level::Root;
        case Kind::Job: return policy::Level::Job;
        case Kind::Album:
        case Kind::CameraFolder: return policy::Level::Album;
        default: return policy::Level::Section;
    }
}

Filesystem::Filesystem(Options options)
    : options_(std::move(options)), data_dir_(options_.data), mounted_ns_(now_ns()), catalog_(open_catalog(options_.catalog)) {
    auto t = catalog_->tenant(options_.tenant);
    if (!t) throw std::runtime_error(fmt::format("no tenant named '{}' in {}", options_.tenant, options_.catalog));
    tenant_ = *t;
    staging_dir_ = data_dir_ / tenant_.slug / "staging";
    std::filesystem::create_directories(staging_dir_);
    staging_dir_fd_ = Fd(::open(staging_dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!staging_dir_fd_) throw_errno("open " + staging_dir_.string());
    allow_stopped_uploads();
    wake_fd_ = Fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
}

Filesystem::~Filesystem() {
    stop_flusher();
    stop_invalidator();
}

bool Filesystem::job_visible(const Job& job, const std::optional<SftpUser>& user, uint32_t uid) const {
    return job.status == JobStatus::Planned && may_enter(job, user, uid);
}

bool Filesystem::may_enter(const Job& job, const std::optional<SftpUser>& user, uint32_t uid) const {
    if (job.tenant_id != tenant_.id) return false;
    // Root is the operator. Any other uid that is not one of the tenant's
    // enabled SFTP users (unknown, removed, disabled, another tenant's) sees nothing.
    if (!user) return uid == 0;
    if (user->tenant_id != tenant_.id || !user->enabled) return false;
    return user->job_ids.empty() ||
           std::find(user->job_ids.begin(), user->job_ids.end(), job.id) != user->job_ids.end();
}

Node Filesystem::resolve(const std::string& path, uint32_t uid, Reading reading) {
    auto parts = split(path);
    // Names are stored in NFC: a client that sends NFD (macOS) finds them too.
    for (auto& part : parts) part = policy::normalized_name(part);
    Node node;
    if (parts.empty()) {
        node.kind = Node::Kind::Root;
        return node;
    }
    constexpr size_t camera_depth = 16;  // folders a camera may make below its album
    if (parts.size() > 2 + camera_depth) return node;
    std::lock_guard lock(catalog_mutex_);
    if (reading == Reading::Current) cache_.clear();
    auto job = cache_.job(*catalog_, tenant_.id, parts[0]);
    auto user = cache_.user_by_uid(*catalog_, uid);
    if (!job || !job_visible(*job, user, uid)) return node;
    node.job = job;
    if (user && user->camera_album_id)
        return resolve_camera(std::move(node), parts, *user->camera_album_id, reading == Reading::Cached);
    if (parts.size() > 4) return node;
    if (parts.size() == 1) {
        node.kind = Node::Kind::Job;
        return node;
    }
    auto find_file = [&](const Folder& folder, const std::string& name) {
        node.folder = folder;
        if ((node.upload = cache_.upload_at(*catalog_, job->id, folder, name, reading == Reading::Cached)))
            node.kind = Node::Kind::File;
        return node;
    };
    if (job->layout == Layout::Flat) {
        if (parts.size() != 2) return node;
        return find_file(Folder{}, parts[1]);
    }
    node.album = cache_.album(*catalog_, job->id, parts[1]);
    if (!node.album) return node;
    node.folder = Folder{node.album->id, Section::Individuals, false};
    if (parts.size() == 2) {
        node.kind = Node::Kind::Album;
        return node;
    }
    auto section = policy::section_named(parts[2]);
    bool section_exists = section && (*section == Section::Group ? node.album->has_group : node.album->has_individuals);
    if (parts.size() == 3 && !section_exists) return find_file(node.folder, parts[2]);
    if (!section_exists) return node;
    node.folder = Folder{node.album->id, *section, true};
    if (parts.size() == 3) {
        node.kind = Node::Kind::Section;
        return node;
    }
    return find_file(node.folder, parts[3]);
}

Node Filesystem::resolve_camera(Node node, const std::vector<std::string>& parts, Id album_id, bool cached) {
    node.camera_album = album_id;
    if (parts.size() == 1) {
        node.kind = Node::Kind::Job;
        return node;
    }
    auto album = cache_.album(*catalog_, node.job->id, parts[1]);
    if (!album || album->id != album_id) return node;
    node.album = album;
    node.folder = Folder{album_id, Section::Individuals, false};
    std::string below;
    for (size_t i = 2; i < parts.size(); ++i) below += (i > 2 ? "/" : "") + parts[i];
    if (parts.size() == 2 || is_camera_folder(album_id, below)) {
        node.kind = parts.size() == 2 ? Node::Kind::Album : Node::Kind::CameraFolder;
        node.below = below;
        return node;
    }
    // A file: in the album, or in a folder the camera made below it.
    auto slash = below.rfind('/');
    node.below = slash == std::string::npos ? "" : below.substr(0, slash);
    if (!node.below.empty() && !is_camera_folder(album_id, node.below)) return node;
    if ((node.upload = cache_.upload_at(*catalog_, node.job->id, node.folder, parts.back(), cached)))
        node.kind = Node::Kind::File;
    return node;
}

bool Filesystem::is_camera_folder(Id album_id, const std::string& below) {
    std::lock_guard lock(camera_mutex_);
    auto it = camera_folders_.find(album_id);
    return it != camera_folders_.end() && it->second.contains(below);
}

bool Filesystem::add_camera_folder(Id album_id, const std::string& below) {
    std::lock_guard lock(camera_mutex_);
    return camera_folders_[album_id].insert(below).second;
}

bool Filesystem::remove_camera_folder(Id album_id, const std::string& below) {
    std::lock_guard lock(camera_mutex_);
    auto it = camera_folders_.find(album_id);
    if (it == camera_folders_.end()) return true;
    auto& folders = it->second;
    auto child = folders.lower_bound(below + "/");
    if (child != folders.end() && child->starts_with(below + "/")) return false;
    folders.erase(below);
    if (folders.empty()) camera_folders_.erase(it);
    return true;
}

std::vector<std::string> Filesystem::camera_subfolders(Id album_id, const std::string& below) {
    std::lock_guard lock(camera_mutex_);
    std::vector<std::string> names;
    std::string prefix = below.empty() ? "" : below + "/";
    auto it = camera_folders_.find(album_id);
    if (it == camera_folders_.end()) return names;
    for (const auto& folder : it->second)
        if (folder.starts_with(prefix) && folder.find('/', prefix.size()) == std::string::npos)
            names.push_back(folder.substr(prefix.size()));
    return names;
}

std::vector<Job> Filesystem::visible_jobs(uint32_t uid) {
    std::lock_guard lock(catalog_mutex_);
    auto user = cache_.user_by_uid(*catalog_, uid);
    auto jobs = cache_.planned_jobs(*catalog_, tenant_.id);
    std::erase_if(jobs, [&](const Job& job) { return !job_visible(job, user, uid); });
    return jobs;
}

std::vector<Upload> Filesystem::uploads_in(Id job_id, const Folder& folder) {
    std::lock_guard lock(catalog_mutex_);
    return cache_.uploads_in(*catalog_, job_id, folder);
}

std::vector<Album> Filesystem::albums(Id job_id) {
    std::lock_guard lock(catalog_mutex_);
    return cache_.albums(*catalog_, job_id);
}

bool Filesystem::may_write(uint32_t uid, Id upload_id) {
    std::lock_guard lock(catalog_mutex_);
    auto upload = catalog_->upload(upload_id);
    auto job = upload ? catalog_->job(upload->job_id) : std::nullopt;
    return job && may_enter(*job, catalog_->user_by_uid(uid), uid);
}

std::pair<Node, std::string> Filesystem::resolve_parent(const std::string& path, uint32_t uid, Reading reading) {
    auto slash = path.rfind('/');
    std::string parent = slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
    return {resolve(parent, uid, reading), path.substr(slash == std::string::npos ? 0 : slash + 1)};
}

struct stat Filesystem::folder_attr(const Node& node, uint32_t uid) const {
    struct stat st {};
    st.st_mode = S_IFDIR | 0755;
    st.st_nlink = 2;
    // The root belongs to root, as sshd's ChrootDirectory demands; below it the caller owns what it sees.
    st.st_uid = node.kind == Node::Kind::Root ? 0 : uid;
    st.st_gid = node.kind == Node::Kind::Root ? 0 : getgid();
    int64_t t = node.album ? node.album->created_ns : mounted_ns_;
    st.st_mtim = st.st_ctim = st.st_atim = to_timespec(t);
    st.st_blksize = 1 << 20;
    return st;
}

struct stat Filesystem::file_attr(const Upload& upload, uint32_t uid) const {
    struct stat st {};
    st.st_mode = S_IFREG | (upload.mode & 07777);
    st.st_nlink = 1;
    st.st_uid = uid;
    st.st_gid = getgid();
    st.st_size = upload.size;
    st.st_blocks = (upload.size + 511) / 512;
    st.st_blksize = 1 << 20;
    st.st_mtim = to_timespec(upload.mtime_ns);
    st.st_atim = st.st_mtim;
    st.st_ctim = to_timespec(upload.updated_ns);
    return st;
}

std::pair<Fd, std::string> Filesystem::new_staging_file() {
    std::string name = (staging_dir_ / "upload-XXXXXX").string();
    Fd fd(::mkostemp(name.data(), O_CLOEXEC));
    if (!fd) throw_errno("create a staging file in " + staging_dir_.string());
    return {std::move(fd), std::filesystem::relative(name, data_dir_).string()};
}

void Filesystem::sync_staging_dir() {
    if (::fsync(staging_dir_fd_.get()) != 0) throw_errno("fsync " + staging_dir_.string());
}

void Filesystem::log(const std::string& path, uint32_t uid, const std::string& event) {
    auto parts = split(path);
    std::string job = parts.empty() ? "-" : parts[0];
    std::string file = parts.size() > 1 ? path.substr(path.find('/', 1) + 1) : "-";
    std::string user = fmt::format("uid:{}", uid);
    {
        std::lock_guard lock(catalog_mutex_);
        if (auto u = cache_.user_by_uid(*catalog_, uid)) user = u->username;
    }
    // What a client sent is shown escaped: it cannot forge a line or reach the operator's terminal.
    std::cerr << text::shown(fmt::format("photodrop-fs: tenant={} job={} user={} file={} {}", tenant_.slug, job, user,
                                         file, event)) +
                     '\n';
}

void Filesystem::refuse(const std::string& path, uint32_t uid, const std::string& reason, std::optional<NewUpload> upload) {
    log(path, uid, "refused: " + reason);
    if (!upload) return;
    upload->state = UploadState::Rejected;
    upload->reason = reason;
    upload->uid = uid;
    with_catalog([&](MountCatalog& c) { c.add_upload(*upload); });
}

void Filesystem::wake_ingest(Id upload_id) {
    if (!wake_fd_ || options_.wake_socket.empty()) return;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (options_.wake_socket.size() >= sizeof(addr.sun_path)) return;
    std::strcpy(addr.sun_path, options_.wake_socket.c_str());
    auto text = std::to_string(upload_id);
    // Nobody listening, or a full queue: the service's poll picks the upload up anyway.
    (void)::sendto(wake_fd_.get(), text.data(), text.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
}

void Filesystem::opened(Id upload_id) {
    std::lock_guard lock(registry_mutex_);
    ++open_uploads_[upload_id];
}

void Filesystem::closed(Id upload_id) {
    std::lock_guard lock(registry_mutex_);
    if (auto it = open_uploads_.find(upload_id); it != open_uploads_.end() && --it->second <= 0) open_uploads_.erase(it);
}

bool Filesystem::is_open(Id upload_id) {
    std::lock_guard lock(registry_mutex_);
    return open_uploads_.count(upload_id) > 0;
}

bool Filesystem::begin_writing(Id upload_id) {
    std::lock_guard lock(registry_mutex_);
    return writers_.insert(upload_id).second;
}

void Filesystem::end_writing(Id upload_id) {
    std::lock_guard lock(registry_mutex_);
    writers_.erase(upload_id);
}

bool Filesystem::is_being_written(Id upload_id) {
    std::lock_guard lock(registry_mutex_);
    return writers_.count(upload_id) > 0;
}

int64_t Filesystem::free_space() const {
    struct statvfs st {};
    if (::statvfs(data_dir_.c_str(), &st) != 0) throw_errno("statvfs " + data_dir_.string());
    return static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
}

Filesystem::Quota Filesystem::quota() {
    auto now = std::chrono::steady_clock::now();
    Quota q;
    bool fresh;
    uint64_t generation;
    {
        std::lock_guard lock(quota_mutex_);
        fresh = now < quota_fresh_until_;
        q = quota_read_;
        generation = quota_generation_;
    }
    if (!fresh) {
        q = with_catalog([&](MountCatalog& c) {
            Quota read;
            if (auto t = c.tenant(tenant_.id)) read.limit = t->quota;
            if (read.limit) read.use = c.tenant_use(tenant_.id);
            return read;
        });
        std::lock_guard lock(quota_mutex_);
        // A change made while the catalog was read may be missing from it: read again next time.
        if (generation == quota_generation_) {
            quota_read_ = q;
            quota_fresh_until_ = now + quota_refresh;
        }
    }
    if (!q.limit) return q;
    std::lock_guard lock(registry_mutex_);
    // A writer the kernel serves (passthrough) may reach the largest upload allowed before its commit.
    for (const OpenFile* file : open_writers_)
        if (file->counts)
            q.use += std::max<int64_t>(0, (file->backing >= 0 && file->written ? options_.max_upload_size : file->end.load()) -
                                              file->recorded);
    return q;
}

void Filesystem::quota_changed() {
    std::lock_guard lock(quota_mutex_);
    ++quota_generation_;
    quota_fresh_until_ = {};
}

void Filesystem::writer_opened(OpenFile* file) {
    {
        std::lock_guard lock(registry_mutex_);
        open_writers_.insert(file);
    }
    if (file->backing >= 0) {
        std::lock_guard lock(flush_mutex_);
        flushing_.emplace(file, 0);
        flush_wake_.notify_one();
    }
}

void Filesystem::writer_closed(OpenFile* file) {
    {
        std::lock_guard lock(registry_mutex_);
        open_writers_.erase(file);
    }
    std::lock_guard lock(flush_mutex_);
    flushing_.erase(file);
}

void Filesystem::forget_cached(const std::string& path) {
    {
        std::lock_guard lock(invalidate_mutex_);
        to_invalidate_.push_back(path);
    }
    invalidate_wake_.notify_one();
}

void Filesystem::note_name_form(const std::string& path) {
    auto stored = text::nfc(path);
    if (!stored || *stored == path) return;
    std::lock_guard lock(invalidate_mutex_);
    name_forms_[*stored].insert(path);
}

std::vector<std::string> Filesystem::take_other_forms(const std::string& path) {
    auto stored = text::nfc(path).value_or(path);
    std::vector<std::string> others;
    if (stored != path) others.push_back(stored);
    std::lock_guard lock(invalidate_mutex_);
    if (auto it = name_forms_.find(stored); it != name_forms_.end()) {
        for (const auto& form : it->second)
            if (form != path) others.push_back(form);
        // The others are forgotten by the kernel (a client that looks one up
        // again is noted again); `path` stays in its cache.
        name_forms_.erase(it);
        if (stored != path) name_forms_[stored].insert(path);
    }
    return others;
}

void Filesystem::forget_other_forms_now(const std::string& path) {
    for (const auto& form : take_other_forms(path)) forget_cached_now(form);
}

void Filesystem::forget_other_forms(const std::string& path) {
    for (const auto& form : take_other_forms(path)) forget_cached(form);
}

// With the write-back cache the kernel trusts its own size of a file it
// holds, so the entry must go for the size to be asked again. The parent's
// node id is its inode number as the mount shows it (libfuse numbers nodes so
// without use_ino).
void Filesystem::forget_cached_now(const std::string& path) {
    if (!session_) return;
    (void)fuse_invalidate_path(session_, path.c_str());  // ENOENT: the kernel holds nothing of it
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return;
    struct stat parent {};
    if (::stat((mountpoint_ + path.substr(0, slash)).c_str(), &parent) != 0) return;
    auto name = path.substr(slash + 1);
    (void)fuse_lowlevel_notify_inval_entry(fuse_get_session(session_), parent.st_ino, name.c_str(), name.size());
}

void Filesystem::start_invalidator(::fuse* session, const std::string& mountpoint) {
    session_ = session;
    mountpoint_ = mountpoint;
    invalidator_ = std::thread([this] {
        std::unique_lock lock(invalidate_mutex_);
        for (;;) {
            invalidate_wake_.wait(lock, [this] { return invalidator_stopping_ || !to_invalidate_.empty(); });
            if (invalidator_stopping_) return;
            auto path = std::move(to_invalidate_.front());
            to_invalidate_.pop_front();
            lock.unlock();
            forget_cached_now(path);
            lock.lock();
        }
    });
}

void Filesystem::stop_invalidator() {
    {
        std::lock_guard lock(invalidate_mutex_);
        invalidator_stopping_ = true;
    }
    invalidate_wake_.notify_one();
    if (invalidator_.joinable()) invalidator_.join();
}

void Filesystem::start_flusher() {
    static constexpr int64_t step = 1 << 20;
    static constexpr std::chrono::milliseconds interval{5};
    flusher_ = std::thread([this] {
        std::unique_lock lock(flush_mutex_);
        for (;;) {
            flush_wake_.wait(lock, [this] { return flusher_stopping_ || !flushing_.empty(); });
            if (flusher_stopping_) return;
            for (auto it = flushing_.begin(); it != flushing_.end();) {
                auto& [file, sent] = *it;
                struct stat st {};
                if (::fstat(file->fd.get(), &st) != 0) {
                    ++it;
                    continue;
                }
                if (st.st_size > options_.max_upload_size) {  // refused at its close: no need to take the rest
                    stop_writes(*file);
                    it = flushing_.erase(it);
                    continue;
                }
                sent = std::min<int64_t>(sent, st.st_size);  // cut back by the client
                int64_t whole = st.st_size / step * step;
                if (whole > sent) ::sync_file_range(file->fd.get(), sent, whole - sent, SYNC_FILE_RANGE_WRITE);
                sent = std::max(sent, whole);
                ++it;
            }
            flush_wake_.wait_for(lock, interval, [this] { return flusher_stopping_; });
        }
    });
}

void Filesystem::stop_writes(OpenFile& file) {
    file.stopped = true;
    bool stopped = set_immutable(file.fd.get(), true);
    log(file.path, file.uid,
        fmt::format("larger than the largest upload accepted ({} bytes): {}", options_.max_upload_size,
                    stopped ? "its writes are refused from here" : "refused at its close (its writes cannot be stopped here)"));
}

bool Filesystem::passed_the_cap(OpenFile& file, int64_t size) {
    std::lock_guard lock(flush_mutex_);
    if (!file.stopped && size <= options_.max_upload_size) return false;
    flushing_.erase(&file);  // out of the flusher's hands
    if (file.stopped) set_immutable(file.fd.get(), false);
    return true;
}

void Filesystem::allow_stopped_uploads() {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(staging_dir_, ec)) {
        std::error_code size_ec;
        if (!entry.is_regular_file(size_ec) || entry.file_size(size_ec) <= static_cast<uintmax_t>(options_.max_upload_size) || size_ec)
            continue;
        Fd fd(::open(entry.path().c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
        if (fd) set_immutable(fd.get(), false);
    }
}

void Filesystem::stop_flusher() {
    {
        std::lock_guard lock(flush_mutex_);
        flusher_stopping_ = true;
    }
    flush_wake_.notify_one();
    if (flusher_.joinable()) flusher_.join();
}

void Filesystem::junk_opened(const std::string& path) {
    std::lock_guard lock(registry_mutex_);
    open_junk_.insert(path);
}

void Filesystem::junk_closed(const std::string& path) {
    std::lock_guard lock(registry_mutex_);
    if (auto it = open_junk_.find(path); it != open_junk_.end()) open_junk_.erase(it);
}

bool Filesystem::is_open_junk(const std::string& path) {
    std::lock_guard lock(registry_mutex_);
    return open_junk_.count(path) > 0;
}

Filesystem& current() { return *static_cast<Filesystem*>(fuse_get_context()->private_data); }

uint32_t caller_uid() { return fuse_get_context()->uid; }

}  // namespace photodrop::fs
