#include "fusefs/ops/common.hpp"

#include <sys/stat.h>

namespace photodrop::fs::ops {

int getattr(const char* path, struct stat* st, fuse_file_info* fi) noexcept {
    return guarded("getattr", path, [&] {
        auto& fs = current();
        uint32_t uid = caller_uid();
        if (auto* file = handle_of(fi)) {
            if (file->junk) {
                Upload junk;
                junk.size = file->junk_size;
                *st = fs.file_attr(junk, uid);
                return 0;
            }
            auto upload = fs.with_catalog([&](MountCatalog& c) { return c.upload(file->upload_id); });
            if (!upload) return -ENOENT;
            *st = fs.file_attr(*upload, uid);
            struct stat backing {};
            if (::fstat(file->fd.get(), &backing) != 0) throw_errno("stat " + file->path);
            st->st_size = backing.st_size;
            st->st_blocks = backing.st_blocks;
            st->st_mtim = backing.st_mtim;
            return 0;
        }
        if (!path) return -ENOENT;
        auto node = fs.resolve(path, uid);
        if (node.is_dir()) {
            *st = fs.folder_attr(node, uid);
            return 0;
        }
        if (node.kind == Node::Kind::File && !is_fragment(fs, *node.upload)) {
            fs.note_name_form(path);
            *st = attr_of_file(fs, *node.upload, uid);
            return 0;
        }
        if (fs.is_open_junk(path)) {
            *st = fs.file_attr(Upload{}, uid);
            return 0;
        }
        return -ENOENT;
    });
}

}  // namespace photodrop::fs::ops
