#include "fusefs/ops/common.hpp"

#include <linux/fs.h>

#include <fmt/format.h>

namespace photodrop::fs::ops {

namespace {

int rename_album(Filesystem& fs, const char* from, const char* to, uint32_t uid, const Node& album, const Node& parent,
                 const std::string& name) {
    if (parent.kind != Node::Kind::Job || parent.job->id != album.job->id) {
        fs.refuse(from, uid, "an album can only be renamed inside its own job");
        return -EACCES;
    }
    auto decision = policy::make_folder(album.job->layout, policy::Level::Job, name);
    if (!decision.verdict) {
        fs.refuse(to, uid, decision.verdict.reason());
        return -EACCES;
    }
    std::string cameras;
    int result = fs.with_catalog([&](MountCatalog& c) {
        if (auto existing = c.album(album.job->id, decision.name)) return existing->id == album.album->id ? 0 : -EEXIST;
        if (cameras = cameras_reason(c, fs, *album.album, "renamed"); !cameras.empty()) return -EACCES;
        try {
            c.rename_album(album.album->id, decision.name);
        } catch (const CatalogError& e) {
            if (e.kind() != CatalogError::Kind::Exists) throw;
            return -EEXIST;  // made by another connection a moment ago
        }
        return 0;
    });
    if (!cameras.empty()) fs.refuse(from, uid, cameras);
    return result;
}

int rename_file(Filesystem& fs, const char* from, const char* to, uint32_t uid, const Node& file, const Node& parent,
                const std::string& name, unsigned int flags) {
    if (parent.kind == Node::Kind::Root || parent.job->id != file.job->id) {
        fs.refuse(from, uid, "files cannot be moved out of their job");
        return -EACCES;
    }
    const auto& settings = fs.options().settings;
    auto decision = policy::create_file(parent.job->layout, parent.level(), name, settings);
    if (decision.verdict && decision.kind == policy::FileKind::Junk)
        decision.verdict = policy::Verdict::refuse("a photo cannot take a name that is thrown away");
    if (!decision.verdict) {
        fs.refuse(to, uid, decision.verdict.reason());
        return -EACCES;
    }
    const Upload& upload = *file.upload;
    auto target = fs.resolve(to, uid, Filesystem::Reading::Current);
    if (target.kind == Node::Kind::File && target.upload->id == upload.id) return 0;
    if (target.kind == Node::Kind::File && (flags & RENAME_NOREPLACE)) return -EEXIST;
    if (target.is_dir()) return -EISDIR;
    // A temporary name renamed to a photo's real name is queued once no writer holds it.
    bool gets_real_name =
        policy::temporary_target(upload.filename, settings).has_value() && decision.kind == policy::FileKind::Image;
    bool queue = gets_real_name && !fs.is_being_written(upload.id);
    // A camera never replaces: a file it sends under a name that is taken goes beside it ("IMG_0001 (2).JPG").
    bool beside = file.camera_album && target.kind == Node::Kind::File;
    std::optional<Id> replacing;
    if (target.kind == Node::Kind::File && !beside) replacing = target.upload->id;
    std::string new_name = decision.name;
    queue = fs.with_catalog([&](MountCatalog& c) {
        if (beside) new_name = c.unused_name(parent.job->id, parent.folder, decision.name);
        return c.rename_upload(upload.id, parent.folder, new_name, replacing, queue, beside ? decision.name : "");
    });
    fs.log(to, uid, fmt::format("renamed from {}{}{}", from, beside ? " as " + new_name : "", queue ? ", queued" : ""));
    if (beside) fs.forget_cached(to);  // the kernel takes `to` for the renamed file: it is the one that was there
    else if (target.kind == Node::Kind::File) fs.forget_other_forms(to);  // the file it replaced, under another form
    if (queue) fs.wake_ingest(upload.id);
    // A writer that held it a moment ago may have let go since, before the new name was there to see.
    else if (gets_real_name && !fs.is_being_written(upload.id))
        queue_if_named(fs, upload.id, to, uid);
    return 0;
}

}  // namespace

int rename(const char* from, const char* to, unsigned int flags) noexcept {
    return guarded("rename", from, [&] {
        auto& fs = current();
        uint32_t uid = caller_uid();
        if (flags & RENAME_EXCHANGE) return -EINVAL;
        auto source = fs.resolve(from, uid, Filesystem::Reading::Current);
        if (source.kind == Node::Kind::Missing) return -ENOENT;
        auto [parent, name] = fs.resolve_parent(to, uid, Filesystem::Reading::Current);
        if (!parent.is_dir()) return -ENOENT;
        if (source.kind == Node::Kind::File) return rename_file(fs, from, to, uid, source, parent, name, flags);
        if (source.camera_album) {
            fs.refuse(from, uid, "a camera account's folders cannot be renamed");
            return -EACCES;
        }
        if (auto verdict = policy::rename_folder(source.level()); !verdict) {
            fs.refuse(from, uid, verdict.reason());
            return -EACCES;
        }
        return rename_album(fs, from, to, uid, source, parent, name);
    });
}

}  // namespace photodrop::fs::ops
