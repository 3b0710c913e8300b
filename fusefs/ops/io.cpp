#include "fusefs/ops/common.hpp"

#include <fcntl.h>
#include <cstdlib>
#include <memory>
#include <unistd.h>

namespace photodrop::fs::ops {

namespace {
constexpr size_t page = 4096;

// One page-aligned buffer per FUSE worker thread, as large as the largest write.
std::byte* aligned_buffer() {
    struct Free {
        void operator()(std::byte* p) const noexcept { std::free(p); }
    };
    thread_local std::unique_ptr<std::byte, Free> buffer(static_cast<std::byte*>(std::aligned_alloc(page, max_write)));
    return buffer.get();
}

// Writes the bytes of a WRITE request into the staging file. Whole pages
// (all of them but an upload's last, as the kernel's write-back sends them)
// go straight to disk with O_DIRECT: one copy into an aligned buffer instead
// of a second page cache that the mount's own would otherwise fill and the
// kernel would have to write back and reclaim. The rest is a buffered write,
// whose write-back starts at once so that the fsync on close has little left.
ssize_t store(OpenFile& file, fuse_bufvec* in, off_t offset, size_t size) {
    if (file.direct && offset % page == 0 && size % page == 0 && size <= max_write) {
        if (std::byte* buffer = aligned_buffer()) {
            fuse_bufvec aligned = FUSE_BUFVEC_INIT(size);
            aligned.buf[0].mem = buffer;
            ssize_t n = fuse_buf_copy(&aligned, in, fuse_buf_copy_flags{});
            if (n < 0) return n;
            ssize_t written = ::pwrite(file.direct.get(), buffer, static_cast<size_t>(n), offset);
            if (written >= 0 || errno != EINVAL) return written < 0 ? -errno : written;
            // The file system wants another alignment: buffered from here on.
            file.direct.reset();
            written = ::pwrite(file.fd.get(), buffer, static_cast<size_t>(n), offset);
            return written < 0 ? -errno : written;
        }
    }
    fuse_bufvec out = FUSE_BUFVEC_INIT(size);
    out.buf[0].flags = static_cast<fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
    out.buf[0].fd = file.fd.get();
    out.buf[0].pos = offset;
    ssize_t n = fuse_buf_copy(&out, in, FUSE_BUF_SPLICE_NONBLOCK);
    if (n > 0) ::sync_file_range(file.fd.get(), offset, n, SYNC_FILE_RANGE_WRITE);
    return n;
}
}  // namespace

int read(const char* path, char* buf, size_t size, off_t offset, fuse_file_info* fi) noexcept {
    return guarded("read", path, [&] {
        auto* file = handle_of(fi);
        if (file->junk) return 0;
        ssize_t n = ::pread(file->fd.get(), buf, size, offset);
        return n < 0 ? -errno : static_cast<int>(n);
    });
}

// The write path touches no catalog: bytes go straight to the staging file.
int write_buf(const char* path, fuse_bufvec* in, off_t offset, fuse_file_info* fi) noexcept {
    return guarded("write", path, [&] {
        auto& fs = current();
        auto* file = handle_of(fi);
        size_t size = fuse_buf_size(in);
        if (file->junk) {
            int64_t end = offset + static_cast<int64_t>(size);
            int64_t seen = file->junk_size;
            while (end > seen && !file->junk_size.compare_exchange_weak(seen, end)) {
            }
            return static_cast<int>(size);
        }
        if (!file->writable) return -EBADF;
        if (file->refused) return -EACCES;
        ssize_t n = store(*file, in, offset, size);
        if (n < 0) return static_cast<int>(n);
        file->written = true;
        if (file->not_receiving) {
            // The first byte into a queued (or rejected) upload, resumed or after a
            // close of a duplicate descriptor: it is receiving again until the next close.
            std::lock_guard lock(file->mutex);
            if (file->not_receiving.exchange(false)) {
                try {
                    fs.with_catalog([&](Catalog& c) { c.reopen(file->upload_id); });
                } catch (const CatalogError&) {
                    fs.refuse(file->path, file->uid, "this photo is being processed already: overwrite it to replace it");
                    file->refused = true;
                    return -EACCES;
                }
            }
        }
        if (!file->head_checked && offset < static_cast<off_t>(policy::archive_check_bytes)) {
            std::lock_guard lock(file->mutex);
            if (!file->refused && !check_head(fs, *file)) return -EACCES;
        }
        return static_cast<int>(n);
    });
}

}  // namespace photodrop::fs::ops
