#include "fusefs/ops/common.hpp"

#include <sys/statvfs.h>

#include <algorithm>

namespace photodrop::fs::ops {

// The free space a client sees is that of the data directory, where the bytes
// go; with a quota, the quota is the size and what is left of it is free, no
// more than the data directory has above the reserve.
int statfs(const char* path, struct statvfs* st) noexcept {
    return guarded("statfs", path, [&] {
        auto& fs = current();
        if (::statvfs(fs.options().data.c_str(), st) != 0) return -errno;
        st->f_namemax = 255;
        auto quota = fs.quota();
        if (!quota.limit) return 0;
        auto unit = static_cast<int64_t>(std::max<unsigned long>(st->f_frsize, 1));
        int64_t disk_left = static_cast<int64_t>(st->f_bavail) * unit - fs.options().free_space_reserve;
        int64_t left = std::max<int64_t>(0, std::min(*quota.limit - quota.use, disk_left));
        st->f_blocks = static_cast<fsblkcnt_t>(*quota.limit / unit);
        st->f_bfree = st->f_bavail = static_cast<fsblkcnt_t>(left / unit);
        return 0;
    });
}

}  // namespace photodrop::fs::ops
