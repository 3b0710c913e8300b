#include "fusefs/ops/common.hpp"

namespace photodrop::fs::ops {

int symlink(const char*, const char* path) noexcept {
    return guarded("symlink", path, [&] {
        current().refuse(path, caller_uid(), "symbolic links are not allowed");
        return -EPERM;
    });
}

// sftp-server falls back to rename() when link() answers EOPNOTSUPP.
int link(const char*, const char* to) noexcept {
    return guarded("link", to, [&] {
        current().log(to, caller_uid(), "refused: hard links are not supported");
        return -EOPNOTSUPP;
    });
}

int mknod(const char* path, mode_t, dev_t) noexcept {
    return guarded("mknod", path, [&] {
        current().refuse(path, caller_uid(), "device nodes, FIFOs and sockets are not allowed");
        return -EPERM;
    });
}

}  // namespace photodrop::fs::ops
