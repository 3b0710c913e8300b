#pragma once
// How much of an upload the kernel keeps unwritten in the mount's page cache.

#include <cstdint>
#include <string>

namespace photodrop::fs {

// Dirty pages the kernel may hold for one mount before it starts writing them
// back to photodrop-fs. The close of an upload waits until all of them are on
// disk, so a small figure keeps that wait short: the bytes stream to disk while
// the client is still sending. FUSE's own limit is 1% of the system's dirty
// memory (46 MiB with 24 GiB of RAM), more than a photo, so a photo was written
// back only at its close. With 8 MiB, a close of an 8 MiB photo sent at
// 200 MiB/s waits 2.5-3 ms instead of 8-9 ms; a single writer is held to about
// 390 MiB/s instead of 450 (a smaller limit holds it back more: 2 MiB, 220 MiB/s).
constexpr uint64_t writeback_limit_bytes = 8 << 20;

// "MAJ:MIN" of the file system mounted at `mountpoint` (canonical, as libfuse
// makes it), read from /proc/self/mountinfo so as not to touch the mount
// itself; the last of several mounts there. Empty when it is not mounted.
std::string mounted_device(const std::string& mountpoint, const std::string& mountinfo_path = "/proc/self/mountinfo");

// Sets the mount's limit in /sys/class/bdi/DEV/max_bytes (Linux 6.2 and later).
// Returns what happened, for the log; failing to set it is not an error.
std::string limit_writeback(const std::string& mountpoint, uint64_t bytes = writeback_limit_bytes);

}  // namespace photodrop::fs
