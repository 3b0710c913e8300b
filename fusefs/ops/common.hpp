#pragma once
// What the operations share: the exception-to-errno boundary and the upload
// handling that more than one operation needs.

#include "fusefs/filesystem.hpp"
#include "fusefs/ops/ops.hpp"

#include <string>

namespace photodrop::fs {

// Logs the exception in flight and returns its negative errno.
int errno_of_current_exception(const char* op, const char* path) noexcept;

// Runs `body`, turning any exception into a negative errno: the one place
// where exceptions stop before libfuse.
template <class Body>
int guarded(const char* op, const char* path, Body&& body) noexcept {
    try {
        return body();
    } catch (...) {
        return errno_of_current_exception(op, path);
    }
}

inline OpenFile* handle_of(fuse_file_info* fi) {
    return fi ? reinterpret_cast<OpenFile*>(static_cast<uintptr_t>(fi->fh)) : nullptr;
}

// Attributes of the file at `node`: those of its staging file while a writer has it open.
struct stat attr_of_file(Filesystem& fs, const Upload& upload, uint32_t uid);

// Runs the archive check on the start of the file; false when it refused the content.
bool check_head(Filesystem& fs, OpenFile& file);

// Makes what was written durable and records it: size, mtime, and `queued`
// when the name is a real image name. The caller holds file.mutex. An empty
// file waits for the last close (`last`): a shell's redirection closes a
// duplicate descriptor before it writes anything.
int commit_upload(Filesystem& fs, OpenFile& file, bool last);

[[noreturn]] void throw_errno(const std::string& what);

}  // namespace photodrop::fs
