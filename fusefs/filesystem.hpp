#pragma once
// The state of one tenant's mount, shared by the FUSE operations in ops/.
//
// Lock order: OpenFile::lock before Filesystem::catalog_mutex_; the open-file
// registry's mutex, the invalidator's and the quota's are leaves (nothing else
// is taken while one is held).

#include "catalog/catalog.hpp"
#include "fusefs/metadata_cache.hpp"
#include "fusefs/policy.hpp"

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

struct fuse;  // libfuse's session

namespace photodrop::fs {

struct Options {
    std::string catalog;
    std::string data;           // the data directory; this tenant's bytes go to DATA/<tenant>/
    std::string tenant;         // the tenant's slug
    std::string wake_socket;    // the ingest service's datagram socket
    policy::Settings settings;
    int64_t max_upload_size = int64_t{1} << 30;     // a write or a size past it is refused
    int64_t free_space_reserve = int64_t{1} << 30;  // below it, new uploads are refused
    bool passthrough = true;                         // new uploads written by the kernel, where it can (passthrough.hpp)
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
//
// While a handle writes, the catalog has its upload `receiving`, and the
// ingest service claims only `queued` uploads: so no byte reaches a file that
// the ingest reads or has moved into the store, whenever the handle was
// opened. At most one handle writes an upload at a time (Filesystem::
// begin_writing): the kernel's write-back sends the pages of a file through
// any of its writable handles, so two writers would mix their bytes.
struct OpenFile {
    enum class Phase {
        Receiving,  // the catalog has the upload receiving: bytes may go to the staging file
        Settled,    // committed, queued: the next byte must take it back from the queue first
        Done,       // writes no more (refused, failed, or the ingest has it); `error` says what close reports
    };

    // Set at open, constant after.
    Id upload_id = 0;
    Fd fd;                  // the staging file, or the stored bytes when read-only
    Fd direct;              // the staging file again, O_DIRECT, for whole pages
    std::string staging;    // the staging file's absolute path, for a writer
    uint32_t uid = 0;       // who opened it
    bool junk = false;      // .DS_Store and friends: bytes are dropped
    bool writable = false;  // the upload's one writer (Filesystem::begin_writing) until release
    bool diverted = false;  // writes a new upload shown under another name than `path` (a camera's)
    std::string path;       // the path it was opened at, for the log
    int backing = -1;       // passthrough: the kernel writes the staging file itself; its backing id

    // Shared by each write in flight; exclusive for a change of phase and for the commit.
    std::shared_mutex lock;
    Phase phase = Phase::Receiving;  // guarded by `lock`
    int error = 0;                   // guarded by `lock`: the errno close and fsync report once Done
    bool left_receiving = false;     // guarded by `lock`: its last commit kept the upload receiving (a temporary name)
    std::atomic<bool> written{false};         // bytes arrived since the last commit
    std::atomic<int64_t> end{0};              // the size the client made: its furthest write, or its truncation
    std::atomic<bool> direct_works{false};    // `direct` is open and the file system takes its writes
    std::atomic<int64_t> junk_size{0};
    // For the tenant's quota (Filesystem::quota): the size the catalog has of
    // the upload (what its last commit recorded), and whether the bytes written
    // past it count (not once Done: the catalog then has what is kept).
    std::atomic<int64_t> recorded{0};
    std::atomic<bool> counts{true};
    // Passthrough: the kernel wrote it past max_upload_size, and its writes were stopped (Filesystem::stop_writes).
    std::atomic<bool> stopped{false};
};

// Where a path leads.
struct Node {
    // CameraFolder: a folder a camera account made below its album (DCIM/100CANON);
    // it holds no files of its own: it shows the album's, and its files go there.
    enum class Kind { Root, Job, Album, Section, CameraFolder, File, Missing };
    Kind kind = Kind::Missing;
    std::optional<Job> job;
    std::optional<Album> album;
    Folder folder;                  // for a folder: where its files go; for a file: where it sits
    std::optional<Upload> upload;   // for a file
    std::optional<Id> camera_album; // resolved for a camera account: its album
    std::string below;              // for a camera account: the folders below its album ("DCIM/100CANON")
    bool is_dir() const { return kind != Kind::File && kind != Kind::Missing; }
    policy::Level level() const;    // for a folder
};

class Filesystem {
public:
    explicit Filesystem(Options options);
    ~Filesystem();

    const Options& options() const { return options_; }
    const Tenant& tenant() const { return tenant_; }

    // How a path is resolved: from what the cache kept (a stat, a listing,
    // which may show another host's change of the last cache_max_age late),
    // or from the catalog as it is now (an operation that acts on what it finds).
    enum class Reading { Cached, Current };
    // Resolves `path` for the calling uid: a job is there only while planned
    // and visible to that uid (root, or one of the tenant's enabled SFTP users
    // allowed that job; any other uid sees an empty root).
    Node resolve(const std::string& path, uint32_t uid, Reading reading = Reading::Cached);
    // Whether `uid` may still write the upload's job, whatever its status (an open
    // transfer ends when the job leaves planned): checked again when an upload is
    // committed, so that a user disabled or removed meanwhile is refused at its close.
    bool may_write(uint32_t uid, Id upload_id);
    // The planned jobs that `uid` may see, by name.
    std::vector<Job> visible_jobs(uint32_t uid);
    // The folder holding `path`, and its last component.
    std::pair<Node, std::string> resolve_parent(const std::string& path, uint32_t uid,
                                                Reading reading = Reading::Cached);

    // The uploads of a folder and the albums of a job, as readdir lists them (from the cache).
    std::vector<Upload> uploads_in(Id job_id, const Folder& folder);
    std::vector<Album> albums(Id job_id);

    // Runs `f(catalog)` under the catalog lock, on the catalog itself: what
    // it reads is current, and what the cache kept is dropped, since `f` may
    // change the catalog.
    template <class F>
    auto with_catalog(F&& f) {
        std::lock_guard lock(catalog_mutex_);
        cache_.clear();
        return f(*catalog_);
    }

    // How long what the cache kept is trusted where the catalog's engine does
    // not tell of changes (PostgreSQL): a change made on another host is seen
    // within this, well within the second the specification promises.
    static constexpr std::chrono::milliseconds cache_max_age{300};

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
    // Makes the caller the one writer of `upload_id`; false when another handle writes it.
    bool begin_writing(Id upload_id);
    void end_writing(Id upload_id);
    bool is_being_written(Id upload_id);
    // Free bytes in the data directory, for users other than root.
    int64_t free_space() const;

    // The tenant's quota and the bytes it uses now: the catalog's figures
    // (Catalog::tenant_use), read again when this mount changed them
    // (quota_changed) or once they are quota_refresh old, so that a change
    // photodropctl makes is seen within that time; plus the bytes open
    // writers wrote past what the catalog has of their uploads. The use is
    // left at 0 without a quota. No catalog query while the figures are fresh:
    // a WRITE may ask.
    struct Quota {
        std::optional<int64_t> limit;
        int64_t use = 0;
    };
    static constexpr std::chrono::milliseconds quota_refresh{500};
    Quota quota();
    // This mount changed the bytes uploads hold (a commit, a cut, a delete): read them again.
    void quota_changed();
    // A writing handle's bytes past `recorded` count towards the use from this until it is gone.
    void writer_opened(OpenFile* file);
    void writer_closed(OpenFile* file);

    // Makes the kernel forget what it cached of `path` (its entry, its size,
    // its pages), so that the next stat asks again: after a refusal or a
    // failed close. The kernel may need other requests answered to do it: not
    // from a WRITE, nor with an OpenFile::lock held.
    void forget_cached_now(const std::string& path);
    // The same, from another thread: for a WRITE, whose reply the kernel awaits first.
    void forget_cached(const std::string& path);
    // Names are stored in NFC, but the kernel keeps an entry per name a
    // client used, and with the write-back cache it trusts its own size of
    // each: "Éléonore.jpg" sent in NFD (macOS) and in NFC (Windows) are two
    // inodes there of one file. note_name_form() records that a client looked
    // up a file at `path`, a path not in NFC; forget_other_forms_now()
    // forgets what the kernel holds under every other form of `path` (its NFC
    // form, the forms noted), once the file there was written or replaced.
    void note_name_form(const std::string& path);
    void forget_other_forms_now(const std::string& path);
    // The same, from another thread: inside a rename, which holds the folders' locks.
    void forget_other_forms(const std::string& path);
    // Started once `session` is mounted at `mountpoint`; stopped before it ends.
    void start_invalidator(::fuse* session, const std::string& mountpoint);
    void stop_invalidator();
    // The bytes of an upload the kernel writes itself (passthrough) reach its
    // staging file's page cache without photodrop-fs: a thread starts their
    // write-back each few milliseconds, whole MiBs at a time, so that they go
    // to disk while the client sends and the fsync of the close has little
    // left (what O_DIRECT does on the write path). Started after daemonizing.
    // It also stops one that grows past max_upload_size: the file is made
    // immutable, so the client's next write fails (EPERM) where the write
    // path would have refused its first byte past the size.
    void start_flusher();
    void stop_flusher();
    // At the commit of a passthrough upload of `size` bytes: whether it went
    // past max_upload_size (to be refused); if so it is taken from the flusher,
    // and takes writes again so that it can be cut.
    bool passed_the_cap(OpenFile& file, int64_t size);
    // The folders camera accounts made below an album, as paths below it
    // ("DCIM", "DCIM/100CANON"); every camera of the album sees them. Kept by
    // this mount while it runs: a camera makes the folders it needs again
    // when they are gone.
    bool is_camera_folder(Id album_id, const std::string& below);
    bool add_camera_folder(Id album_id, const std::string& below);     // false when there already
    // False when it has folders of its own (nothing is removed).
    bool remove_camera_folder(Id album_id, const std::string& below);
    std::vector<std::string> camera_subfolders(Id album_id, const std::string& below);  // names, one level down
    // Junk files being written, by path: shown only while open.
    void junk_opened(const std::string& path);
    void junk_closed(const std::string& path);
    bool is_open_junk(const std::string& path);

private:
    // Whether `uid` may see `job`; the caller holds catalog_mutex_.
    bool job_visible(const Job& job, const std::optional<SftpUser>& user, uint32_t uid) const;
    // Whether `uid` (`user` its SFTP user) may see `job` whatever its status; the caller holds catalog_mutex_.
    bool may_enter(const Job& job, const std::optional<SftpUser>& user, uint32_t uid) const;
    // resolve() for a camera account (`node` has its job): its album, the
    // folders it made below it, the album's files in each; the caller holds catalog_mutex_.
    Node resolve_camera(Node node, const std::vector<std::string>& parts, Id album_id, bool cached);
    // The forms of `path` other than itself that the kernel may hold; they are no longer noted.
    std::vector<std::string> take_other_forms(const std::string& path);

    Options options_;
    std::filesystem::path data_dir_;
    std::filesystem::path staging_dir_;
    Fd staging_dir_fd_;
    Fd wake_fd_;
    int64_t mounted_ns_;

    std::mutex catalog_mutex_;  // guards catalog_, cache_, and tenant_ reads via the catalog
    std::unique_ptr<MountCatalog> catalog_;
    MetadataCache cache_{cache_max_age};
    Tenant tenant_;

    std::mutex registry_mutex_;  // guards open_uploads_, writers_, open_junk_ and open_writers_; a leaf lock
    std::map<Id, int> open_uploads_;
    std::set<Id> writers_;
    std::multiset<std::string> open_junk_;
    std::set<OpenFile*> open_writers_;

    std::mutex quota_mutex_;  // guards the fields below; a leaf lock
    Quota quota_read_;        // the catalog's figures
    std::chrono::steady_clock::time_point quota_fresh_until_{};
    uint64_t quota_generation_ = 0;  // + 1 at each quota_changed

    std::mutex camera_mutex_;  // guards camera_folders_; a leaf lock
    std::map<Id, std::set<std::string>> camera_folders_;  // by album

    std::mutex invalidate_mutex_;  // guards the fields below; a leaf lock
    std::condition_variable invalidate_wake_;
    std::deque<std::string> to_invalidate_;
    std::map<std::string, std::set<std::string>> name_forms_;  // path in NFC -> the other forms looked up
    bool invalidator_stopping_ = false;
    std::thread invalidator_;
    ::fuse* session_ = nullptr;  // set by start_invalidator
    std::string mountpoint_;

    std::mutex flush_mutex_;  // guards the fields below; taken before catalog_mutex_ (the flusher logs a stop under it), never after
    std::condition_variable flush_wake_;
    void stop_writes(OpenFile& file);
    // Staging files stopped by a run that ended before their close take writes
    // again: they can be resumed, cut and removed.
    void allow_stopped_uploads();
    std::map<OpenFile*, int64_t> flushing_;  // the passthrough writers, and the bytes each sent to disk
    bool flusher_stopping_ = false;
    std::thread flusher_;
};

// Ends the caller's Filesystem::begin_writing when it goes out of scope, unless kept.
class WriterClaim {
public:
    WriterClaim(Filesystem& fs, Id upload_id) : fs_(&fs), upload_id_(upload_id) {}
    ~WriterClaim() {
        if (fs_) fs_->end_writing(upload_id_);
    }
    WriterClaim(const WriterClaim&) = delete;
    WriterClaim& operator=(const WriterClaim&) = delete;
    // A handle keeps the claim now, until its release.
    void keep() { fs_ = nullptr; }

private:
    Filesystem* fs_;
    Id upload_id_;
};

// The Filesystem of the mount serving the calling FUSE request.
Filesystem& current();
// The uid of the calling process.
uint32_t caller_uid();

}  // namespace photodrop::fs
