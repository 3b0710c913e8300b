#include "fusefs/ops/common.hpp"

#include "catalog/config.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstdlib>
#include <memory>
#include <mutex>
#include <shared_mutex>

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

// Copies the request's bytes to `fd` at `offset`: a splice when they are in
// libfuse's pipe, else a write.
ssize_t copy_to(int fd, off_t offset, fuse_bufvec* in, size_t size) {
    fuse_bufvec out = FUSE_BUFVEC_INIT(size);
    out.buf[0].flags = static_cast<fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
    out.buf[0].fd = fd;
    out.buf[0].pos = offset;
    return fuse_buf_copy(&out, in, FUSE_BUF_SPLICE_NONBLOCK);
}

// Writes the bytes of a WRITE request into the staging file. Whole pages
// (all of them but an upload's last, as the kernel's write-back sends them)
// go straight to disk with O_DIRECT rather than into a second page cache,
// which the kernel would have to write back and reclaim: spliced from
// libfuse's pipe where it has one, else from an aligned copy. The rest is a
// buffered write, whose write-back starts at once so that the fsync on close
// has little left.
ssize_t store(OpenFile& file, fuse_bufvec* in, off_t offset, size_t size) {
    if (file.direct_works && offset % page == 0 && size % page == 0 && size <= max_write) {
        // EINVAL: the file system wants another alignment, or no O_DIRECT at
        // all; nothing was written or taken from the pipe. Buffered from then on.
        if (in->count == 1 && (in->buf[0].flags & FUSE_BUF_IS_FD)) {
            ssize_t n = copy_to(file.direct.get(), offset, in, size);
            if (n != -EINVAL) return n;
            file.direct_works = false;
        } else if (std::byte* buffer = aligned_buffer()) {
            fuse_bufvec aligned = FUSE_BUFVEC_INIT(size);
            aligned.buf[0].mem = buffer;
            ssize_t n = fuse_buf_copy(&aligned, in, fuse_buf_copy_flags{});
            if (n < 0) return n;
            ssize_t written = ::pwrite(file.direct.get(), buffer, static_cast<size_t>(n), offset);
            if (written < 0 && errno == EINVAL) {
                file.direct_works = false;
                written = ::pwrite(file.fd.get(), buffer, static_cast<size_t>(n), offset);
            }
            return written < 0 ? -errno : written;
        }
    }
    ssize_t n = copy_to(file.fd.get(), offset, in, size);
    if (n > 0) ::sync_file_range(file.fd.get(), offset, n, SYNC_FILE_RANGE_WRITE);
    return n;
}

// Once a handle is Done, a WRITE drops its bytes without an error: the close
// (flush) reports the errno, after making the kernel forget the size it cached.
// An error here would end the kernel's write-back, which would fail the close
// with EIO or ENOSPC without asking photodrop-fs, and a stat right after would
// still show what the client sent.
int dropped(size_t size) { return static_cast<int>(size); }
}  // namespace

int read(const char* path, char* buf, size_t size, off_t offset, fuse_file_info* fi) noexcept {
    return guarded("read", path, [&] {
        auto* file = handle_of(fi);
        if (file->junk) return 0;
        ssize_t n = ::pread(file->fd.get(), buf, size, offset);
        return n < 0 ? -errno : static_cast<int>(n);
    });
}

// The write path touches the catalog only to take an upload back from the
// queue: bytes go straight to the staging file, several writes at once.
int write_buf(const char* path, fuse_bufvec* in, off_t offset, fuse_file_info* fi) noexcept {
    return guarded("write", path, [&] {
        auto& fs = current();
        auto* file = handle_of(fi);
        size_t size = fuse_buf_size(in);
        int64_t end = offset + static_cast<int64_t>(size);
        if (file->junk) {
            int64_t seen = file->junk_size;
            while (end > seen && !file->junk_size.compare_exchange_weak(seen, end)) {
            }
            return static_cast<int>(size);
        }
        if (!file->writable) return -EBADF;
        if (end > fs.options().max_upload_size) {
            std::unique_lock exclusive(file->lock);
            take_back(fs, *file);
            refuse_content(fs, *file, too_large_reason(fs), EFBIG);
            return dropped(size);
        }
        // Bytes that would take the tenant past its quota: the upload is cut
        // back before them and stays resumable, as on a full disk.
        if (int64_t growth = end - file->end; growth > 0) {
            auto quota = fs.quota();
            if (quota.limit && quota.use + growth > *quota.limit) {
                std::unique_lock exclusive(file->lock);
                take_back(fs, *file);
                if (file->phase == OpenFile::Phase::Receiving)
                    fs.log(file->path, file->uid,
                           fmt::format("refused: bytes {} to {} would take the studio past its storage quota "
                                       "({} of {} used)",
                                       offset, end, format_size(quota.use), format_size(*quota.limit)));
                fail_writing(fs, *file, EDQUOT, offset);
                return dropped(size);
            }
        }
        std::shared_lock shared(file->lock);
        while (file->phase != OpenFile::Phase::Receiving) {
            if (file->phase == OpenFile::Phase::Done) return dropped(size);
            shared.unlock();
            {
                std::unique_lock exclusive(file->lock);
                take_back(fs, *file);
            }
            shared.lock();
        }
        ssize_t n = store(*file, in, offset, size);
        if (n >= 0 && static_cast<size_t>(n) == size) {
            file->written = true;
            int64_t seen = file->end;
            while (end > seen && !file->end.compare_exchange_weak(seen, end)) {
            }
        }
        shared.unlock();
        if (n < 0 || static_cast<size_t>(n) != size) {
            // A short write is a full disk that let part of the bytes in.
            int err = n < 0 ? static_cast<int>(-n) : ENOSPC;
            std::unique_lock exclusive(file->lock);
            fail_writing(fs, *file, err, n < 0 ? offset : offset + n);
            return dropped(size);
        }
        // The first bytes are checked as they arrive, and again at the commit.
        if (offset < static_cast<off_t>(policy::archive_check_bytes)) {
            std::unique_lock exclusive(file->lock);
            if (file->phase == OpenFile::Phase::Receiving && !check_content(fs, *file, false))
                return dropped(size);
        }
        return static_cast<int>(n);
    });
}

}  // namespace photodrop::fs::ops
