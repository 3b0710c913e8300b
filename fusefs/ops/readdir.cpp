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
        // What a folder's attributes (Filesystem::folder_attr) are made of.
        auto folder = [](Node::Kind kind, std::optional<Album> album = std::nullopt) {
            Node child;
            child.kind = kind;
            child.album = std::move(album);
            return child;
        };
        add_folder(".", node);
        add_folder("..", node);
        if (node.kind == Node::Kind::Root) {
            for (const auto& job : fs.visible_jobs(uid)) add_folder(job.name, folder(Node::Kind::Job));
            return 0;
        }
        if (node.kind == Node::Kind::Job && node.job->layout == Layout::Albums) {
            for (const auto& album : fs.albums(node.job->id))
                if (!node.camera_album || album.id == *node.camera_album)
                    add_folder(album.name, folder(Node::Kind::Album, album));
            return 0;
        }
        if (node.camera_album) {
            // A camera's album and the folders it made: each shows the album's files.
            for (const auto& name : fs.camera_subfolders(*node.camera_album, node.below)) add_folder(name, node);
        } else if (node.kind == Node::Kind::Album) {
            if (node.album->has_group) add_folder("group", folder(Node::Kind::Section, node.album));
            if (node.album->has_individuals)
                add_folder("individuals", folder(Node::Kind::Section, node.album));
        }
        for (const auto& upload : fs.uploads_in(node.job->id, node.folder)) {
            if (is_fragment(fs, upload)) continue;
            struct stat st = attr_of_file(fs, upload, uid);
            fill(buf, upload.filename.c_str(), &st, 0, plus);
        }
        return 0;
    });
}

}  // namespace photodrop::fs::ops
