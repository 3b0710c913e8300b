#include "fusefs/ops/common.hpp"
#include "fusefs/passthrough.hpp"

#include <unistd.h>

#include <memory>
#include <mutex>
#include <shared_mutex>

namespace photodrop::fs::ops {

// close(2) reaches the filesystem as flush, before it returns to the client:
// this is where an upload becomes durable and queued, or where close fails
// (a refused or failed upload). release comes later and asynchronously, so it
// cannot be the moment a client is told "done".
int flush(const char* path, fuse_file_info* fi) noexcept {
    return guarded("flush", path, [&] {
        auto& fs = current();
        auto* file = handle_of(fi);
        if (file->junk || !file->writable) return 0;
        int rc;
        {
            std::unique_lock exclusive(file->lock);
            rc = commit_upload(fs, *file, false);
        }
        // Before the client hears of it: a stat right after must not find the size it sent.
        // Nor one of a camera's file sent again the size of the new upload beside it.
        if (rc < 0 || file->diverted) fs.forget_cached_now(file->path);
        // Nor one under another form of the name (NFC, NFD) the size and bytes of the file it replaced.
        else fs.forget_other_forms_now(file->path);
        return rc;
    });
}

int release(const char* path, fuse_file_info* fi) noexcept {
    std::unique_ptr<OpenFile> file(handle_of(fi));
    return guarded("release", path, [&] {
        auto& fs = current();
        if (file->junk) {
            fs.junk_closed(file->path);
            return 0;
        }
        fs.closed(file->upload_id);
        if (!file->writable) return 0;
        if (file->backing >= 0) passthrough::close_backing(file->backing);  // the kernel's file is gone
        // Its bytes count towards the quota until the commit has recorded them, however it ends.
        struct Uncount {
            Filesystem& fs;
            OpenFile* file;
            ~Uncount() { fs.writer_closed(file); }
        } uncount{fs, file.get()};
        bool left_receiving;
        {
            // The writer stays the upload's only one until its last bytes are committed.
            WriterClaim writer(fs, file->upload_id);
            std::unique_lock exclusive(file->lock);
            int rc = commit_upload(fs, *file, true);
            if (file->backing >= 0 && file->phase != OpenFile::Phase::Settled) give_back_room(file->fd.get());
            if (rc < 0) return rc;
            left_receiving = file->phase == OpenFile::Phase::Receiving && file->left_receiving;
        }
        // Renamed to its real name after its commit, while this writer held it.
        if (left_receiving) queue_if_named(fs, file->upload_id, file->path, file->uid);
        return 0;
    });
}

int fsync(const char* path, int datasync, fuse_file_info* fi) noexcept {
    return guarded("fsync", path, [&] {
        auto* file = handle_of(fi);
        if (file->junk) return 0;
        std::shared_lock shared(file->lock);
        if (file->phase == OpenFile::Phase::Done) return -file->error;
        int rc = datasync ? ::fdatasync(file->fd.get()) : ::fsync(file->fd.get());
        return rc == 0 ? 0 : -errno;
    });
}

}  // namespace photodrop::fs::ops
