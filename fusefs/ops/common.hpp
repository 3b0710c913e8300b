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

// Attributes of the file at `node`: those of its staging file while a writer
// has it open; the bytes that are there in one piece while it is receiving
// with no writer (after a crash), so that a client resumes from there.
struct stat attr_of_file(Filesystem& fs, const Upload& upload, uint32_t uid);

// A camera's upload that ProFTPD stored hidden (policy::is_hidden_store) and
// that no handle writes: what a dropped connection or a crash left (receiving,
// or rejected as incomplete once receiving_expiry passed). No client sees it,
// so that ProFTPD, which refuses to store over a hidden file, takes the
// camera's next try; that try writes it again from the start.
bool is_fragment(Filesystem& fs, const Upload& upload);

// Why an album may not be renamed or removed: the camera accounts whose root
// it is (their home is its path); empty when there are none.
std::string cameras_reason(MountCatalog& c, const Filesystem& fs, const Album& album, const char* change);

// Why a file of more than options().max_upload_size bytes is refused.
std::string too_large_reason(const Filesystem& fs);

// Why a second writer of an upload is refused.
inline constexpr const char* busy_reason =
    "another connection is uploading this file right now: try again when it has finished";

// Makes the caller the upload's one writer (release with WriterClaim);
// refuses, and false, when another connection still writes it half a second on.
bool claim_writing(Filesystem& fs, Id upload_id, const std::string& path, uint32_t uid);

// The same across hosts that share the data directory: a writer holds a lock
// on its upload's staging file (`fd`, an open file description lock, which
// NFS and CephFS carry to every client) until `fd` is closed. Refuses, and
// false, when another mount's writer holds it.
bool lock_staging(Filesystem& fs, int fd, const std::string& path, uint32_t uid);

// Nanoseconds since the epoch, as the catalog keeps times.
inline int64_t to_ns(const timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec; }

// How many bytes from the start of the file are there without a gap; `size`:
// the file's size when the caller has it.
int64_t contiguous_size(int fd, std::optional<int64_t> size = std::nullopt);

// Gives back the disk space set aside past the end of a passthrough upload's
// staging file `fd` (a truncation to its own size); its times stay.
void give_back_room(int fd);

// A temporary name becomes queued once it has its real name and no writer:
// the rename and the writer's release each look again after their own step,
// and whichever comes second queues it. Queues the upload (and wakes the
// ingest) if it is receiving under a real name; whether it did.
bool queue_if_named(Filesystem& fs, Id upload_id, const std::string& path, uint32_t uid);

// The caller of each of the following holds file.lock exclusively.

// Receiving again after a commit: the catalog takes the upload back from the
// queue, unless the ingest service has it already (then the handle is Done,
// with EACCES). Nothing is written to the file before this succeeds.
void take_back(Filesystem& fs, OpenFile& file);

// Refuses the content (`reason`): the bytes are removed, the upload rejected,
// the kernel's cached size forgotten; close fails with `err`.
void refuse_content(Filesystem& fs, OpenFile& file, const std::string& reason, int err);

// A write failed with `err` at byte `at` (a full disk): the staging file is
// cut back to the bytes before the first gap or failure and recorded, the
// upload stays receiving so that the client can resume it, and close fails.
void fail_writing(Filesystem& fs, OpenFile& file, int err, int64_t at);

// Refuses an archive found at the start of the file, or (with `whole`, for
// the commit) at its end; false when it refused.
bool check_content(Filesystem& fs, OpenFile& file, bool whole);

// Makes what was written durable and records it: size, mtime, and `queued`
// when the name is a real image name; a negative errno when close must fail.
// An empty file waits for the last close (`last`): a shell's redirection
// closes a duplicate descriptor before it writes anything.
int commit_upload(Filesystem& fs, OpenFile& file, bool last);

[[noreturn]] void throw_errno(const std::string& what);

}  // namespace photodrop::fs
