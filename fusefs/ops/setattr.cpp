#include "fusefs/ops/common.hpp"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <mutex>
#include <shared_mutex>

namespace photodrop::fs::ops {

namespace {

// The upload that `path` or `fi` names; nullopt for a folder; throws ENOENT for nothing.
std::optional<Upload> target_upload(Filesystem& fs, const char* path, fuse_file_info* fi, uint32_t uid) {
    if (auto* file = handle_of(fi)) {
        if (file->junk) return std::nullopt;
        return fs.with_catalog([&](MountCatalog& c) { return c.upload(file->upload_id); });
    }
    auto node = fs.resolve(path ? path : "", uid, Filesystem::Reading::Current);
    if (node.kind == Node::Kind::File) return node.upload;
    if (node.is_dir()) return std::nullopt;
    errno = ENOENT;
    throw_errno(path ? path : "-");
}

}  // namespace

// The mode is recorded, not enforced: clients that set it must not fail.
int chmod(const char* path, mode_t mode, fuse_file_info* fi) noexcept {
    return guarded("chmod", path, [&] {
        auto& fs = current();
        uint32_t uid = caller_uid();
        if (!fi && path && std::string_view(path) == "/") {
            fs.refuse(path, uid, "the top folder cannot be changed");
            return -EPERM;
        }
        if (auto upload = target_upload(fs, path, fi, uid))
            fs.with_catalog([&](MountCatalog& c) { c.set_attributes(upload->id, std::nullopt, std::nullopt, mode & 07777); });
        return 0;
    });
}

int chown(const char* path, uid_t, gid_t, fuse_file_info*) noexcept {
    return guarded("chown", path, [&] {
        current().refuse(path ? path : "-", caller_uid(), "the owner of files and folders cannot be changed");
        return -EPERM;
    });
}

// A size may shrink an upload being received (a resume, an overwrite); it may
// not grow one past what was written: that is bytes nobody sent, and a sparse
// file of any size for the ingest service to read.
int truncate(const char* path, off_t size, fuse_file_info* fi) noexcept {
    return guarded("truncate", path, [&] {
        auto& fs = current();
        uint32_t uid = caller_uid();
        const char* where = path ? path : "-";
        auto* file = handle_of(fi);
        if (file && file->junk) {
            file->junk_size = size;
            return 0;
        }
        if (size > fs.options().max_upload_size) {
            fs.refuse(where, uid, too_large_reason(fs));
            return -EFBIG;
        }
        if (file && file->writable) {
            // The kernel may still hold written pages below `size`: a gap that
            // stays is found at the commit.
            std::unique_lock exclusive(file->lock);
            take_back(fs, *file);
            if (file->phase == OpenFile::Phase::Done) return -file->error;
            if (::ftruncate(file->fd.get(), size) != 0) return -errno;
            // The kernel writes it (passthrough): the room set aside past `size` went with the truncation.
            if (file->backing >= 0 && ::fallocate(file->fd.get(), FALLOC_FL_KEEP_SIZE, 0, fs.options().max_upload_size) != 0) {
                int err = errno;
                fail_writing(fs, *file, err, size);
                return -err;
            }
            file->end = size;
            file->written = true;
            return 0;
        }
        auto upload = target_upload(fs, path, fi, uid);
        if (!upload) return -EISDIR;
        if (upload->state != UploadState::Receiving && upload->state != UploadState::Queued) {
            fs.refuse(where, uid, "this photo was received already: overwrite it to replace it");
            return -EACCES;
        }
        if (!claim_writing(fs, upload->id, where, uid)) return -EACCES;
        WriterClaim writer(fs, upload->id);
        auto staging = fs.data_file(upload->data_path);
        Fd fd(::open(staging.c_str(), O_RDWR | O_CLOEXEC));
        if (!fd) throw_errno("open " + upload->data_path);
        if (!lock_staging(fs, fd.get(), where, uid)) return -EACCES;
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0) throw_errno("stat " + upload->data_path);
        if (size > st.st_size) {
            fs.refuse(where, uid, fmt::format("a file cannot be made larger than what was written ({} bytes)", st.st_size));
            return -EACCES;
        }
        // Taken back from the queue first, so that the ingest service never reads a file that changes.
        bool queued = upload->state == UploadState::Queued;
        if (queued && !fs.with_catalog([&](MountCatalog& c) { return c.reopen(upload->id); })) {
            fs.refuse(where, uid, "this photo is being processed already: overwrite it to replace it");
            return -EACCES;
        }
        if (::ftruncate(fd.get(), size) != 0 || (queued && ::fsync(fd.get()) != 0)) return -errno;
        if (::fstat(fd.get(), &st) != 0) throw_errno("stat " + upload->data_path);
        int64_t mtime_ns = to_ns(st.st_mtim);
        fs.with_catalog([&](MountCatalog& c) {
            c.close_upload(upload->id, size, mtime_ns, [&](const Upload&) { return queued; });
        });
        fs.quota_changed();
        if (queued) fs.wake_ingest(upload->id);
        return 0;
    });
}

// Timestamps are kept and shown: clients compare them to decide what to upload.
int utimens(const char* path, const struct timespec tv[2], fuse_file_info* fi) noexcept {
    return guarded("utimens", path, [&] {
        auto& fs = current();
        uint32_t uid = caller_uid();
        auto upload = target_upload(fs, path, fi, uid);
        if (!upload) return 0;  // folders: accepted, nothing to keep
        std::optional<int64_t> mtime;
        if (tv[1].tv_nsec == UTIME_NOW) mtime = now_ns();
        else if (tv[1].tv_nsec != UTIME_OMIT) mtime = to_ns(tv[1]);
        if (!mtime) return 0;
        timespec times[2] = {{0, UTIME_OMIT}, {*mtime / 1'000'000'000, static_cast<long>(*mtime % 1'000'000'000)}};
        if (auto* file = handle_of(fi); file && file->writable && file->written) {
            // The kernel's write-back of a file being written: its close records the mtime.
            std::shared_lock shared(file->lock);
            if (file->phase == OpenFile::Phase::Receiving) return ::futimens(file->fd.get(), times) == 0 ? 0 : -errno;
        }
        // A writer's close records its staging file's mtime; the file is never one in the store.
        if (upload->state == UploadState::Receiving && fs.is_open(upload->id) &&
            ::utimensat(AT_FDCWD, fs.data_file(upload->data_path).c_str(), times, 0) != 0 && errno != ENOENT)
            return -errno;
        fs.with_catalog([&](MountCatalog& c) { c.set_attributes(upload->id, std::nullopt, mtime, std::nullopt); });
        return 0;
    });
}

}  // namespace photodrop::fs::ops
