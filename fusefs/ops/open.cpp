#include "fusefs/ops/common.hpp"

#include "catalog/config.hpp"
#include "fusefs/passthrough.hpp"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstring>
#include <memory>

namespace photodrop::fs::ops {

namespace {

// A handle of `upload_id` on `fd`. A writer (`staging` names its file) must
// be the upload's one writer (Filesystem::begin_writing) and stays it until
// release; `recorded` is the size the catalog has of its upload.
OpenFile* new_handle(Filesystem& fs, fuse_file_info* fi, const char* path, uint32_t uid, Id upload_id, Fd fd,
                     const std::filesystem::path& staging = {}, int64_t recorded = 0, int backing = -1) {
    auto file = std::make_unique<OpenFile>();
    file->backing = backing;
    file->upload_id = upload_id;
    file->fd = std::move(fd);
    file->uid = uid;
    file->writable = !staging.empty();
    file->staging = staging;
    file->path = path;
    if (file->writable && backing < 0) {
        // Whole pages of an upload go to disk without passing through a second
        // page cache (the kernel keeps one for the mount already).
        file->direct = Fd(::open(staging.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC));
        file->direct_works = static_cast<bool>(file->direct);
    }
    if (file->writable) {
        struct stat st {};
        if (::fstat(file->fd.get(), &st) != 0) throw_errno("stat " + staging.string());
        file->end = st.st_size;
        file->recorded = recorded;
        fs.writer_opened(file.get());
    }
    fi->fh = reinterpret_cast<uintptr_t>(file.get());
    if (upload_id) fs.opened(upload_id);
    return file.release();
}

// Whether the kernel may write a new upload's staging file `fd` itself
// (passthrough): its backing id, or -1 for every write through photodrop-fs.
// The kernel's writes do not pass the write path's checks, so it is only
// where none of them can fail on the way: room for the largest upload allowed
// is set aside in the file (no write can find the disk full; the commit gives
// back what was not used) while the disk keeps its reserve, and the quota, if
// the studio has one, has that room too (a passthrough writer counts in it as
// the largest upload). The size cap and the content are checked at the close.
// Not while the file at `path` (upload `shown`) is open here: the kernel opens
// a file either in passthrough or through its cache, and would fail this open.
int pass_through(Filesystem& fs, int fd, const char* path, uint32_t uid, std::optional<Id> shown) {
    if (!passthrough::on() || (shown && fs.is_open(*shown))) return -1;
    int64_t room = fs.options().max_upload_size;
    if (auto quota = fs.quota(); quota.limit && quota.use + room > *quota.limit) return -1;
    if (::fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, room) != 0) return -1;
    if (fs.free_space() < fs.options().free_space_reserve) {
        give_back_room(fd);
        return -1;
    }
    int id = passthrough::open_backing(fd);
    if (id < 0) {
        give_back_room(fd);
        fs.log(path, uid, fmt::format("written through photodrop-fs: the kernel refused its passthrough ({})",
                                      std::strerror(-id)));
    }
    return id;
}

// Refuses to start receiving when the data directory is nearly full: the
// upload would fail part way, and the space left is for the uploads under way.
bool refuse_when_full(Filesystem& fs, const char* path, uint32_t uid) {
    int64_t free = fs.free_space();
    if (free >= fs.options().free_space_reserve) return false;
    fs.refuse(path, uid, fmt::format("the server is out of space ({} MiB free, {} MiB kept in reserve): try again later",
                                     free >> 20, fs.options().free_space_reserve >> 20));
    return true;
}

// Refuses to start writing when the tenant's uploads hold its quota or more;
// a new upload's `attempt` is recorded, rejected, with the reason.
bool refuse_over_quota(Filesystem& fs, const char* path, uint32_t uid, std::optional<NewUpload> attempt = std::nullopt) {
    auto quota = fs.quota();
    if (!quota.limit || quota.use < *quota.limit) return false;
    fs.refuse(path, uid,
              fmt::format("the studio's storage quota is used up ({} of {}): delete photos or ask for a larger quota",
                          format_size(quota.use), format_size(*quota.limit)),
              std::move(attempt));
    return true;
}

// A new upload at `folder`/`name`, receiving into a fresh staging file; it
// replaces upload `replacing` (an overwrite), in the same transaction. With
// `beside` (the upload at `path`), it replaces nothing: it takes the first name
// like `name` that no upload of the folder has ("IMG_0001 (2).JPG"), and keeps
// `name` as the name it was sent under (a camera's).
int start_upload(Filesystem& fs, fuse_file_info* fi, const char* path, uint32_t uid, Id job_id, const Folder& folder,
                 const std::string& name, mode_t mode, std::optional<Id> supersedes,
                 std::optional<Id> replacing = std::nullopt, std::optional<Id> beside = std::nullopt) {
    auto [fd, data_path] = fs.new_staging_file();
    NewUpload n{job_id, folder, name, uid, static_cast<uint32_t>(mode & 07777), UploadState::Receiving, {}, data_path,
                supersedes, {}};
    Upload upload;
    try {
        upload = fs.with_catalog([&](MountCatalog& c) {
            if (beside) {
                n.filename = c.unused_name(job_id, folder, name);
                if (n.filename != name) n.sent_name = name;
            }
            return replacing ? c.replace_upload(*replacing, "replaced by a new upload of the same name", n)
                             : c.add_upload(n);
        });
    } catch (const CatalogError& e) {
        ::unlink(fs.data_file(data_path).c_str());
        if (e.kind() != CatalogError::Kind::Exists && e.kind() != CatalogError::Kind::Conflict) throw;
        // Another connection (through this mount or another host's) began an upload of this name a moment ago.
        fs.refuse(path, uid, busy_reason);
        return -EACCES;
    }
    if (replacing) fs.quota_changed();
    fs.begin_writing(upload.id);  // a new id: nobody else can have it
    lock_staging(fs, fd.get(), path, uid);  // nor its new staging file; held for mounts on other hosts
    int backing = pass_through(fs, fd.get(), path, uid, replacing ? replacing : beside);
    auto* file = new_handle(fs, fi, path, uid, upload.id, std::move(fd), fs.data_file(data_path), 0, backing);
    file->written = true;  // even an empty file is an upload to record on close
    if (backing >= 0) passthrough::answer_with(backing);
    file->diverted = !upload.sent_name.empty();
    fs.log(path, uid, fmt::format("{}{}", file->diverted ? "receiving as " + upload.filename : "receiving",
                                  backing >= 0 ? " (written by the kernel)" : ""));
    return 0;
}

// Opens an existing upload for writing (`truncate`: from the start):
// continues it until it is processed (the first byte written makes it
// `receiving` again), replaces it with a new upload when it is truncated
// after that. One writer at a time. A camera never replaces: what it sends
// again under the name of an upload it finished is a new upload beside it.
int open_for_writing(Filesystem& fs, fuse_file_info* fi, const char* path, uint32_t uid, const Node& node,
                     bool truncate) {
    const Upload& upload = *node.upload;
    if (refuse_when_full(fs, path, uid)) return -ENOSPC;
    if (refuse_over_quota(fs, path, uid)) return -EDQUOT;
    if (node.camera_album && truncate && upload.state != UploadState::Receiving && !is_fragment(fs, upload))
        return start_upload(fs, fi, path, uid, node.job->id, node.folder, upload.filename, upload.mode, std::nullopt,
                            std::nullopt, upload.id);
    if (!claim_writing(fs, upload.id, path, uid)) return -EACCES;
    WriterClaim writer(fs, upload.id);
    bool continuable = upload.state != UploadState::Processing && upload.state != UploadState::Ingested;
    if (continuable) {
        auto staging = fs.data_file(upload.data_path);
        Fd fd(::open(staging.c_str(), O_RDWR | O_CLOEXEC));
        if (!fd) throw_errno("open " + upload.data_path);
        // A mount on another host may be writing it: nothing changes before that is ruled out.
        if (!lock_staging(fs, fd.get(), path, uid)) return -EACCES;
        // False when the ingest service claimed it a moment ago.
        if (truncate) continuable = fs.with_catalog([&](MountCatalog& c) { return c.reopen(upload.id); });
        if (continuable) {
            // After a crash the file may end in a gap: resume after the bytes before it.
            if (truncate || upload.state == UploadState::Receiving) {
                int64_t keep = truncate ? 0 : contiguous_size(fd.get());
                if (::ftruncate(fd.get(), keep) != 0) throw_errno("truncate " + upload.data_path);
            }
            auto* file = new_handle(fs, fi, path, uid, upload.id, std::move(fd), staging, upload.size);
            writer.keep();
            // Receiving: its close commits it, written to or not (a resume may find every byte there).
            file->written = truncate || upload.state == UploadState::Receiving;
            if (!truncate && upload.state != UploadState::Receiving) file->phase = OpenFile::Phase::Settled;
            fs.log(path, uid, truncate ? "receiving again from the start" : "opened to continue");
            return 0;
        }
    }
    if (!truncate) {
        fs.refuse(path, uid, "this photo was received already: overwrite it to replace it");
        return -EACCES;
    }
    auto supersedes = upload.duplicate ? std::nullopt : upload.photo_id;
    return start_upload(fs, fi, path, uid, node.job->id, node.folder, upload.filename, upload.mode, supersedes,
                        upload.id);
}

// What a file at `parent`/`name` would be as an upload.
NewUpload attempt_at(const Node& parent, const std::string& name, uint32_t uid, mode_t mode) {
    NewUpload attempt;
    attempt.job_id = parent.job->id;
    attempt.folder = parent.folder;
    attempt.filename = name;
    attempt.uid = uid;
    attempt.mode = mode & 07777;
    return attempt;
}

// A junk file (.DS_Store and friends): accepted, recorded as discarded, its bytes dropped.
int open_junk(Filesystem& fs, fuse_file_info* fi, const char* path, uint32_t uid, NewUpload attempt) {
    attempt.state = UploadState::Discarded;
    attempt.reason = "a file the operating system makes for itself: accepted and thrown away";
    auto upload = fs.with_catalog([&](MountCatalog& c) { return c.add_upload(attempt); });
    auto* file = new_handle(fs, fi, path, uid, 0, Fd());
    file->junk = true;
    file->upload_id = upload.id;
    fs.junk_opened(path);
    fs.log(path, uid, "discarded: " + attempt.reason);
    return 0;
}

}  // namespace

int create(const char* path, mode_t mode, fuse_file_info* fi) noexcept {
    return guarded("create", path, [&] {
        auto& fs = current();
        uint32_t uid = caller_uid();
        auto [parent, name] = fs.resolve_parent(path, uid, Filesystem::Reading::Current);
        if (!parent.is_dir()) return -ENOENT;
        if (parent.kind == Node::Kind::Root) {
            fs.refuse(path, uid, policy::create_file(Layout::Albums, policy::Level::Root, name).verdict.reason());
            return -EACCES;
        }
        auto decision = policy::create_file(parent.job->layout, parent.level(), name, fs.options().settings);
        auto attempt = attempt_at(parent, name, uid, mode);  // a refused name is kept as it was sent
        if (!decision.verdict) {
            fs.refuse(path, uid, decision.verdict.reason(), attempt);
            return -EACCES;
        }
        attempt.filename = decision.name;
        if (decision.kind == policy::FileKind::Junk) return open_junk(fs, fi, path, uid, attempt);
        if (auto existing = fs.resolve(path, uid, Filesystem::Reading::Current); existing.kind == Node::Kind::File) {
            // What a camera's dropped transfer left: its next try writes it from the start.
            if (is_fragment(fs, *existing.upload)) return open_for_writing(fs, fi, path, uid, existing, true);
            // Another client made it a moment ago: open it as the flags say.
            if (fi->flags & O_EXCL) return -EEXIST;
            return open_for_writing(fs, fi, path, uid, existing, fi->flags & O_TRUNC);
        }
        if (refuse_when_full(fs, path, uid)) return -ENOSPC;
        if (refuse_over_quota(fs, path, uid, attempt)) return -EDQUOT;
        return start_upload(fs, fi, path, uid, parent.job->id, parent.folder, decision.name, mode, std::nullopt);
    });
}

int open(const char* path, fuse_file_info* fi) noexcept {
    return guarded("open", path, [&] {
        auto& fs = current();
        uint32_t uid = caller_uid();
        // What it opens is current: a writer must not take a state another host changed.
        auto node = fs.resolve(path, uid, Filesystem::Reading::Current);
        if (node.is_dir()) return -EISDIR;
        if (node.kind != Node::Kind::File) {
            // A junk file that another client has open shows, so the kernel opens rather than creates it.
            auto [parent, name] = fs.resolve_parent(path, uid);
            if (!parent.is_dir() || parent.kind == Node::Kind::Root) return -ENOENT;
            auto decision = policy::create_file(parent.job->layout, parent.level(), name, fs.options().settings);
            if (!decision.verdict || decision.kind != policy::FileKind::Junk) return -ENOENT;
            return open_junk(fs, fi, path, uid, attempt_at(parent, decision.name, uid, 0644));
        }
        bool writing = (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC);
        if (writing) return open_for_writing(fs, fi, path, uid, node, fi->flags & O_TRUNC);
        Fd fd(::open(fs.data_file(node.upload->data_path).c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) throw_errno("open " + node.upload->data_path);
        new_handle(fs, fi, path, uid, node.upload->id, std::move(fd));
        return 0;
    });
}

}  // namespace photodrop::fs::ops
