#pragma once

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 314
#endif
#include <fuse_lowlevel.h>

// FUSE passthrough (Linux 6.9 and later): the kernel reads and writes a
// file's backing file itself, without a round trip through photodrop-fs for
// each write. Debian 12's libfuse (3.14) cannot ask for it, so photodrop-fs
// does it on the FUSE device's messages: it reads the kernel's INIT offer,
// adds the flag to the answer, and gives an open's answer the backing file.
// Without the kernel's offer nothing changes.
namespace photodrop::fs::passthrough {

// Puts this module between libfuse and `session`'s FUSE device; before the loop.
void install(fuse_session* session);

// From the init operation: asks for passthrough if the kernel offered it.
// False: it did not (or is not asked to), and the mount works as before.
bool ask();

// Whether the kernel took passthrough at INIT.
bool on();

// A backing id for the open file `fd`, or -errno.
int open_backing(int fd);
void close_backing(int id);

// The answer this thread sends next, to the open or create it is serving,
// opens backing `id` in passthrough.
void answer_with(int id);

}  // namespace photodrop::fs::passthrough
