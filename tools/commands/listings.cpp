// albums, uploads, uploads show, photos: what photographers sent and what became of it.
#include "tools/commands/commands.hpp"
#include "tools/context.hpp"
#include "tools/format.hpp"

#include "catalog/text.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <ostream>

namespace photodrop::ctl {

namespace {

// Who wrote an upload, in an operator's words: the SFTP user, or the bare uid.
class UserNames {
public:
    explicit UserNames(Catalog& catalog) {
        for (const auto& u : catalog.users()) names_[u.id] = u.username;
    }
    std::string of(const Upload& u) const {
        if (u.user_id)
            if (auto it = names_.find(*u.user_id); it != names_.end()) return it->second;
        return fmt::format("uid {}", u.uid);  // not (or no longer) an SFTP user
    }

private:
    std::map<Id, std::string> names_;
};

nlohmann::json upload_json(const Upload& u, const AlbumNames& albums, const UserNames& users) {
    nlohmann::json album = nullptr;
    if (u.folder.album_id) {
        auto it = albums.find(*u.folder.album_id);
        album = it != albums.end() ? it->second : fmt::format("(album {})", *u.folder.album_id);
    }
    return {{"id", u.id},
            {"path", path_in_job(u.folder, u.filename, albums)},
            {"album", album},
            {"section", to_string(u.folder.section)},
            {"filename", u.filename},
            {"sent_name", u.sent_name.empty() ? u.filename : u.sent_name},
            {"size", u.size},
            {"state", to_string(u.state)},
            {"reason", u.reason},
            {"user", users.of(u)},
            {"uid", u.uid},
            {"attempts", u.attempts},
            {"content_hash", u.content_hash},
            {"photo_id", u.photo_id ? nlohmann::json(*u.photo_id) : nlohmann::json(nullptr)},
            {"duplicate", u.duplicate},
            {"created", utc_time(u.created_ns)},
            {"updated", utc_time(u.updated_ns)}};
}

UploadState parse_state_word(const std::string& word) {
    auto s = parse_upload_state(word);
    if (!s)
        throw std::runtime_error(fmt::format("invalid state '{}' (receiving, queued, processing, ingested, "
                                             "rejected, failed, discarded or deleted)",
                                             word));
    return *s;
}

// What an upload shown in full names beside its own fields.
struct UploadDetails {
    std::optional<Job> job;
    std::optional<Tenant> tenant;
    AlbumNames albums;
    std::optional<Photo> photo;
};

UploadDetails details_of(Catalog& cat, const Upload& u) {
    UploadDetails d;
    d.job = cat.job(u.job_id);
    if (d.job) d.tenant = cat.tenant(d.job->tenant_id);
    d.albums = album_names(cat, u.job_id);
    if (u.photo_id) d.photo = cat.photo(*u.photo_id);
    return d;
}

nlohmann::json upload_in_full_json(const Upload& u, const UploadDetails& d, const UserNames& users) {
    const auto& [job, tenant, albums, photo] = d;
    auto out = upload_json(u, albums, users);
    out["tenant"] = tenant ? tenant->slug : "";
    out["job"] = job ? job->name : "";
    out["data_path"] = u.data_path;
    out["lease_until"] = u.lease_until_ns ? utc_time(u.lease_until_ns) : "";
    out["next_attempt"] = u.next_attempt_ns ? utc_time(u.next_attempt_ns) : "";
    out["supersedes_photo_id"] =
        u.supersedes_photo_id ? nlohmann::json(*u.supersedes_photo_id) : nlohmann::json(nullptr);
    out["photo"] = photo ? to_json(*photo, albums) : nlohmann::json(nullptr);
    return out;
}

void print_upload_in_full(std::ostream& out, const Upload& u, const UploadDetails& d, const UserNames& users) {
    const auto& [job, tenant, albums, photo] = d;
    auto line = [&](std::string_view label, const std::string& value) {
        out << fmt::format("{:<10} {}\n", label, text::shown(value));
    };
    line("upload", std::to_string(u.id));
    line("tenant", tenant ? tenant->slug : "?");
    line("job", job ? job->name : "?");
    line("path", path_in_job(u.folder, u.filename, albums));
    if (!u.sent_name.empty()) line("sent as", u.sent_name);
    line("size", fmt::format("{} ({} bytes)", format_size(u.size), u.size));
    line("state", std::string(to_string(u.state)));
    if (!u.reason.empty()) line("reason", u.reason);
    line("attempts", std::to_string(u.attempts));
    line("user", fmt::format("{} (uid {})", users.of(u), u.uid));
    line("created", utc_time(u.created_ns));
    line("updated", utc_time(u.updated_ns));
    if (u.state == UploadState::Processing) line("lease", "until " + utc_time(u.lease_until_ns));
    if (u.state == UploadState::Queued && u.next_attempt_ns > now_ns())
        line("retry", "at " + utc_time(u.next_attempt_ns));
    if (!u.data_path.empty()) line("data", u.data_path);
    if (!u.content_hash.empty()) line("sha256", u.content_hash);
    if (u.supersedes_photo_id) line("replaces", fmt::format("photo {}", *u.supersedes_photo_id));
    if (u.duplicate && u.photo_id) line("duplicate", fmt::format("of photo {}", *u.photo_id));
    if (photo && !u.duplicate) {
        std::string camera = fmt::format("{} {}", photo->camera_make, photo->camera_model);
        if (camera == " ") camera = "unknown camera";
        line("photo", fmt::format("{}: {}x{}, {}{}{}", photo->id, photo->width, photo->height, camera,
                                  photo->captured_at ? ", taken " + *photo->captured_at : "",
                                  photo->deleted ? " (deleted)" : ""));
        line("thumbnail", photo->thumbnail_path);
        line("preview", photo->preview_path);
        line("original", photo->original_path);
        if (!photo->note.empty()) line("note", "damaged: " + photo->note);
    }
}

// `uploads show ID...`: each upload in full, a blank line between them; in
// JSON an object for one id, an array (in the order given) for several. All
// ids are looked up before anything is printed.
int show_uploads(Context& ctx, const std::vector<Id>& ids) {
    auto& cat = ctx.catalog();
    std::vector<Upload> found;
    for (Id id : ids) {
        auto u = cat.upload(id);
        if (!u) throw std::runtime_error(fmt::format("no upload {}", id));
        found.push_back(std::move(*u));
    }
    UserNames users(cat);
    if (ctx.json) {
        auto out = nlohmann::json::array();
        for (const auto& u : found) out.push_back(upload_in_full_json(u, details_of(cat, u), users));
        ctx.print_json(found.size() == 1 ? out[0] : out);
        return exit_ok;
    }
    for (size_t i = 0; i < found.size(); ++i) {
        if (i) ctx.io.out << "\n";
        print_upload_in_full(ctx.io.out, found[i], details_of(cat, found[i]), users);
    }
    return exit_ok;
}

}  // namespace

void add_listing_commands(CLI::App& app, Context& ctx) {
    // albums
    auto albums_opts = std::make_shared<JobOptions>();
    auto* albums = app.add_subcommand("albums", "List a job's albums with their section folders and counts");
    add_job_options(albums, *albums_opts);
    ctx.on(albums, [&ctx, o = albums_opts] {
        auto& cat = ctx.catalog();
        auto job = ctx.job(ctx.tenant(o->tenant), o->job);
        std::map<Id, int64_t> uploads, photos;
        for (const auto& u : cat.uploads(job.id))
            if (u.folder.album_id && is_visible(u)) ++uploads[*u.folder.album_id];
        for (const auto& p : cat.photos(job.id))
            if (p.album_id && !p.deleted) ++photos[*p.album_id];
        auto list = cat.albums(job.id);
        std::erase_if(list, [](const Album& a) { return a.name.find('\0') != std::string::npos; });  // removed
        if (ctx.json) {
            auto rows = nlohmann::json::array();
            for (const auto& a : list)
                rows.push_back({{"id", a.id},
                                {"name", a.name},
                                {"group", a.has_group},
                                {"individuals", a.has_individuals},
                                {"uploads", uploads[a.id]},
                                {"photos", photos[a.id]},
                                {"created", utc_time(a.created_ns)}});
            ctx.print_json(rows);
            return exit_ok;
        }
        if (list.empty()) {
            ctx.io.out << fmt::format("no albums in job {}\n", job.name);
            return exit_ok;
        }
        Table table({"ALBUM", "FOLDERS", "UPLOADS", "PHOTOS"});
        for (const auto& a : list) {
            std::string folders = a.has_group && a.has_individuals ? "group, individuals"
                                  : a.has_group                    ? "group"
                                  : a.has_individuals              ? "individuals"
                                                                   : "-";
            table.add({a.name, folders, std::to_string(uploads[a.id]), std::to_string(photos[a.id])});
        }
        table.print(ctx.io.out);
        return exit_ok;
    });

    // uploads, uploads show
    struct UploadsOptions : JobOptions {
        std::string state;
    };
    auto uploads_opts = std::make_shared<UploadsOptions>();
    auto* uploads = app.add_subcommand("uploads", "List a job's uploads: path, size, state, reason, user");
    add_job_options(uploads, *uploads_opts, false);
    uploads->add_option("--state,-s", uploads_opts->state,
                        "Only uploads in this state: receiving, queued, processing, ingested, rejected, failed, "
                        "discarded or deleted");
    uploads->footer("Refused files are listed with their reason: photodropctl uploads --job J --state rejected");
    ctx.on(uploads, [&ctx, o = uploads_opts] {
        if (o->job.empty()) throw UsageError("uploads: --job is required (see `photodropctl uploads --help`)");
        std::optional<UploadState> state;
        if (!o->state.empty()) state = parse_state_word(o->state);
        auto& cat = ctx.catalog();
        auto job = ctx.job(ctx.tenant(o->tenant), o->job);
        auto albums = album_names(cat, job.id);
        UserNames users(cat);
        auto rows = cat.uploads(job.id, state);
        if (ctx.json) {
            auto out = nlohmann::json::array();
            for (const auto& u : rows) out.push_back(upload_json(u, albums, users));
            ctx.print_json(out);
            return exit_ok;
        }
        if (rows.empty()) {
            ctx.io.out << fmt::format("no {}uploads in job {}\n", state ? std::string(to_string(*state)) + " " : "",
                                      job.name);
            return exit_ok;
        }
        Table table({"ID", "PATH", "SIZE", "STATE", "USER", "REASON"});
        for (const auto& u : rows)
            table.add({std::to_string(u.id), path_in_job(u.folder, u.filename, albums), format_size(u.size),
                       std::string(to_string(u.state)), users.of(u), u.reason});
        table.print(ctx.io.out);
        return exit_ok;
    });

    auto show_ids = std::make_shared<std::vector<Id>>();
    auto* show = uploads->add_subcommand("show", "Show uploads in full: state, reason, attempts, and the photo each became");
    show->add_option("id", *show_ids,
                     "The uploads' ids (first column of `photodropctl uploads`); --json gives an array for several")
        ->required();
    ctx.on(show, [&ctx, show_ids] { return show_uploads(ctx, *show_ids); });

    // photos
    struct PhotosOptions : JobOptions {
        std::string album;
    };
    auto photos_opts = std::make_shared<PhotosOptions>();
    auto* photos = app.add_subcommand("photos", "List a job's ingested photos");
    add_job_options(photos, *photos_opts);
    photos->add_option("--album,-a", photos_opts->album, "Only the photos of this album");
    ctx.on(photos, [&ctx, o = photos_opts] {
        auto& cat = ctx.catalog();
        auto job = ctx.job(ctx.tenant(o->tenant), o->job);
        std::optional<Id> album_id;
        if (!o->album.empty()) {
            auto a = cat.album(job.id, text::nfc(o->album).value_or(o->album));  // albums are stored in NFC
            if (!a) throw std::runtime_error(fmt::format("job {} has no album '{}'", job.name, o->album));
            album_id = a->id;
        }
        auto albums = album_names(cat, job.id);
        auto rows = cat.photos(job.id, album_id);
        if (ctx.json) {
            auto out = nlohmann::json::array();
            for (const auto& p : rows) out.push_back(to_json(p, albums));
            ctx.print_json(out);
            return exit_ok;
        }
        if (rows.empty()) {
            ctx.io.out << fmt::format("no photos in {}\n", o->album.empty() ? "job " + job.name : "album " + o->album);
            return exit_ok;
        }
        Table table({"ID", "PATH", "SIZE", "TAKEN", "CAMERA", "SUBJECT", "NOTE"});
        for (const auto& p : rows) {
            std::string camera = p.camera_model.empty() ? p.camera_make : p.camera_make + " " + p.camera_model;
            // Deleted, and the damage its decoder got past: "damaged: VipsJpeg: Corrupt JPEG data: ...".
            std::string note = p.deleted ? "deleted" : "";
            if (!p.note.empty()) note += fmt::format("{}damaged: {}", note.empty() ? "" : "; ", p.note);
            // "S1", "card S1", "S1 (by hand)", "-" for none.
            std::string subject = p.card_code && p.card_code == p.subject ? "card " + *p.subject : p.subject.value_or("-");
            if (p.subject_manual) subject += " (by hand)";
            table.add({std::to_string(p.id), path_in_job(p, albums), fmt::format("{}x{}", p.width, p.height),
                       p.captured_at.value_or("-"), camera.empty() ? "-" : camera, subject, note});
        }
        table.print(ctx.io.out);
        return exit_ok;
    });
}

}  // namespace photodrop::ctl
