#include "fusefs/ops/common.hpp"

namespace photodrop::fs::ops {

// The kernel opens a folder by a name it looked up for any user a moment ago:
// whether this user may see it is decided here.
int opendir(const char* path, fuse_file_info*) noexcept {
    return guarded("opendir", path, [&] {
        auto node = current().resolve(path, caller_uid());
        if (node.is_dir()) return 0;
        return node.kind == Node::Kind::File ? -ENOTDIR : -ENOENT;
    });
}

int readdir(const char* path, void* buf, fuse_fill_dir_t fill, off_t, fuse_file_info*,
            fuse_readdir_flags flags) noexcept {
    return guarded("readdir", path, [&] {
        auto& fs = current();
        uint32_t uid = caller_uid();
        auto node = fs.resolve(path, uid);
        if (!node.is_dir()) return node.kind == Node::Kind::File ? -ENOTDIR : -ENOENT;
        // With readdirplus the kernel caches these attributes, sparing a lookup per entry.
        auto plus = (flags & FUSE_READDIR_PLUS) ? FUSE_FILL_DIR_PLUS : fuse_fill_dir_flags{};
        auto add_folder = [&](const std::string& name, Node child) {
            struct stat st = fs.folder_attr(child, uid);
            fill(buf, name.c_str(), &st, 0, plus);
        };
        add_folder(".", node);
        add_folder("..", node);
        if (node.kind == Node::Kind::Root) {
            for (const auto& job : fs.visible_jobs(uid)) add_folder(job.name, Node{Node::Kind::Job, job, {}, {}, {}});
            return 0;
        }
        if (node.kind == Node::Kind::Job && node.job->layout == Layout::Albums) {
            for (const auto& album : fs.albums(node.job->id))
                add_folder(album.name, Node{Node::Kind::Album, node.job, album, {}, {}});
            return 0;
        }
        if (node.kind == Node::Kind::Album) {
            if (node.album->has_group) add_folder("group", Node{Node::Kind::Section, node.job, node.album, {}, {}});
            if (node.album->has_individuals)
                add_folder("individuals", Node{Node::Kind::Section, node.job, node.album, {}, {}});
        }
        for (const auto& upload : fs.uploads_in(node.job->id, node.folder)) {
            struct stat st = attr_of_file(fs, upload, uid);
            fill(buf, upload.filename.c_str(), &st, 0, plus);
        }
        return 0;
    });
}

}  // namespace photodrop::fs::ops
