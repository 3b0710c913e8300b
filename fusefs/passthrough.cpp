#include "fusefs/passthrough.hpp"

#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

namespace photodrop::fs::passthrough {

namespace {
// The kernel's FUSE ABI of 7.40 (Linux 6.9), newer than Debian 12's headers.
constexpr uint32_t init_ext = 1u << 30;           // FUSE_INIT_EXT: flags2 is read
constexpr uint32_t passthrough_flag2 = 1u << 5;   // FUSE_PASSTHROUGH (1 << 37), in flags2
constexpr uint32_t writeback_cache = 1u << 16;    // FUSE_WRITEBACK_CACHE: the kernel refuses both
constexpr uint32_t fopen_passthrough = 1u << 7;   // FOPEN_PASSTHROUGH
struct BackingMap {
    int32_t fd;
    uint32_t flags;
    uint64_t padding;
};
constexpr unsigned long backing_open = _IOW(229, 1, BackingMap);  // FUSE_DEV_IOC_BACKING_OPEN
constexpr unsigned long backing_close = _IOW(229, 2, uint32_t);   // FUSE_DEV_IOC_BACKING_CLOSE

struct InitIn {
    uint32_t major, minor, max_readahead, flags, flags2;
};
struct InitOut {
    uint32_t major, minor, max_readahead, flags;
    uint16_t max_background, congestion_threshold;
    uint32_t max_write, time_gran;
    uint16_t max_pages, map_alignment;
    uint32_t flags2, max_stack_depth;
};
struct OpenOut {
    uint64_t fh;
    uint32_t open_flags;
    int32_t backing_id;
};

std::atomic<bool> offered{false};
std::atomic<bool> taken{false};
std::atomic<int> device{-1};
// libfuse sends the answer to a request from the thread that serves it.
thread_local bool init_answer = false;
thread_local int pending_id = -1;

ssize_t read_request(int fd, void* buf, size_t size, void*) {
    ssize_t n = ::read(fd, buf, size);
    if (n >= static_cast<ssize_t>(sizeof(fuse_in_header) + sizeof(InitIn))) {
        fuse_in_header in;
        std::memcpy(&in, buf, sizeof(in));
        if (in.opcode == FUSE_INIT) {
            InitIn init;
            std::memcpy(&init, static_cast<const char*>(buf) + sizeof(in), sizeof(init));
            offered = (init.flags & init_ext) && (init.flags2 & passthrough_flag2);
            device = fd;
        }
    }
    return n;
}

// The answer's body (all but the header) as one block, `patch`ed.
template <typename Patch>
ssize_t send_patched(int fd, const iovec* iov, int count, Patch patch) {
    std::vector<char> body;
    for (int i = 1; i < count; ++i) {
        auto* part = static_cast<const char*>(iov[i].iov_base);
        body.insert(body.end(), part, part + iov[i].iov_len);
    }
    patch(body);
    iovec patched[2] = {iov[0], {body.data(), body.size()}};
    return ::writev(fd, patched, 2);
}

ssize_t write_answer(int fd, iovec* iov, int count, void*) {
    bool init = std::exchange(init_answer, false);
    int id = std::exchange(pending_id, -1);
    fuse_out_header out{};
    if (count >= 2 && iov[0].iov_len >= sizeof(out)) std::memcpy(&out, iov[0].iov_base, sizeof(out));
    if (out.error != 0 || count < 2) return ::writev(fd, iov, count);
    if (init)
        return send_patched(fd, iov, count, [](std::vector<char>& body) {
            if (body.size() < sizeof(InitOut)) return;
            InitOut o;
            std::memcpy(&o, body.data(), sizeof(o));
            o.flags = (o.flags | init_ext) & ~writeback_cache;
            o.flags2 |= passthrough_flag2;
            o.max_stack_depth = 1;  // backing files on an ordinary file system
            std::memcpy(body.data(), &o, sizeof(o));
            taken = true;
        });
    if (id >= 0)
        return send_patched(fd, iov, count, [id](std::vector<char>& body) {
            if (body.size() < sizeof(OpenOut)) return;
            OpenOut o;  // the end of the answer: after the entry, for a create
            char* at = body.data() + body.size() - sizeof(o);
            std::memcpy(&o, at, sizeof(o));
            o.open_flags |= fopen_passthrough;
            o.backing_id = id;
            std::memcpy(at, &o, sizeof(o));
        });
    return ::writev(fd, iov, count);
}

// Requests after INIT come through a pipe, as libfuse does without this module.
ssize_t splice_request(int in, off_t* in_at, int out, off_t* out_at, size_t size, unsigned flags, void*) {
    return ::splice(in, in_at, out, out_at, size, flags);
}
}  // namespace

void install(fuse_session* session) {
    static const fuse_custom_io io{write_answer, read_request, splice_request, nullptr};
    fuse_session_custom_io(session, &io, fuse_session_fd(session));
}

bool ask() {
    if (!offered) return false;
    init_answer = true;
    return true;
}

bool on() { return taken; }

int open_backing(int fd) {
    BackingMap map{fd, 0, 0};
    int id = ::ioctl(device, backing_open, &map);
    return id < 0 ? -errno : id;
}

void close_backing(int id) {
    uint32_t backing = static_cast<uint32_t>(id);
    ::ioctl(device, backing_close, &backing);
}

void answer_with(int id) { pending_id = id; }

}  // namespace photodrop::fs::passthrough
