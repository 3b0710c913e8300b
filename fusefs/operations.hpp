#pragma once
// The operations table of photodrop-fs and the loop that serves a mount.

#include "fusefs/filesystem.hpp"

#define FUSE_USE_VERSION 314
#include <fuse.h>

#include <string>
#include <vector>

namespace photodrop::fs {

// Every FUSE operation photodrop implements; the rest answer ENOSYS.
fuse_operations operations();

// Mounts and serves until unmounted or signalled (SIGTERM, SIGINT: unmount
// cleanly; the result is then 0). `libfuse_argv`: program, mount point, -f, -o ...
int serve(Options options, const std::vector<std::string>& libfuse_argv);

}  // namespace photodrop::fs
