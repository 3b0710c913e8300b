#include "fusefs/operations.hpp"

#include "fusefs/ops/ops.hpp"

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
    // Large sequential uploads: the kernel gathers writes in its page cache and
    // sends them 1 MiB at a time.
    if (conn->capable & FUSE_CAP_WRITEBACK_CACHE) conn->want |= FUSE_CAP_WRITEBACK_CACHE;
    if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC) conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
    if (conn->capable & FUSE_CAP_SPLICE_READ) conn->want |= FUSE_CAP_SPLICE_READ;
    conn->max_write = 1 << 20;
    conn->max_readahead = 1 << 20;
    return fuse_get_context()->private_data;
}
}  // namespace ops

fuse_operations operations() {
    fuse_operations o{};
    o.init = ops::init;
    o.getattr = ops::getattr;
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

int serve(Options options, const std::vector<std::string>& fuse_args) {
    Filesystem fs(std::move(options));
    std::vector<char*> argv;
    for (const auto& a : fuse_args) argv.push_back(const_cast<char*>(a.c_str()));
    auto ops = operations();
    return fuse_main_real(static_cast<int>(argv.size()), argv.data(), &ops, sizeof(ops), &fs);
}

}  // namespace photodrop::fs
