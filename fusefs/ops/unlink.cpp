#include "fusefs/ops/common.hpp"

namespace photodrop::fs::ops {

// Nothing is destroyed by a client: the upload is cancelled, or its photo
// marked deleted, and the bytes stay for an operator.
int unlink(const char* path) noexcept {
    return guarded("unlink", path, [&] {
        auto& fs = current();
        uint32_t uid = caller_uid();
        auto node = fs.resolve(path, uid, Filesystem::Reading::Current);
        if (node.is_dir()) return -EISDIR;
        if (node.kind != Node::Kind::File) return fs.is_open_junk(path) ? 0 : -ENOENT;
        fs.with_catalog([&](MountCatalog& c) { c.delete_upload(node.upload->id); });
        fs.quota_changed();
        fs.log(path, uid, node.upload->state == UploadState::Ingested ? "deleted: photo marked deleted"
                                                                      : "deleted: upload cancelled");
        return 0;
    });
}

}  // namespace photodrop::fs::ops
