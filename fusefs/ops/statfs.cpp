#include "fusefs/ops/common.hpp"

#include <sys/statvfs.h>

namespace photodrop::fs::ops {

// The free space a client sees is that of the data directory, where the bytes go.
int statfs(const char* path, struct statvfs* st) noexcept {
    return guarded("statfs", path, [&] {
        if (::statvfs(current().options().data.c_str(), st) != 0) return -errno;
        st->f_namemax = 255;
        return 0;
    });
}

}  // namespace photodrop::fs::ops
