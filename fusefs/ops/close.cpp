#include "fusefs/ops/common.hpp"

#include <unistd.h>

namespace photodrop::fs::ops {

// close(2) reaches the filesystem as flush, before it returns to the client:
// this is where an upload becomes durable and queued. (release comes later and
// asynchronously, so it cannot be the moment a client is told "done".)
int flush(const char* path, fuse_file_info* fi) noexcept {
    return guarded("flush", path, [&] {
        auto* file = handle_of(fi);
        if (file->junk || !file->writable) return 0;
        std::lock_guard lock(file->mutex);
        return commit_upload(current(), *file, false);
    });
}

int release(const char* path, fuse_file_info* fi) noexcept {
    auto* file = handle_of(fi);
    int rc = guarded("release", path, [&] {
        auto& fs = current();
        if (file->junk) {
            fs.junk_closed(file->path);
            return 0;
        }
        fs.closed(file->upload_id);
        if (!file->writable) return 0;
        std::lock_guard lock(file->mutex);
        return commit_upload(fs, *file, true);
    });
    delete file;
    return rc;
}

int fsync(const char* path, int datasync, fuse_file_info* fi) noexcept {
    return guarded("fsync", path, [&] {
        auto* file = handle_of(fi);
        if (file->junk) return 0;
        int rc = datasync ? ::fdatasync(file->fd.get()) : ::fsync(file->fd.get());
        return rc == 0 ? 0 : -errno;
    });
}

}  // namespace photodrop::fs::ops
