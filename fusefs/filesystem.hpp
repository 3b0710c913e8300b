#pragma once
// The state of one tenant's mount, shared by the FUSE operations in ops/.
//
// Lock order: OpenFile::mutex before Filesystem::catalog_mutex_; the open-file
// registry's mutex is a leaf (nothing else is taken while it is held).

#include "catalog/catalog.hpp"
#include "fusefs/policy.hpp"

#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace photodrop::fs {

struct Options {
    std::string catalog;
    std::string data;           // the data directory; this tenant's bytes go to DATA/<tenant>/
    std::string tenant;         // the tenant's slug
    std::string wake_socket;    // the ingest service's datagram socket
    policy::Settings settings;
};

// A file descriptor that closes itself.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept;
    ~Fd();
    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    void reset() noexcept;

private:
    int fd_ = -1;
};

// One open() or create() of a file: the fuse file handle points at it.
struct OpenFile {
    std::mutex mutex;  // serialises the archive check and the commit on close
    Id upload_id = 0;
    Fd fd;             // the staging file, or the stored bytes when read-only
    Fd direct;         // the staging file again, O_DIRECT, for whole pages
    std::atomic<bool> direct_works{false};  // `direct` is open and the file system takes its writes
    uint32_t uid = 0;  // who opened it
    bool junk = false;      // .DS_Store and friends: bytes are dropped
    bool writable = false;
    std::string path;       // the path it was opened at, for the log
    std::atomic<bool> written{false};       // bytes arrived since the last commit
    std::atomic<bool> head_checked{false};  // the archive check has seen enough of the start
    std::atomic<bool> refused{false};       // the content was refused: writes and close fail
    std::atomic<bool> not_receiving{false};  // the catalog has it past `receiving`: the next byte reopens it
    std::atomic<int64_t> junk_size{0};
};

// Where a path leads.
struct Node {
    enum class Kind { Root, Job, Album, Section, File, Missing };
    Kind kind = Kind::Missing;
    std::optional<Job> job;
    std::optional<Album> album;
    Folder folder;                  // for a folder: where its files go; for a file: where it sits
    std::optional<Upload> upload;   // for a file
    bool is_dir() const { return kind != Kind::File && kind != Kind::Missing; }
    policy::Level level() const;    // for a folder
};

class Filesystem {
public:
    explicit Filesystem(Options options);

    const Options& options() const { return options_; }
    const Tenant& tenant() const { return tenant_; }

    // Resolves `path` for the calling uid: a job is there only while planned
    // and visible to that uid.
    Node resolve(const std::string& path, uint32_t uid);
    // The planned jobs that `uid` may see, by name.
    std::vector<Job> visible_jobs(uint32_t uid);
    // The folder holding `path`, and its last component.
    std::pair<Node, std::string> resolve_parent(const std::string& path, uint32_t uid);

    // Runs `f(catalog)` under the catalog lock.
    template <class F>
    auto with_catalog(F&& f) {
        std::lock_guard lock(catalog_mutex_);
        return f(*catalog_);
    }

    // Attributes a client sees.
    struct stat folder_attr(const Node& node, uint32_t uid) const;
    struct stat file_attr(const Upload& upload, uint32_t uid) const;

    // The absolute path of bytes stored at `data_path` (relative to the data dir).
    std::filesystem::path data_file(const std::string& data_path) const { return data_dir_ / data_path; }
    // A new, empty staging file: its descriptor and its path relative to the data dir.
    std::pair<Fd, std::string> new_staging_file();
    // Makes the staging directory's entries durable.
    void sync_staging_dir();

    // Records a refusal: a log line, and for a file in a job a rejected upload with the reason.
    void refuse(const std::string& path, uint32_t uid, const std::string& reason,
                std::optional<NewUpload> upload = std::nullopt);
    void log(const std::string& path, uint32_t uid, const std::string& event);

    // Tells the ingest service that an upload was queued. Never blocks.
    void wake_ingest(Id upload_id);

    // Open handles per upload, so that getattr of a file being written reads the staging file.
    void opened(Id upload_id);
    void closed(Id upload_id);
    bool is_open(Id upload_id);
    // Junk files being written, by path: shown only while open.
    void junk_opened(const std::string& path);
    void junk_closed(const std::string& path);
    bool is_open_junk(const std::string& path);

private:
    // Whether `uid` may see `job`; the caller holds catalog_mutex_.
    bool job_visible(const Job& job, const std::optional<SftpUser>& user) const;

    Options options_;
    std::filesystem::path data_dir_;
    std::filesystem::path staging_dir_;
    Fd staging_dir_fd_;
    Fd wake_fd_;
    int64_t mounted_ns_;

    std::mutex catalog_mutex_;  // guards catalog_ and tenant_ reads via the catalog
    std::unique_ptr<Catalog> catalog_;
    Tenant tenant_;

    std::mutex registry_mutex_;  // guards open_uploads_ and open_junk_; a leaf lock
    std::map<Id, int> open_uploads_;
    std::multiset<std::string> open_junk_;
};

// The Filesystem of the mount serving the calling FUSE request.
Filesystem& current();
// The uid of the calling process.
uint32_t caller_uid();

}  // namespace photodrop::fs
