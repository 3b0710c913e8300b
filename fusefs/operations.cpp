#include "fusefs/operations.hpp"

#include "fusefs/ops/ops.hpp"
#include "fusefs/passthrough.hpp"
#include "fusefs/writeback.hpp"

#include <fuse_lowlevel.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <stdexcept>

namespace photodrop::fs {

namespace ops {
void* init(fuse_conn_info* conn, fuse_config* cfg) noexcept {
    // Attributes may be cached briefly; a job that leaves `planned` is gone from
    // listings at once (readdir is never cached) and from lookups within a second.
    cfg->entry_timeout = 1.0;
    cfg->attr_timeout = 1.0;
    cfg->negative_timeout = 0;
    cfg->use_ino = 0;
    cfg->hard_remove = 1;  // an unlinked open file is not renamed to .fuse_hidden*
    cfg->nullpath_ok = 0;  // paths are given; an unlinked open file gets a null path and its handle
    // Large sequential uploads: the kernel writes a new upload's staging file
    // itself (passthrough) or, without it, gathers writes in its page cache
    // and sends them 1 MiB at a time (the two exclude each other).
    auto* fs = static_cast<Filesystem*>(fuse_get_context()->private_data);
    bool kernel_writes = fs->options().passthrough && passthrough::ask();
    if (kernel_writes) std::cerr << "photodrop-fs: new uploads are written by the kernel itself (FUSE passthrough)\n";
    else if ((conn->capable & FUSE_CAP_WRITEBACK_CACHE)) conn->want |= FUSE_CAP_WRITEBACK_CACHE;
    if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC) conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
    if (conn->capable & FUSE_CAP_SPLICE_READ) conn->want |= FUSE_CAP_SPLICE_READ;
    conn->max_write = max_write;
    // Several uploads at once: let the kernel keep more write-back requests in flight.
    conn->max_background = 64;
    conn->congestion_threshold = 48;
    conn->max_readahead = 1 << 20;
    return fs;
}
}  // namespace ops

fuse_operations operations() {
    fuse_operations o{};
    o.init = ops::init;
    o.getattr = ops::getattr;
    o.opendir = ops::opendir;
    o.readdir = ops::readdir;
    o.mkdir = ops::mkdir;
    o.rmdir = ops::rmdir;
    o.create = ops::create;
    o.open = ops::open;
    o.read = ops::read;
    o.write_buf = ops::write_buf;
    o.flush = ops::flush;
    o.release = ops::release;
    o.fsync = ops::fsync;
    o.rename = ops::rename;
    o.unlink = ops::unlink;
    o.chmod = ops::chmod;
    o.chown = ops::chown;
    o.truncate = ops::truncate;
    o.utimens = ops::utimens;
    o.symlink = ops::symlink;
    o.link = ops::link;
    o.mknod = ops::mknod;
    o.statfs = ops::statfs;
    return o;
}

int serve(Options options, const std::vector<std::string>& libfuse_argv) {
    Filesystem fs(std::move(options));
    std::vector<char*> argv;
    for (const auto& a : libfuse_argv) argv.push_back(const_cast<char*>(a.c_str()));
    fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
    std::unique_ptr<fuse_args, decltype(&fuse_opt_free_args)> args_owner(&args, fuse_opt_free_args);
    fuse_cmdline_opts cmdline{};
    if (fuse_parse_cmdline(&args, &cmdline) != 0) return 2;
    std::unique_ptr<char, decltype(&std::free)> mountpoint(cmdline.mountpoint, std::free);
    if (!mountpoint) throw std::runtime_error("no mount point given");

    auto ops = operations();
    std::unique_ptr<fuse, decltype(&fuse_destroy)> f(fuse_new(&args, &ops, sizeof(ops), &fs), fuse_destroy);
    if (!f) throw std::runtime_error("the mount options were not accepted");
    // Before the mount appears: a SIGTERM as soon as it is there must unmount, not kill.
    fuse_session* session = fuse_get_session(f.get());
    if (fuse_set_signal_handlers(session) != 0) throw std::runtime_error("cannot set the signal handlers");
    if (fuse_mount(f.get(), mountpoint.get()) != 0) throw std::runtime_error("cannot mount at " + std::string(mountpoint.get()));
    std::cerr << "photodrop-fs: " << limit_writeback(mountpoint.get()) << '\n';
    if (fs.options().passthrough) passthrough::install(session);
    if (fuse_daemonize(cmdline.foreground) != 0) {
        fuse_unmount(f.get());
        throw std::runtime_error("cannot start serving the mount");
    }
    fs.start_invalidator(f.get(), mountpoint.get());  // after daemonizing: a thread does not survive fork
    fs.start_flusher();
    int rc;
    if (cmdline.singlethread) {
        rc = fuse_loop(f.get());
    } else {
        std::unique_ptr<fuse_loop_config, decltype(&fuse_loop_cfg_destroy)> loop(fuse_loop_cfg_create(),
                                                                               fuse_loop_cfg_destroy);
        fuse_loop_cfg_set_clone_fd(loop.get(), cmdline.clone_fd);
        fuse_loop_cfg_set_max_threads(loop.get(), cmdline.max_threads);
        fuse_loop_cfg_set_idle_threads(loop.get(), cmdline.max_idle_threads);
        rc = fuse_loop_mt(f.get(), loop.get());
    }
    fs.stop_flusher();
    fs.stop_invalidator();
    fuse_remove_signal_handlers(session);
    fuse_unmount(f.get());
    // A positive result is the signal that ended the loop: a requested stop.
    return rc < 0 ? 1 : 0;
}

}  // namespace photodrop::fs
