#pragma once
// The FUSE operations, one file per operation or small group of them, wired up
// in operations.cpp. Each is noexcept and returns 0 or a negative errno.

#define FUSE_USE_VERSION 314
#include <fuse.h>

#include <cstddef>

namespace photodrop::fs::ops {

// The largest WRITE the kernel sends: its write-back gathers a client's small writes up to this.
constexpr size_t max_write = 1 << 20;

void* init(fuse_conn_info* conn, fuse_config* cfg) noexcept;
int getattr(const char* path, struct stat* st, fuse_file_info* fi) noexcept;
int opendir(const char* path, fuse_file_info* fi) noexcept;
int readdir(const char* path, void* buf, fuse_fill_dir_t fill, off_t offset, fuse_file_info* fi,
            fuse_readdir_flags flags) noexcept;
int mkdir(const char* path, mode_t mode) noexcept;
int rmdir(const char* path) noexcept;
int create(const char* path, mode_t mode, fuse_file_info* fi) noexcept;
int open(const char* path, fuse_file_info* fi) noexcept;
int read(const char* path, char* buf, size_t size, off_t offset, fuse_file_info* fi) noexcept;
int write_buf(const char* path, fuse_bufvec* buf, off_t offset, fuse_file_info* fi) noexcept;
int flush(const char* path, fuse_file_info* fi) noexcept;
int release(const char* path, fuse_file_info* fi) noexcept;
int fsync(const char* path, int datasync, fuse_file_info* fi) noexcept;
int rename(const char* from, const char* to, unsigned int flags) noexcept;
int unlink(const char* path) noexcept;
int chmod(const char* path, mode_t mode, fuse_file_info* fi) noexcept;
int chown(const char* path, uid_t uid, gid_t gid, fuse_file_info* fi) noexcept;
int truncate(const char* path, off_t size, fuse_file_info* fi) noexcept;
int utimens(const char* path, const struct timespec tv[2], fuse_file_info* fi) noexcept;
int symlink(const char* target, const char* path) noexcept;
int link(const char* from, const char* to) noexcept;
int mknod(const char* path, mode_t mode, dev_t dev) noexcept;
int statfs(const char* path, struct statvfs* st) noexcept;

}  // namespace photodrop::fs::ops
