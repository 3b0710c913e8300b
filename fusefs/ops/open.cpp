#include "fusefs/ops/common.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

namespace photodrop::fs::ops {

namespace {

OpenFile* new_handle(Filesystem& fs, fuse_file_info* fi, const char* path, uint32_t uid, Id upload_id, Fd fd,
                     bool writable) {
    auto* file = new OpenFile;
    file->upload_id = upload_id;
    file->fd = std::move(fd);
    file->uid = uid;
    file->writable = writable;
    file->path = path;
    // Whole pages of an upload go to disk without passing through a second
    // page cache (the kernel keeps one for the mount already).
    if (writable && file->fd) {
        file->direct = Fd(::open(fmt::format("/proc/self/fd/{}", file->fd.get()).c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC));
        file->direct_works = static_cast<bool>(file->direct);
    }
    fi->fh = reinterpret_cast<uintptr_t>(file);
    if (upload_id) fs.opened(upload_id);
    return file;
}

// A new upload at `folder`/`name`, receiving into a fresh staging file.
int start_upload(Filesystem& fs, fuse_file_info* fi, const char* path, uint32_t uid, Id job_id, const Folder& folder,
                 const std::string& name, mode_t mode, std::optional<Id> supersedes) {
    auto [fd, data_path] = fs.new_staging_file();
    NewUpload n{job_id, folder, name, uid, static_cast<uint32_t>(mode & 07777), UploadState::Receiving, {}, data_path,
                supersedes};
    auto upload = fs.with_catalog([&](Catalog& c) { return c.add_upload(n); });
    auto* file = new_handle(fs, fi, path, uid, upload.id, std::move(fd), true);
    file->written = true;  // even an empty file is an upload to record on close
    fs.log(path, uid, "receiving");
    return 0;
}

// Opens an existing upload for writing: continues it until it is processed
// (the first byte written makes it `receiving` again), replaces it with a new
// upload when it is truncated after that.
int open_for_writing(Filesystem& fs, fuse_file_info* fi, const char* path, uint32_t uid, const Node& node) {
    const Upload& upload = *node.upload;
    bool truncate = fi->flags & O_TRUNC;
    bool continuable = upload.state != UploadState::Processing && upload.state != UploadState::Ingested;
    if (continuable && truncate) {
        try {
            fs.with_catalog([&](Catalog& c) { c.reopen(upload.id); });
        } catch (const CatalogError&) {
            continuable = false;  // the ingest service claimed it a moment ago
        }
    }
    if (continuable) {
        Fd fd(::open(fs.data_file(upload.data_path).c_str(), O_RDWR | O_CLOEXEC | (truncate ? O_TRUNC : 0)));
        if (!fd) throw_errno("open " + upload.data_path);
        auto* file = new_handle(fs, fi, path, uid, upload.id, std::move(fd), true);
        file->written = truncate;
        file->not_receiving = !truncate && upload.state != UploadState::Receiving;
        fs.log(path, uid, truncate ? "receiving again from the start" : "opened to continue");
        return 0;
    }
    if (!truncate) {
        fs.refuse(path, uid, "this photo was received already: overwrite it to replace it");
        return -EACCES;
    }
    fs.with_catalog([&](Catalog& c) {
        c.set_state(upload.id, UploadState::Deleted, "replaced by a new upload of the same name");
    });
    auto supersedes = upload.duplicate ? std::nullopt : upload.photo_id;
    return start_upload(fs, fi, path, uid, node.job->id, node.folder, upload.filename, upload.mode, supersedes);
}

}  // namespace

int create(const char* path, mode_t mode, fuse_file_info* fi) noexcept {
    return guarded("create", path, [&] {
        auto& fs = current();
        uint32_t uid = caller_uid();
        auto [parent, name] = fs.resolve_parent(path, uid);
        if (!parent.is_dir()) return -ENOENT;
        if (parent.kind == Node::Kind::Root) {
            fs.refuse(path, uid, policy::create_file(Layout::Albums, policy::Level::Root, name).verdict.reason());
            return -EACCES;
        }
        auto decision = policy::create_file(parent.job->layout, parent.level(), name, fs.options().settings);
        NewUpload attempt;
        attempt.job_id = parent.job->id;
        attempt.folder = parent.folder;
        attempt.filename = name;
        attempt.uid = uid;
        attempt.mode = mode & 07777;
        if (!decision.verdict) {
            fs.refuse(path, uid, decision.verdict.reason(), attempt);
            return -EACCES;
        }
        if (decision.kind == policy::FileKind::Junk) {
            attempt.state = UploadState::Discarded;
            attempt.reason = "a file the operating system makes for itself: accepted and thrown away";
            auto upload = fs.with_catalog([&](Catalog& c) { return c.add_upload(attempt); });
            auto* file = new_handle(fs, fi, path, uid, 0, Fd(), true);
            file->junk = true;
            file->upload_id = upload.id;
            fs.junk_opened(path);
            fs.log(path, uid, "discarded: " + attempt.reason);
            return 0;
        }
        if (auto existing = fs.resolve(path, uid); existing.kind == Node::Kind::File) {
            // Another client made it a moment ago: open it as the flags say.
            if (fi->flags & O_EXCL) return -EEXIST;
            return open_for_writing(fs, fi, path, uid, existing);
        }
        return start_upload(fs, fi, path, uid, parent.job->id, parent.folder, name, mode, std::nullopt);
    });
}

int open(const char* path, fuse_file_info* fi) noexcept {
    return guarded("open", path, [&] {
        auto& fs = current();
        uint32_t uid = caller_uid();
        auto node = fs.resolve(path, uid);
        if (node.is_dir()) return -EISDIR;
        if (node.kind != Node::Kind::File) return -ENOENT;
        bool writing = (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC);
        if (writing) return open_for_writing(fs, fi, path, uid, node);
        Fd fd(::open(fs.data_file(node.upload->data_path).c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) throw_errno("open " + node.upload->data_path);
        new_handle(fs, fi, path, uid, node.upload->id, std::move(fd), false);
        return 0;
    });
}

}  // namespace photodrop::fs::ops
