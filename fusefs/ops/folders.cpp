#include "fusefs/ops/common.hpp"

namespace photodrop::fs::ops {

namespace {

// A camera account makes any folder it likes below its album (DCIM/100CANON), and no other.
int make_camera_folder(Filesystem& fs, const char* path, uint32_t uid, const Node& parent, const std::string& name) {
    if (parent.kind != Node::Kind::Album && parent.kind != Node::Kind::CameraFolder) {
        fs.refuse(path, uid, "a camera account uploads into its own album only");
        return -EACCES;
    }
    if (auto verdict = policy::check_name(name); !verdict) {
        fs.refuse(path, uid, verdict.reason());
        return -EACCES;
    }
    if (fs.resolve(path, uid, Filesystem::Reading::Current).kind == Node::Kind::File) return -EEXIST;
    auto normalized = policy::normalized_name(name);
    auto below = parent.below.empty() ? normalized : parent.below + "/" + normalized;
    return fs.add_camera_folder(*parent.camera_album, below) ? 0 : -EEXIST;
}

}  // namespace

int mkdir(const char* path, mode_t) noexcept {
    return guarded("mkdir", path, [&] {
        auto& fs = current();
        uint32_t uid = caller_uid();
        auto [parent, name] = fs.resolve_parent(path, uid, Filesystem::Reading::Current);
        if (!parent.is_dir()) return -ENOENT;
        if (parent.camera_album) return make_camera_folder(fs, path, uid, parent, name);
        auto layout = parent.job ? parent.job->layout : Layout::Albums;
        auto decision = policy::make_folder(layout, parent.level(), name);
        if (!decision.verdict) {
            fs.refuse(path, uid, decision.verdict.reason());
            return -EACCES;
        }
        return fs.with_catalog([&](MountCatalog& c) {
            if (decision.section) {
                bool exists = *decision.section == Section::Group ? parent.album->has_group : parent.album->has_individuals;
                if (exists) return -EEXIST;
                c.set_section_folder(parent.album->id, *decision.section, true);
                return 0;
            }
            if (c.album(parent.job->id, decision.name)) return -EEXIST;
            c.add_album(parent.job->id, decision.name);
            return 0;
        });
    });
}

int rmdir(const char* path) noexcept {
    return guarded("rmdir", path, [&] {
        auto& fs = current();
        uint32_t uid = caller_uid();
        auto node = fs.resolve(path, uid, Filesystem::Reading::Current);
        if (node.kind == Node::Kind::File) return -ENOTDIR;
        if (!node.is_dir()) return -ENOENT;
        if (node.kind == Node::Kind::CameraFolder)
            return fs.remove_camera_folder(*node.camera_album, node.below) ? 0 : -ENOTEMPTY;
        if (node.camera_album) {
            fs.refuse(path, uid, "a camera account cannot remove its album");
            return -EACCES;
        }
        if (auto verdict = policy::remove_folder(node.level()); !verdict) {
            fs.refuse(path, uid, verdict.reason());
            return -EACCES;
        }
        std::string cameras;
        int result = fs.with_catalog([&](MountCatalog& c) {
            if (node.kind == Node::Kind::Section) {
                if (c.album_has_uploads(node.album->id, node.folder)) return -ENOTEMPTY;
                c.set_section_folder(node.album->id, node.folder.section, false);
                return 0;
            }
            if (node.album->has_group || node.album->has_individuals || c.album_has_uploads(node.album->id))
                return -ENOTEMPTY;
            if (cameras = cameras_reason(c, fs, *node.album, "removed"); !cameras.empty()) return -EACCES;
            c.remove_album(node.album->id);
            return 0;
        });
        if (!cameras.empty()) fs.refuse(path, uid, cameras);
        return result;
    });
}

}  // namespace photodrop::fs::ops
