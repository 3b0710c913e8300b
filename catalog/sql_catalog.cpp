#include "catalog/catalog.hpp"
#include "catalog/migrations.hpp"
#include "catalog/sql.hpp"
#include "catalog/subjects.hpp"
#include "catalog/text.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

namespace photodrop {

using sql::Durability;
using Row = sql::Rows::Row;

namespace {

// Which uploads a folder shows; keep in step with is_visible().
constexpr std::string_view visible =
    "(state IN ('receiving','queued','processing','ingested','failed') OR (state = 'rejected' AND data_path <> ''))";

constexpr std::string_view job_columns = "id, tenant_id, name, title, status, layout";
// A job read beside another row (a photo's), its id in `id_column`.
Job read_job_beside(const Row& st, std::string_view id_column) {
    return Job{st.integer(id_column), st.integer("tenant_id"), st.text("name"), st.text("title"),
               *parse_job_status(st.text("status")), *parse_layout(st.text("layout"))};
}
Job read_job(const Row& st) { return read_job_beside(st, "id"); }

constexpr std::string_view album_columns = "id, job_id, name, has_group, has_individuals, created_ns";
Album read_album(const Row& st) {
    return Album{st.integer("id"), st.integer("job_id"), st.text("name"), st.integer("has_group") != 0,
                 st.integer("has_individuals") != 0, st.integer("created_ns")};
}

constexpr std::string_view upload_columns =
    "id, job_id, album_id, section, in_section_folder, filename, sent_name, size, mtime_ns, mode, uid, user_id, state, "
    "reason, data_path, content_hash, attempts, lease_until_ns, next_attempt_ns, photo_id, duplicate, "
    "supersedes_photo_id, created_ns, updated_ns";
Upload read_upload(const Row& st) {
    Upload u;
    u.id = st.integer("id");
    u.job_id = st.integer("job_id");
    u.folder = Folder{st.opt_integer("album_id"), *parse_section(st.text("section")),
                      st.integer("in_section_folder") != 0};
    u.filename = st.text("filename");
    u.sent_name = st.text("sent_name");
    u.size = st.integer("size");
    u.mtime_ns = st.integer("mtime_ns");
    u.mode = static_cast<uint32_t>(st.integer("mode"));
    u.uid = static_cast<uint32_t>(st.integer("uid"));
    u.user_id = st.opt_integer("user_id");
    u.state = *parse_upload_state(st.text("state"));
    u.reason = st.text("reason");
    u.data_path = st.text("data_path");
    u.content_hash = st.text("content_hash");
    u.attempts = static_cast<int>(st.integer("attempts"));
    u.lease_until_ns = st.integer("lease_until_ns");
    u.next_attempt_ns = st.integer("next_attempt_ns");
    u.photo_id = st.opt_integer("photo_id");
    u.duplicate = st.integer("duplicate") != 0;
    u.supersedes_photo_id = st.opt_integer("supersedes_photo_id");
    u.created_ns = st.integer("created_ns");
    u.updated_ns = st.integer("updated_ns");
    return u;
}

constexpr std::string_view photo_columns =
    "id, upload_id, job_id, album_id, section, filename, original_path, width, height, captured_at, camera_make, "
    "camera_model, camera_serial, orientation, content_hash, thumbnail_path, preview_path, deleted, created_ns, note, "
    "captured_us, card_code, subject_code, subject_manual";
Photo read_photo(const Row& st) {
    Photo p;
    p.id = st.integer("id");
    p.upload_id = st.integer("upload_id");
    p.job_id = st.integer("job_id");
    p.album_id = st.opt_integer("album_id");
    p.section = *parse_section(st.text("section"));
    p.filename = st.text("filename");
    p.original_path = st.text("original_path");
    p.width = static_cast<int>(st.integer("width"));
    p.height = static_cast<int>(st.integer("height"));
    p.captured_at = st.opt_text("captured_at");
    p.camera_make = st.text("camera_make");
    p.camera_model = st.text("camera_model");
    p.camera_serial = st.text("camera_serial");
    p.orientation = static_cast<int>(st.integer("orientation"));
    p.content_hash = st.text("content_hash");
    p.thumbnail_path = st.text("thumbnail_path");
    p.preview_path = st.text("preview_path");
    p.deleted = st.integer("deleted") != 0;
    p.created_ns = st.integer("created_ns");
    p.note = st.text("note");
    p.captured_us = static_cast<int>(st.integer("captured_us"));
    p.card_code = st.opt_text("card_code");
    p.subject = st.opt_text("subject_code");
    p.subject_manual = st.flag("subject_manual");
    return p;
}

// photo_columns and the size of the photo's upload, as "size".
ListedPhoto read_listed_photo(const Row& st) { return ListedPhoto{read_photo(st), st.integer("size")}; }

constexpr std::string_view event_columns = "id, type, occurred_ns, tenant_id, job_id, album_id, upload_id, photo_id, data";
Event read_event(const Row& st) {
    return Event{st.integer("id"),          st.text("type"),           st.integer("occurred_ns"),
                 st.integer("tenant_id"),   st.opt_integer("job_id"),  st.opt_integer("album_id"),
                 st.opt_integer("upload_id"), st.opt_integer("photo_id"), st.text("data")};
}

constexpr std::string_view token_columns = "id, tenant_id, label, read_only, created_ns, revoked_ns";
ApiToken read_token(const Row& st) {
    return ApiToken{st.integer("id"),         st.opt_integer("tenant_id"), st.text("label"),
                    st.flag("read_only"),     st.integer("created_ns"),    st.opt_integer("revoked_ns")};
}

// A webhook's event types as stored: "a,b" ("" for every type).
std::string join_types(const std::vector<std::string>& types) {
    std::string out;
    for (const auto& t : types) out += (out.empty() ? "" : ",") + t;
    return out;
}

constexpr std::string_view webhook_columns = "id, tenant_id, url, secret, event_types, created_ns";
Webhook read_webhook(const Row& st) {
    Webhook w{st.integer("id"), st.integer("tenant_id"), st.text("url"), st.text("secret"), {}, st.integer("created_ns")};
    std::string types = st.text("event_types");
    for (size_t start = 0; start < types.size();) {
        size_t comma = types.find(',', start);
        if (comma == std::string::npos) comma = types.size();
        w.event_types.push_back(types.substr(start, comma - start));
        start = comma + 1;
    }
    return w;
}

constexpr std::string_view delivery_columns =
    "id, webhook_id, event_id, job_id, state, attempts, next_attempt_ns, last_status, last_error, created_ns, done_ns";
Delivery read_delivery(const Row& st) {
    Delivery d;
    d.id = st.integer("id");
    d.webhook_id = st.integer("webhook_id");
    d.event_id = st.integer("event_id");
    d.job_id = st.integer("job_id");
    d.state = *parse_delivery_state(st.text("state"));
    d.attempts = static_cast<int>(st.integer("attempts"));
    d.next_attempt_ns = st.integer("next_attempt_ns");
    if (auto status = st.opt_integer("last_status")) d.last_status = static_cast<int>(*status);
    d.last_error = st.text("last_error");
    d.created_ns = st.integer("created_ns");
    d.done_ns = st.opt_integer("done_ns");
    return d;
}

// "p.id, p.upload_id, ...": `columns`, each named with `prefix` ("p.").
std::string prefixed_columns(std::string_view prefix, std::string_view columns) {
    std::string out;
    std::string_view rest = columns;
    while (!rest.empty()) {
        auto comma = rest.find(", ");
        std::string_view column = rest.substr(0, comma);
        if (!out.empty()) out += ", ";
        out += prefix;
        out += column;
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 2);
    }
    return out;
}

// Whether the photo named `p` may lose its files: deleted before $2, not
// purged, and no photo or upload of tenant $1 that is kept shares its hash.
// A photo is kept while not deleted or deleted since $2; an upload while in
// any state but deleted and discarded, or deleted since $2. Every upload
// whose data_path is in the store (an ingested photo, a duplicate) carries
// the content hash, so the hash covers the files it reads.
constexpr std::string_view purgeable =
    "p.deleted = 1 AND p.deleted_ns < $2 AND p.purged_ns IS NULL "
    "AND NOT EXISTS (SELECT 1 FROM photos q JOIN jobs k ON k.id = q.job_id WHERE k.tenant_id = $1 "
    "  AND q.content_hash = p.content_hash "
    "  AND (q.deleted = 0 OR q.deleted_ns IS NULL OR q.deleted_ns >= $2)) "
    "AND NOT EXISTS (SELECT 1 FROM uploads u JOIN jobs k ON k.id = u.job_id WHERE k.tenant_id = $1 "
    "  AND u.content_hash = p.content_hash AND u.content_hash <> '' "  // the partial index uploads_by_content
    "  AND (u.state NOT IN ('deleted','discarded') OR u.updated_ns >= $2))";

// The uploads of one folder: binds job $1, album $2 (0 for none), section $3,
// in_section_folder $4; the terms of the partial unique index uploads_live_path.
constexpr std::string_view folder_match =
    "job_id = $1 AND coalesce(album_id, 0) = $2 AND section = $3 AND in_section_folder = $4";

// A job's name is the folder photographers see: one path component, text.
void check_job_name(const std::string& name) {
    bool control = std::any_of(name.begin(), name.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
    if (name.empty() || name == "." || name == ".." || name.size() > 255 || control ||
        name.find('/') != std::string::npos || name.front() == '.' || !text::valid_utf8(name))
        throw CatalogError(fmt::format("invalid job name '{}': it must be a folder name (no '/', no leading "
                                       "'.', no control characters, UTF-8, at most 255 bytes)",
                                       text::shown(name)));
}

// What the schema's constraints mean, for the CatalogError of a change they refuse.
CatalogError refusal(const sql::Error& e) {
    std::string_view what = e.what();
    auto names = [&](std::string_view index, std::string_view columns) {
        return e.constraint() == index || what.find(index) != std::string_view::npos ||
               what.find(columns) != std::string_view::npos;
    };
    using K = CatalogError::Kind;
    if (names("uploads_lifecycle", "uploads_lifecycle"))
        return CatalogError("the upload has moved on: its state does not allow that change", K::Conflict);
    if (names("uploads_live_path", "uploads_live_path"))
        return CatalogError("another upload is at that name already", K::Exists);
    if (names("photos_live_hash", "photos.job_id, photos.content_hash"))
        return CatalogError("the job has a photo of the same content already", K::Exists);
    if (names("albums_by_name", "albums.job_id, albums.name"))
        return CatalogError("an album of that name exists already", K::Exists);
    if (names("jobs_tenant_id_name_key", "jobs.tenant_id, jobs.name"))
        return CatalogError("a job of that name exists already", K::Exists);
    if (names("tenants_slug_key", "tenants.slug")) return CatalogError("the tenant exists already", K::Exists);
    if (names("sftp_users_username_key", "sftp_users.username"))
        return CatalogError("the user exists already", K::Exists);
    if (names("sftp_users_uid_key", "sftp_users.uid"))
        return CatalogError("the uid belongs to another user", K::Exists);
    return CatalogError(fmt::format("the catalog refused the change: {}", what), K::Conflict);
}

class SqlCatalog final : public Catalog {
public:
    explicit SqlCatalog(std::unique_ptr<sql::Connection> c)
        : c_(std::move(c)), for_update_(c_->engine() == sql::Engine::Postgres ? " FOR UPDATE" : "") {
        sql::migrate(*c_);
    }

    Tenant add_tenant(const std::string& slug, const std::string& name) override {
        return transaction([&] {
            auto rows = c_->run("INSERT INTO tenants(slug, name) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id",
                                slug, name);
            if (rows.empty()) throw CatalogError(fmt::format("tenant {} exists already", slug), CatalogError::Kind::Exists);
            return Tenant{rows[0].integer("id"), slug, name, std::nullopt};
        });
    }

    std::optional<Tenant> tenant(const std::string& slug) override {
        return one<Tenant>(c_->run("SELECT id, slug, name, quota_bytes FROM tenants WHERE slug = $1", slug), read_tenant);
    }

    std::optional<Tenant> tenant(Id id) override {
        return one<Tenant>(c_->run("SELECT id, slug, name, quota_bytes FROM tenants WHERE id = $1", id), read_tenant);
    }

    std::vector<Tenant> tenants() override {
        return all<Tenant>(c_->run("SELECT id, slug, name, quota_bytes FROM tenants ORDER BY slug"), read_tenant);
    }

    void set_tenant_quota(Id tenant_id, std::optional<int64_t> quota_bytes) override {
        transaction([&] {
            if (c_->run("UPDATE tenants SET quota_bytes = $1 WHERE id = $2", quota_bytes, tenant_id).affected() == 0)
                throw CatalogError(fmt::format("no tenant {}", tenant_id), CatalogError::Kind::NotFound);
        });
    }

    int64_t tenant_use(Id tenant_id) override {
        // One row per file (the partial index uploads_by_bytes covers it): a
        // duplicate names its photo's original, and is counted with it.
        auto rows = c_->run("SELECT coalesce(sum(size), 0) AS used FROM (SELECT max(u.size) AS size FROM uploads u "
                            "JOIN jobs j ON j.id = u.job_id WHERE j.tenant_id = $1 AND u.data_path <> '' "
                            "AND u.state NOT IN ('deleted','discarded') GROUP BY u.data_path) AS per_file",
                            tenant_id);
        return rows[0].integer("used");
    }

    Job add_job(Id tenant_id, const std::string& name, const std::string& title, Layout layout,
                JobStatus status) override {
        check_job_name(name);
        return transaction([&] {
            auto rows = c_->run("INSERT INTO jobs(tenant_id, name, title, status, layout) VALUES ($1, $2, $3, $4, $5) "
                                "ON CONFLICT DO NOTHING RETURNING id",
                                tenant_id, name, title, to_string(status), to_string(layout));
            if (rows.empty()) throw CatalogError(fmt::format("job {} exists already", name), CatalogError::Kind::Exists);
            return Job{rows[0].integer("id"), tenant_id, name, title, status, layout};
        });
    }

    std::optional<Job> job(Id tenant_id, const std::string& name) override {
        return one<Job>(c_->run(fmt::format("SELECT {} FROM jobs WHERE tenant_id = $1 AND name = $2", job_columns),
                                tenant_id, name),
                        read_job);
    }

    std::optional<Job> job(Id id) override {
        return one<Job>(c_->run(fmt::format("SELECT {} FROM jobs WHERE id = $1", job_columns), id), read_job);
    }

    std::vector<Job> jobs(Id tenant_id, std::optional<JobStatus> status) override {
        std::optional<std::string_view> wanted;
        if (status) wanted = to_string(*status);
        return all<Job>(c_->run(fmt::format("SELECT {} FROM jobs WHERE tenant_id = $1 AND (CAST($2 AS TEXT) IS NULL OR status = $2) "
                                            "ORDER BY name",
                                            job_columns),
                                tenant_id, wanted),
                        read_job);
    }

    void set_job_status(Id job_id, JobStatus status) override {
        transaction([&] {
            auto before = one<Job>(c_->run(fmt::format("SELECT {} FROM jobs WHERE id = $1{}", job_columns, for_update_), job_id),
                                   read_job);
            if (!before) throw CatalogError(fmt::format("no job {}", job_id), CatalogError::Kind::NotFound);
            if (before->status == status) return;
            c_->run("UPDATE jobs SET status = $1 WHERE id = $2", to_string(status), job_id);
            emit(event::job_status_changed, job_id,
                 {{"job", before->name}, {"from", to_string(before->status)}, {"to", to_string(status)}});
        });
    }

    std::vector<Event> events(std::optional<Id> tenant_id, Id after, int limit) override {
        return all<Event>(c_->run(fmt::format("SELECT {} FROM events WHERE id > $1 "
                                              "AND (CAST($2 AS BIGINT) IS NULL OR tenant_id = $2) ORDER BY id LIMIT $3",
                                              event_columns),
                                  after, tenant_id, static_cast<int64_t>(limit)),
                          read_event);
    }

    SftpUser add_user(Id tenant_id, const std::string& username, uint32_t uid,
                      const std::vector<Id>& job_ids, const Protocols& protocols,
                      std::optional<Id> camera_album_id) override {
        return transaction([&] {
            if (!c_->run("SELECT 1 FROM sftp_users WHERE uid = $1 AND username <> $2", uid, username).empty())
                throw CatalogError(fmt::format("uid {} belongs to another user", uid), CatalogError::Kind::Exists);
            auto rows = c_->run("INSERT INTO sftp_users(tenant_id, username, uid, protocols, camera_album_id) "
                                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING id",
                                tenant_id, username, uid, to_string(protocols), camera_album_id);
            if (rows.empty())
                throw CatalogError(fmt::format("user {} exists already", username), CatalogError::Kind::Exists);
            Id id = rows[0].integer("id");
            write_user_jobs(id, job_ids);
            return SftpUser{id, tenant_id, username, uid, true, job_ids, protocols, camera_album_id};
        });
    }

    std::optional<SftpUser> user(const std::string& username) override {
        return with_jobs(one<SftpUser>(c_->run(fmt::format("SELECT {} FROM sftp_users WHERE username = $1", user_columns),
                                               username),
                                       read_user));
    }

    std::optional<SftpUser> user_by_uid(uint32_t uid) override {
        return with_jobs(one<SftpUser>(
            c_->run(fmt::format("SELECT {} FROM sftp_users WHERE uid = $1", user_columns), uid), read_user));
    }

    std::vector<SftpUser> users(std::optional<Id> tenant_id) override {
        auto rows = all<SftpUser>(c_->run(fmt::format("SELECT {} FROM sftp_users WHERE CAST($1 AS BIGINT) IS NULL OR tenant_id = $1 "
                                                      "ORDER BY username",
                                                      user_columns),
                                          tenant_id),
                                  read_user);
        for (auto& u : rows) u.job_ids = user_jobs(u.id);
        return rows;
    }

    void set_user_enabled(Id user_id, bool enabled) override {
        transaction([&] { c_->run("UPDATE sftp_users SET enabled = $1 WHERE id = $2", enabled, user_id); });
    }

    void set_user_protocols(Id user_id, const Protocols& protocols) override {
        transaction([&] { c_->run("UPDATE sftp_users SET protocols = $1 WHERE id = $2", to_string(protocols), user_id); });
    }

    void set_user_jobs(Id user_id, const std::vector<Id>& job_ids) override {
        transaction([&] {
            if (c_->run(fmt::format("SELECT id FROM sftp_users WHERE id = $1{}", for_update_), user_id).empty())
                throw CatalogError(fmt::format("no user {}", user_id), CatalogError::Kind::NotFound);
            write_user_jobs(user_id, job_ids);
        });
    }

    void remove_user(Id user_id) override {
        transaction([&] {
            c_->run("UPDATE uploads SET user_id = NULL WHERE user_id = $1", user_id);
            c_->run("DELETE FROM user_jobs WHERE user_id = $1", user_id);
            c_->run("DELETE FROM sftp_users WHERE id = $1", user_id);
        });
    }

    Album add_album(Id job_id, const std::string& name) override {
        return transaction([&] {
            auto rows = c_->run(fmt::format("INSERT INTO albums(job_id, name, created_ns) VALUES ($1, $2, $3) "
                                            "ON CONFLICT (job_id, name) WHERE removed_ns IS NULL DO NOTHING RETURNING {}",
                                            album_columns),
                                job_id, name, now_ns());
            if (rows.empty())
                throw CatalogError(fmt::format("album {} exists already", name), CatalogError::Kind::Exists);
            auto a = read_album(rows[0]);
            auto j = job(job_id);
            emit(event::album_created, job_id, {{"job", j ? j->name : ""}, {"album", a.name}, {"album_id", a.id}}, a.id);
            return a;
        });
    }

    std::optional<Album> album(Id job_id, const std::string& name) override {
        return one<Album>(c_->run(fmt::format("SELECT {} FROM albums WHERE job_id = $1 AND name = $2 "
                                              "AND removed_ns IS NULL",
                                              album_columns),
                                  job_id, name),
                          read_album);
    }

    std::optional<Album> album(Id id) override {
        return one<Album>(c_->run(fmt::format("SELECT {} FROM albums WHERE id = $1", album_columns), id), read_album);
    }

    std::vector<Album> albums(Id job_id) override {
        return all<Album>(c_->run(fmt::format("SELECT {} FROM albums WHERE job_id = $1 AND removed_ns IS NULL "
                                              "ORDER BY name",
                                              album_columns),
                                  job_id),
                          read_album);
    }

    void set_section_folder(Id album_id, Section section, bool exists) override {
        transaction([&] {
            c_->run(section == Section::Group ? "UPDATE albums SET has_group = $1 WHERE id = $2"
                                              : "UPDATE albums SET has_individuals = $1 WHERE id = $2",
                    exists, album_id);
        });
    }

    void rename_album(Id album_id, const std::string& new_name) override {
        transaction([&] {
            // The unique index albums_by_name refuses a name taken (refusal(): Exists).
            if (c_->run("UPDATE albums SET name = $1 WHERE id = $2 AND removed_ns IS NULL", new_name, album_id)
                    .affected() == 0)
                throw CatalogError(fmt::format("no album {}", album_id), CatalogError::Kind::NotFound);
        });
    }

    void remove_album(Id album_id) override {
        // The row stays: hidden uploads and photos still name the album.
        transaction([&] { c_->run("UPDATE albums SET removed_ns = $1 WHERE id = $2", now_ns(), album_id); });
    }

    Upload add_upload(const NewUpload& n) override {
        // Made durable by the commit that queues it (or by any later one): an upload
        // is acknowledged when its file is closed, not when it is created.
        return transaction(Durability::Deferred, [&] { return insert_upload(n); });
    }

    std::optional<Upload> upload(Id id) override {
        return one<Upload>(c_->run(fmt::format("SELECT {} FROM uploads WHERE id = $1", upload_columns), id),
                           read_upload);
    }

    std::optional<Upload> upload_at(Id job_id, const Folder& folder, const std::string& filename) override {
        if (!text::valid_utf8(filename)) return std::nullopt;  // no upload has such a name
        return one<Upload>(c_->run(fmt::format("SELECT {} FROM uploads WHERE {} AND filename = $5 AND {}",
                                               upload_columns, folder_match, visible),
                                   job_id, folder.album_id.value_or(0), to_string(folder.section),
                                   folder.in_section_folder, filename),
                           read_upload);
    }

    std::string unused_name(Id job_id, const Folder& folder, const std::string& filename) override {
        auto dot = filename.rfind('.');
        if (dot == 0 || dot == std::string::npos) dot = filename.size();
        for (int n = 1;; ++n) {
            auto name = n == 1 ? filename : fmt::format("{} ({}){}", filename.substr(0, dot), n, filename.substr(dot));
            if (!upload_at(job_id, folder, name)) return name;
        }
    }

    std::vector<Upload> uploads_in(Id job_id, const Folder& folder) override {
        return all<Upload>(c_->run(fmt::format("SELECT {} FROM uploads WHERE {} AND {} ORDER BY filename",
                                               upload_columns, folder_match, visible),
                                   job_id, folder.album_id.value_or(0), to_string(folder.section),
                                   folder.in_section_folder),
                           read_upload);
    }

    bool album_has_uploads(Id album_id, std::optional<Folder> only_folder) override {
        if (only_folder) {
            auto a = album(album_id);
            if (!a) return false;
            return !c_->run(fmt::format("SELECT 1 FROM uploads WHERE {} AND {} LIMIT 1", folder_match, visible),
                            a->job_id, only_folder->album_id.value_or(0), to_string(only_folder->section),
                            only_folder->in_section_folder)
                        .empty();
        }
        return !c_->run(fmt::format("SELECT 1 FROM uploads WHERE album_id = $1 AND {} LIMIT 1", visible), album_id)
                    .empty();
    }

    std::vector<Upload> uploads(Id job_id, std::optional<UploadState> state) override {
        std::optional<std::string_view> wanted;
        if (state) wanted = to_string(*state);
        return all<Upload>(c_->run(fmt::format("SELECT {} FROM uploads WHERE job_id = $1 AND (CAST($2 AS TEXT) IS NULL OR state = $2) "
                                               "ORDER BY id",
                                               upload_columns),
                                   job_id, wanted),
                           read_upload);
    }

    Upload close_upload(Id upload_id, int64_t size, int64_t mtime_ns,
                        const std::function<bool(const Upload&)>& queue_if) override {
        return transaction([&] {
            auto u = locked(upload_id);
            bool queue = u.state == UploadState::Receiving && queue_if && queue_if(u);
            if (queue) c_->notify(queue_channel);
            return *one<Upload>(c_->run(fmt::format("UPDATE uploads SET size = $1, mtime_ns = $2, updated_ns = $3, "
                                                    "state = CASE WHEN $4 = 1 THEN 'queued' ELSE state END, "
                                                    "reason = CASE WHEN $4 = 1 THEN '' ELSE reason END "
                                                    "WHERE id = $5 RETURNING {}",
                                                    upload_columns),
                                        size, mtime_ns, now_ns(), queue, upload_id),
                                read_upload);
        });
    }

    bool queue_upload(Id upload_id, const std::function<bool(const Upload&)>& queue_if) override {
        return transaction([&] {
            auto u = locked(upload_id);
            if (u.state != UploadState::Receiving || !queue_if(u)) return false;
            transition(u, UploadState::Queued, "");
            c_->notify(queue_channel);
            return true;
        });
    }

    bool reopen(Id upload_id) override {
        return transaction([&] {
            auto u = locked(upload_id);
            if (u.state == UploadState::Receiving) return true;
            if (!can_transition(u.state, UploadState::Receiving)) return false;
            transition(u, UploadState::Receiving, "");
            return true;
        });
    }

    Upload replace_upload(Id old_id, const std::string& reason, const NewUpload& replacement) override {
        return transaction(Durability::Deferred, [&] {
            auto old = locked(old_id);
            if (!is_visible(old))
                throw CatalogError(fmt::format("upload {} was replaced or deleted already", old_id),
                                   CatalogError::Kind::Conflict);
            transition(old, UploadState::Deleted, reason);
            return insert_upload(replacement);
        });
    }

    bool rename_upload(Id upload_id, const Folder& folder, const std::string& filename, std::optional<Id> replacing,
                       bool queue_if_receiving, const std::string& sent_name) override {
        return transaction([&] {
            if (replacing && *replacing != upload_id) delete_locked(locked(*replacing));
            auto u = locked(upload_id);
            c_->run("UPDATE uploads SET album_id = $1, section = $2, in_section_folder = $3, filename = $4, "
                    "sent_name = $5, updated_ns = $6 WHERE id = $7",
                    folder.album_id, to_string(folder.section), folder.in_section_folder, filename, sent_name,
                    now_ns(), upload_id);
            if (u.photo_id && !u.duplicate)
                c_->run("UPDATE photos SET album_id = $1, section = $2, filename = $3 WHERE id = $4", folder.album_id,
                        to_string(folder.section), filename, *u.photo_id);
            bool queue = queue_if_receiving && u.state == UploadState::Receiving;
            if (queue) transition(u, UploadState::Queued, "");
            if (queue) c_->notify(queue_channel);
            return queue;
        });
    }

    void set_state(Id upload_id, UploadState state, const std::string& reason) override {
        transaction([&] { transition(locked(upload_id), state, reason); });
    }

    void reject_without_bytes(Id upload_id, const std::string& reason) override {
        transaction([&] {
            transition(locked(upload_id), UploadState::Rejected, reason);
            c_->run("UPDATE uploads SET data_path = '', size = 0 WHERE id = $1", upload_id);
        });
    }

    void set_attributes(Id upload_id, std::optional<int64_t> size, std::optional<int64_t> mtime_ns,
                        std::optional<uint32_t> mode) override {
        transaction([&] {
            c_->run("UPDATE uploads SET size = coalesce($1, size), mtime_ns = coalesce($2, mtime_ns), "
                    "mode = coalesce($3, mode) WHERE id = $4",
                    size, mtime_ns, mode, upload_id);
        });
    }

    void delete_upload(Id upload_id) override {
        transaction([&] { delete_locked(locked(upload_id)); });
    }

    std::optional<Upload> claim_next(int64_t lease_ns) override {
        return transaction([&] {
            int64_t now = now_ns();
            // Another host's claims are skipped, not waited for.
            return one<Upload>(
                c_->run(fmt::format("UPDATE uploads SET state = 'processing', lease_until_ns = $2, "
                                    "attempts = attempts + 1, updated_ns = $1 "
                                    "WHERE state = 'queued' AND id = (SELECT id FROM uploads WHERE state = 'queued' "
                                    "AND next_attempt_ns <= $1 ORDER BY id LIMIT 1{}) RETURNING {}",
                                    c_->engine() == sql::Engine::Postgres ? " FOR UPDATE SKIP LOCKED" : "",
                                    upload_columns),
                        now, now + lease_ns),
                read_upload);
        });
    }

    int release_expired_leases() override {
        return transaction([&] {
            return queued(c_->run("UPDATE uploads SET state = 'queued', lease_until_ns = 0, updated_ns = $1 "
                                            "WHERE state = 'processing' AND lease_until_ns < $1",
                                            now_ns()));
        });
    }

    void release_claim(Id upload_id) override {
        transaction([&] {
            c_->run("UPDATE uploads SET state = 'queued', lease_until_ns = 0, "
                    "attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, "
                    "updated_ns = $1 WHERE id = $2 AND state = 'processing'",
                    now_ns(), upload_id);
        });
    }

    void retry_later(Id upload_id, const std::string& error, int64_t retry_at_ns) override {
        transaction([&] {
            c_->run("UPDATE uploads SET state = 'queued', reason = $1, next_attempt_ns = $2, lease_until_ns = 0, "
                    "updated_ns = $3 WHERE id = $4 AND state = 'processing'",
                    error, retry_at_ns, now_ns(), upload_id);
        });
    }

    bool renew_lease(Id upload_id, int64_t lease_ns) override {
        return transaction([&] {
            return c_->run("UPDATE uploads SET lease_until_ns = $1 WHERE id = $2 AND state = 'processing'",
                           now_ns() + lease_ns, upload_id)
                       .affected() > 0;
        });
    }

    void note_content_hash(Id upload_id, const std::string& content_hash) override {
        transaction([&] { c_->run("UPDATE uploads SET content_hash = $1 WHERE id = $2", content_hash, upload_id); });
    }

    Filed file_ingest(Id upload_id, const IngestResult& r) override {
        return transaction([&]() -> Filed {
            auto u = locked(upload_id);
            if (u.photo_id) return Filed{*photo(*u.photo_id), u.duplicate};
            int64_t now = now_ns();
            bool gone = u.state == UploadState::Deleted;
            // One photo per job and content among those not deleted (the
            // partial unique index photos_live_hash): a photo filed by
            // another process a moment ago makes this one its duplicate.
            auto inserted = c_->run(
                fmt::format("INSERT INTO photos(upload_id, job_id, album_id, section, filename, original_path, width, "
                            "height, captured_at, camera_make, camera_model, camera_serial, orientation, content_hash, "
                            "thumbnail_path, preview_path, deleted, deleted_ns, created_ns, note, captured_us, card_code) "
                            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, "
                            "$19, $20, $21, $22) ON CONFLICT (job_id, content_hash) WHERE deleted = 0 DO NOTHING RETURNING {}",
                            photo_columns),
                u.id, u.job_id, u.folder.album_id, to_string(u.folder.section), u.filename, r.original_path, r.width,
                r.height, r.captured_at, r.camera_make, r.camera_model, r.camera_serial, r.orientation,
                r.content_hash, r.thumbnail_path, r.preview_path, gone, gone ? std::optional<int64_t>(now) : std::nullopt,
                now, r.note, r.captured_us, r.code);
            if (inserted.empty()) {
                auto twin = live_photo(u.job_id, r.content_hash);
                if (!twin) throw sql::Error(sql::Error::Kind::Transient, "the photo of the same content went away");
                duplicate_locked(u, *twin);
                return Filed{*twin, true};
            }
            Photo p = read_photo(inserted[0]);
            // A deleted upload keeps the reason it was deleted for.
            c_->run("UPDATE uploads SET photo_id = $1, content_hash = $2, data_path = $3, "
                    "reason = CASE WHEN state = 'deleted' THEN reason ELSE '' END, lease_until_ns = 0, "
                    "updated_ns = $4 WHERE id = $5",
                    p.id, r.content_hash, r.original_path, now, u.id);
            if (!gone) transition(u, UploadState::Ingested, "");
            bool replaced = u.supersedes_photo_id &&
                            c_->run("UPDATE photos SET deleted = 1, deleted_ns = $1 WHERE id = $2 AND deleted = 0", now,
                                    *u.supersedes_photo_id)
                                    .affected() > 0;
            if (!gone) {
                emit(event::photo_ingested, u.job_id, photo_data(u, p), u.folder.album_id, u.id, p.id);
                if (replaced) {
                    auto d = photo_data(u, p);
                    d["replaces"] = *u.supersedes_photo_id;
                    emit(event::photo_replaced, u.job_id, std::move(d), u.folder.album_id, u.id, p.id);
                }
                regroup(u.job_id, u.folder);
                p = *photo(p.id);
            }
            return Filed{p, false};
        });
    }

    void mark_duplicate(Id upload_id, Id photo_id, const std::string& content_hash) override {
        transaction([&] {
            auto twin = photo(photo_id);
            if (!twin) throw CatalogError(fmt::format("no photo {}", photo_id), CatalogError::Kind::NotFound);
            if (twin->content_hash != content_hash)
                throw CatalogError(fmt::format("photo {} does not hold content {}", photo_id, content_hash));
            duplicate_locked(locked(upload_id), *twin);
        });
    }

    int retry_uploads(std::optional<Id> upload_id, std::optional<Id> job_id) override {
        return transaction([&] {
            return queued(
                c_->run("UPDATE uploads SET state = 'queued', next_attempt_ns = 0, attempts = 0, updated_ns = $1 "
                        "WHERE state IN ('failed','rejected') AND data_path <> '' "
                        "AND (CAST($2 AS BIGINT) IS NULL OR id = $2) AND (CAST($3 AS BIGINT) IS NULL OR job_id = $3)",
                        now_ns(), upload_id, job_id));
        });
    }

    QueueStats queue_stats() override {
        QueueStats stats;
        for (auto row : c_->run("SELECT state, count(*) AS n FROM uploads GROUP BY state"))
            stats.by_state[*parse_upload_state(row.text("state"))] = row.integer("n");
        stats.oldest_queued_ns =
            c_->run("SELECT min(updated_ns) AS oldest FROM uploads WHERE state = 'queued'")[0].opt_integer("oldest");
        stats.waiting_for_space = c_->run("SELECT count(*) AS n FROM uploads WHERE state = 'queued' "
                                          "AND substr(reason, 1, $1) = $2",
                                          static_cast<int64_t>(waiting_for_space_reason.size()),
                                          waiting_for_space_reason)[0]
                                      .integer("n");
        return stats;
    }

    void wait_for_space(Id upload_id, const std::string& detail, int64_t retry_at_ns) override {
        transaction([&] {
            c_->run("UPDATE uploads SET state = 'queued', reason = $1, next_attempt_ns = $2, lease_until_ns = 0, "
                    "attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, updated_ns = $3 "
                    "WHERE id = $4 AND state = 'processing'",
                    fmt::format("{}: {}", waiting_for_space_reason, detail), retry_at_ns, now_ns(), upload_id);
        });
    }

    std::vector<Upload> staged_uploads(Id tenant_id) override {
        auto t = tenant(tenant_id);
        if (!t) return {};
        std::string prefix = t->slug + "/staging/";
        return all<Upload>(c_->run(fmt::format("SELECT {} FROM uploads WHERE substr(data_path, 1, $1) = $2 "
                                               "AND job_id IN (SELECT id FROM jobs WHERE tenant_id = $3) ORDER BY id",
                                               upload_columns),
                                   static_cast<int64_t>(prefix.size()), prefix, tenant_id),
                           read_upload);
    }

    bool expire_receiving(Id upload_id, const std::string& reason) override {
        return transaction([&] {
            auto u = locked(upload_id);
            if (u.state != UploadState::Receiving) return false;
            transition(u, UploadState::Rejected, reason);
            return true;
        });
    }

    bool mark_bytes_purged(const Upload& seen) override {
        return transaction([&] {
            return c_->run("UPDATE uploads SET data_path = '', purged_ns = $1 "
                           "WHERE id = $2 AND state = $3 AND data_path = $4 AND updated_ns = $5 AND data_path <> ''",
                           now_ns(), seen.id, to_string(seen.state), seen.data_path, seen.updated_ns)
                       .affected() > 0;
        });
    }

    bool point_duplicate_at_original(const Upload& seen) override {
        return transaction([&] {
            return c_->run("UPDATE uploads SET data_path = (SELECT original_path FROM photos WHERE id = uploads.photo_id) "
                           "WHERE id = $1 AND duplicate = 1 AND state = 'ingested' AND data_path = $2 "
                           "AND EXISTS (SELECT 1 FROM photos WHERE id = uploads.photo_id)",
                           seen.id, seen.data_path)
                       .affected() > 0;
        });
    }

    std::vector<PurgeablePhoto> purgeable_photos(Id tenant_id, int64_t deleted_before_ns) override {
        auto rows = c_->run(fmt::format("SELECT {}, t.slug AS tenant_slug, p.deleted_ns AS deleted_ns "
                                        "FROM photos p JOIN jobs j ON j.id = p.job_id "
                                        "JOIN tenants t ON t.id = j.tenant_id "
                                        "WHERE j.tenant_id = $1 AND {} ORDER BY p.id",
                                        prefixed_columns("p.", photo_columns), purgeable),
                            tenant_id, deleted_before_ns);
        return all<PurgeablePhoto>(rows, [](const Row& row) {
            return PurgeablePhoto{read_photo(row), row.text("tenant_slug"), row.integer("deleted_ns")};
        });
    }

    std::set<std::string> named_store_files(Id tenant_id, std::optional<std::string> content_hash) override {
        std::set<std::string> named;
        for (auto row : c_->run("SELECT p.original_path, p.thumbnail_path, p.preview_path FROM photos p "
                                "JOIN jobs j ON j.id = p.job_id WHERE j.tenant_id = $1 AND p.purged_ns IS NULL "
                                "AND (CAST($2 AS TEXT) IS NULL OR p.content_hash = $2)",
                                tenant_id, content_hash))
            for (auto column : {"original_path", "thumbnail_path", "preview_path"}) named.insert(row.text(column));
        for (auto row : c_->run("SELECT u.data_path FROM uploads u JOIN jobs j ON j.id = u.job_id "
                                "WHERE j.tenant_id = $1 AND u.data_path <> '' AND (CAST($2 AS TEXT) IS NULL OR u.content_hash = $2)",
                                tenant_id, content_hash))
            named.insert(row.text("data_path"));
        return named;
    }

    bool mark_photo_purged(Id photo_id, int64_t deleted_before_ns) override {
        return transaction([&] {
            auto p = photo(photo_id);
            auto j = p ? job(p->job_id) : std::nullopt;
            if (!j) return false;
            int64_t now = now_ns();
            bool marked = c_->run(fmt::format("UPDATE photos AS p SET purged_ns = $3 WHERE p.id = $4 AND p.job_id IN "
                                              "(SELECT id FROM jobs WHERE tenant_id = $1) AND {}",
                                              purgeable),
                                  j->tenant_id, deleted_before_ns, now, photo_id)
                              .affected() > 0;
            if (marked)
                c_->run("UPDATE uploads SET data_path = '', purged_ns = $1 "
                        "WHERE photo_id = $2 AND duplicate = 0 AND state = 'deleted' AND data_path = $3",
                        now, photo_id, p->original_path);
            return marked;
        });
    }

    std::optional<Photo> photo(Id id) override {
        return one<Photo>(c_->run(fmt::format("SELECT {} FROM photos WHERE id = $1", photo_columns), id), read_photo);
    }

    std::optional<Photo> photo_by_hash(Id job_id, const std::string& content_hash) override {
        return live_photo(job_id, content_hash);
    }

    std::vector<Photo> photos(Id job_id, std::optional<Id> album_id) override {
        return all<Photo>(c_->run(fmt::format("SELECT {} FROM photos WHERE job_id = $1 AND (CAST($2 AS BIGINT) IS NULL OR album_id = $2) "
                                              "ORDER BY id",
                                              photo_columns),
                                  job_id, album_id),
                          read_photo);
    }

    int import_roster(Id job_id, const std::vector<RosterEntry>& entries) override {
        return transaction([&] {
            for (const auto& e : entries)
                c_->run("INSERT INTO roster(job_id, code, name, class, external_id) VALUES ($1, $2, $3, $4, $5) "
                        "ON CONFLICT (job_id, code) DO UPDATE SET name = excluded.name, class = excluded.class, "
                        "external_id = excluded.external_id",
                        job_id, e.code, e.name, e.class_name, e.external_id);
            return static_cast<int>(entries.size());
        });
    }

    std::vector<RosterEntry> roster(Id job_id) override {
        return all<RosterEntry>(c_->run("SELECT code, name, class, external_id FROM roster WHERE job_id = $1 ORDER BY code",
                                        job_id),
                                read_roster_entry);
    }

    void assign_subject(Id photo_id, std::optional<std::string> code) override {
        transaction([&] {
            auto p = locked_photo(photo_id);
            // A code that is on no card and not on the roster is a typing error, not a subject.
            if (code && c_->run("SELECT 1 FROM roster WHERE job_id = $1 AND code = $2 UNION ALL "
                                "SELECT 1 FROM photos WHERE job_id = $1 AND card_code = $2 AND deleted = 0",
                                p.job_id, *code)
                            .empty())
                throw CatalogError(fmt::format("no subject {} in the job: no card shows it and the roster has "
                                               "no such code",
                                               text::shown(*code)),
                                   CatalogError::Kind::NotFound);
            c_->run("UPDATE photos SET subject_code = $1, subject_manual = 1 WHERE id = $2", code, photo_id);
            if (code == p.subject) return;
            for (const auto& changed : {p.subject, code})
                if (changed) emit_subject(p.job_id, p.album_id, *changed);
        });
    }

    void release_subject(Id photo_id) override {
        transaction([&] {
            auto p = locked_photo(photo_id);
            c_->run("UPDATE photos SET subject_manual = 0 WHERE id = $1", photo_id);
            regroup(p.job_id, Folder{p.album_id, p.section, false});
        });
    }

    std::vector<Upload> uploads_page(Id job_id, std::optional<UploadState> state, Page page) override {
        std::optional<std::string_view> wanted;
        if (state) wanted = to_string(*state);
        return all<Upload>(c_->run(fmt::format("SELECT {} FROM uploads WHERE job_id = $1 AND id > $2 "
                                               "AND (CAST($3 AS TEXT) IS NULL OR state = $3) ORDER BY id LIMIT $4",
                                               upload_columns),
                                   job_id, page.after, wanted, int64_t{page.limit}),
                           read_upload);
    }

    std::vector<ListedPhoto> photos_page(Id job_id, std::optional<Id> album_id, std::optional<Section> section,
                                         Page page) override {
        std::optional<std::string_view> wanted;
        if (section) wanted = to_string(*section);
        static const std::string query =
            fmt::format("SELECT {}, u.size AS size FROM photos p JOIN uploads u ON u.id = p.upload_id "
                        "WHERE p.job_id = $1 AND p.deleted = 0 AND p.id > $2 "
                        "AND (CAST($3 AS BIGINT) IS NULL OR p.album_id = $3) "
                        "AND (CAST($4 AS TEXT) IS NULL OR p.section = $4) ORDER BY p.id LIMIT $5",
                        prefixed_columns("p.", photo_columns));
        return all<ListedPhoto>(c_->run(query, job_id, page.after, album_id, wanted, int64_t{page.limit}),
                                read_listed_photo);
    }

    std::optional<std::pair<ListedPhoto, Job>> listed_photo(Id photo_id) override {
        static const std::string query =
            fmt::format("SELECT {}, u.size AS size, j.tenant_id AS tenant_id, j.name AS name, j.title AS title, "
                        "j.status AS status, j.layout AS layout "
                        "FROM photos p JOIN uploads u ON u.id = p.upload_id JOIN jobs j ON j.id = p.job_id "
                        "WHERE p.id = $1",
                        prefixed_columns("p.", photo_columns));
        auto rows = c_->run(query, photo_id);
        auto row = rows.first();
        if (!row) return std::nullopt;
        return std::pair{read_listed_photo(*row), read_job_beside(*row, "job_id")};
    }

    Id last_event(std::optional<Id> tenant_id) override {
        return c_->run("SELECT coalesce(max(id), 0) AS last FROM events WHERE CAST($1 AS BIGINT) IS NULL OR tenant_id = $1",
                       tenant_id)[0]
            .integer("last");
    }

    int report_idle_albums(int64_t idle_ns, int64_t lookback_ns) override {
        int64_t now = now_ns();
        auto idle = c_->run("SELECT a.id AS id FROM uploads u JOIN albums a ON a.id = u.album_id "
                            "WHERE u.created_ns > $1 AND u.created_ns > a.idle_reported_ns "
                            "AND u.state NOT IN ('deleted','discarded') "
                            "GROUP BY a.id HAVING max(u.created_ns) <= $2 ORDER BY a.id",
                            now - idle_ns - lookback_ns, now - idle_ns);
        int reported = 0;
        for (auto row : idle) {
            Id album_id = row.integer("id");
            reported += transaction([&] { return report_idle(album_id, now - idle_ns); });
        }
        return reported;
    }

    std::string link_key(const std::string& candidate) override {
        return transaction([&] {
            c_->run("INSERT INTO secrets(name, value) VALUES ('link_key', $1) ON CONFLICT DO NOTHING", candidate);
            return c_->run("SELECT value FROM secrets WHERE name = 'link_key'")[0].text("value");
        });
    }

    ApiToken add_token(std::optional<Id> tenant_id, const std::string& label, const std::string& token_hash,
                       bool read_only) override {
        return transaction([&] {
            int64_t now = now_ns();
            auto rows = c_->run("INSERT INTO api_tokens(tenant_id, label, token_hash, read_only, created_ns) "
                                "VALUES ($1, $2, $3, $4, $5) RETURNING id",
                                tenant_id, label, token_hash, int64_t{read_only}, now);
            return ApiToken{rows[0].integer("id"), tenant_id, label, read_only, now, std::nullopt};
        });
    }

    std::optional<ApiToken> token_by_hash(const std::string& token_hash) override {
        return one<ApiToken>(c_->run(fmt::format("SELECT {} FROM api_tokens WHERE token_hash = $1 AND revoked_ns IS NULL",
                                                 token_columns),
                                     token_hash),
                             read_token);
    }

    std::vector<ApiToken> tokens(std::optional<Id> tenant_id) override {
        return all<ApiToken>(c_->run(fmt::format("SELECT {} FROM api_tokens WHERE CAST($1 AS BIGINT) IS NULL "
                                                 "OR tenant_id = $1 ORDER BY id",
                                                 token_columns),
                                     tenant_id),
                             read_token);
    }

    void revoke_token(Id token_id) override {
        transaction([&] {
            if (c_->run("UPDATE api_tokens SET revoked_ns = coalesce(revoked_ns, $1) WHERE id = $2", now_ns(), token_id)
                    .affected() == 0)
                throw CatalogError(fmt::format("no token {}", token_id), CatalogError::Kind::NotFound);
        });
    }

    Webhook add_webhook(Id tenant_id, const std::string& url, const std::string& secret,
                        const std::vector<std::string>& event_types) override {
        return transaction([&] {
            int64_t now = now_ns();
            auto rows = c_->run("INSERT INTO webhooks(tenant_id, url, secret, event_types, after_event, created_ns) "
                                "VALUES ($1, $2, $3, $4, (SELECT coalesce(max(id), 0) FROM events), $5) RETURNING id",
                                tenant_id, url, secret, join_types(event_types), now);
            return Webhook{rows[0].integer("id"), tenant_id, url, secret, event_types, now};
        });
    }

    std::optional<Webhook> webhook(Id id) override {
        return one<Webhook>(c_->run(fmt::format("SELECT {} FROM webhooks WHERE id = $1", webhook_columns), id),
                            read_webhook);
    }

    std::vector<Webhook> webhooks(std::optional<Id> tenant_id) override {
        return all<Webhook>(c_->run(fmt::format("SELECT {} FROM webhooks WHERE CAST($1 AS BIGINT) IS NULL "
                                                "OR tenant_id = $1 ORDER BY id",
                                                webhook_columns),
                                    tenant_id),
                            read_webhook);
    }

    void remove_webhook(Id id) override {
        transaction([&] {
            c_->run("DELETE FROM webhook_deliveries WHERE webhook_id = $1", id);
            if (c_->run("DELETE FROM webhooks WHERE id = $1", id).affected() == 0)
                throw CatalogError(fmt::format("no webhook {}", id), CatalogError::Kind::NotFound);
        });
    }

    int enqueue_deliveries() override {
        return transaction(Durability::Deferred, [&] {
            // Up to the last event committed: on PostgreSQL events commit in
            // the order of their ids (write_events()), so none below it is
            // still to come.
            int64_t last = c_->run("SELECT coalesce(max(id), 0) AS last FROM events")[0].integer("last");
            int64_t now = now_ns();
            auto made = c_->run(
                "INSERT INTO webhook_deliveries(webhook_id, event_id, job_id, next_attempt_ns, created_ns) "
                "SELECT w.id, e.id, coalesce(e.job_id, 0), $1, $1 FROM webhooks w "
                "JOIN events e ON e.tenant_id = w.tenant_id AND e.id > w.after_event AND e.id <= $2 "
                "WHERE w.event_types = '' OR (',' || w.event_types || ',') LIKE ('%,' || e.type || ',%') "
                // Ids in the events' order: a job's deliveries are attempted in the order of their ids.
                "ORDER BY e.id, w.id "
                "ON CONFLICT DO NOTHING",
                now, last);
            c_->run("UPDATE webhooks SET after_event = $1 WHERE after_event < $1", last);
            return static_cast<int>(made.affected());
        });
    }

    std::vector<DeliveryAttempt> claim_deliveries(int64_t lease_ns, int limit, const std::vector<Id>& busy) override {
        // Ids, numbers only: written into the statement as they are.
        std::string not_busy = busy.empty() ? "" : fmt::format("AND d.webhook_id NOT IN ({}) ", fmt::join(busy, ","));
        return transaction(Durability::Deferred, [&] {
            int64_t now = now_ns();
            auto due = all<Delivery>(
                c_->run(fmt::format("SELECT {} FROM webhook_deliveries d WHERE d.state = 'pending' "
                                    "AND d.next_attempt_ns <= $1 AND d.lease_until_ns <= $1 {}"
                                    "AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.webhook_id = d.webhook_id "
                                    "  AND p.job_id = d.job_id AND p.state = 'pending' AND p.id < d.id) "
                                    "ORDER BY d.id LIMIT $2{}",
                                    delivery_columns, not_busy,
                                    c_->engine() == sql::Engine::Postgres ? " FOR UPDATE SKIP LOCKED" : ""),
                        now, int64_t{limit}),
                read_delivery);
            std::vector<DeliveryAttempt> out;
            for (auto& d : due) {
                c_->run("UPDATE webhook_deliveries SET lease_until_ns = $1, attempts = attempts + 1 WHERE id = $2",
                        now + lease_ns, d.id);
                ++d.attempts;
                auto hook = webhook(d.webhook_id);
                auto event = one<Event>(c_->run(fmt::format("SELECT {} FROM events WHERE id = $1", event_columns), d.event_id),
                                        read_event);
                if (hook && event) out.push_back(DeliveryAttempt{std::move(d), std::move(*hook), std::move(*event)});
            }
            return out;
        });
    }

    void delivery_done(Id delivery_id, int status) override {
        transaction([&] {
            c_->run("UPDATE webhook_deliveries SET state = 'delivered', last_status = $1, last_error = '', "
                    "done_ns = $2, lease_until_ns = 0 WHERE id = $3 AND state = 'pending'",
                    int64_t{status}, now_ns(), delivery_id);
        });
    }

    void delivery_failed(Id delivery_id, std::optional<int> status, const std::string& error,
                         std::optional<int64_t> retry_at_ns) override {
        std::optional<int64_t> code;
        if (status) code = *status;
        transaction([&] {
            if (retry_at_ns)
                c_->run("UPDATE webhook_deliveries SET last_status = $1, last_error = $2, next_attempt_ns = $3, "
                        "lease_until_ns = 0 WHERE id = $4 AND state = 'pending'",
                        code, error, *retry_at_ns, delivery_id);
            else
                c_->run("UPDATE webhook_deliveries SET state = 'failed', last_status = $1, last_error = $2, done_ns = $3, "
                        "lease_until_ns = 0 WHERE id = $4 AND state = 'pending'",
                        code, error, now_ns(), delivery_id);
        });
    }

    std::vector<Delivery> deliveries(Id tenant_id, std::optional<DeliveryState> state, Page page) override {
        std::optional<std::string_view> wanted;
        if (state) wanted = to_string(*state);
        return all<Delivery>(
            c_->run(fmt::format("SELECT {} FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id "
                                "WHERE w.tenant_id = $1 AND (CAST($2 AS TEXT) IS NULL OR d.state = $2) "
                                "AND ($3 = 0 OR d.id < $3) ORDER BY d.id DESC LIMIT $4",
                                prefixed_columns("d.", delivery_columns)),
                    tenant_id, wanted, page.after, int64_t{page.limit}),
            read_delivery);
    }

    std::optional<int64_t> change_stamp() override {
        if (c_->engine() != sql::Engine::Sqlite) return std::nullopt;
        return c_->run("PRAGMA data_version")[0].integer("data_version");
    }

private:
    static constexpr std::string_view user_columns = "id, tenant_id, username, uid, enabled, protocols, camera_album_id";
    static Tenant read_tenant(const Row& row) {
        return Tenant{row.integer("id"), row.text("slug"), row.text("name"), row.opt_integer("quota_bytes")};
    }
    static SftpUser read_user(const Row& row) {
        return SftpUser{row.integer("id"), row.integer("tenant_id"), row.text("username"),
                        static_cast<uint32_t>(row.integer("uid")), row.flag("enabled"), {},
                        parse_protocols(row.text("protocols")).value_or(Protocols{false, false, false}),
                        row.opt_integer("camera_album_id")};
    }

    template <class T, class Read>
    static std::optional<T> one(const sql::Rows& rows, Read read) {
        if (auto row = rows.first()) return read(*row);
        return std::nullopt;
    }

    template <class T, class Read>
    static std::vector<T> all(const sql::Rows& rows, Read read) {
        std::vector<T> out;
        out.reserve(rows.size());
        for (auto row : rows) out.push_back(read(row));
        return out;
    }

    // Runs `work` as one transaction. A transient failure (a deadlock, a
    // serialization failure, a lost connection: PostgreSQL) runs it again, a
    // few times; SQLite has waited for its lock already. A constraint's
    // refusal becomes a CatalogError that says what it means.
    template <class Work>
    auto transaction(Durability durability, Work&& work) -> decltype(work()) {
        constexpr int tries = 5;
        for (int attempt = 1;; ++attempt) {
            pending_.clear();
            try {
                sql::Transaction tx(*c_, durability);
                if constexpr (std::is_void_v<decltype(work())>) {
                    work();
                    write_events();
                    tx.commit();
                    return;
                } else {
                    auto result = work();
                    write_events();
                    tx.commit();
                    return result;
                }
            } catch (const sql::Error& e) {
                if (e.kind() == sql::Error::Kind::Constraint) throw refusal(e);
                if (!e.transient() || c_->engine() == sql::Engine::Sqlite || attempt == tries) throw;
                std::this_thread::sleep_for(std::chrono::milliseconds(5 * attempt * attempt));
            }
        }
    }
    template <class Work>
    auto transaction(Work&& work) -> decltype(work()) {
        return transaction(Durability::Durable, std::forward<Work>(work));
    }

    // An event of the change being made, written with it (write_events()).
    struct Pending {
        std::string_view type;
        Id job_id;
        std::optional<Id> album_id, upload_id, photo_id;
        nlohmann::json data;
    };

    void emit(std::string_view type, Id job_id, nlohmann::json data, std::optional<Id> album_id = std::nullopt,
              std::optional<Id> upload_id = std::nullopt, std::optional<Id> photo_id = std::nullopt) {
        pending_.push_back(Pending{type, job_id, album_id, upload_id, photo_id, std::move(data)});
    }

    // The events of this transaction, written last, just before it commits.
    // On PostgreSQL the writers of events take turns from here to their
    // commit (a transaction-level advisory lock, taken after every row lock
    // of the change), so that ids are committed in their order and a reader
    // that goes on from the last id it saw misses none.
    void write_events() {
        if (pending_.empty()) return;
        if (c_->engine() == sql::Engine::Postgres) c_->run("SELECT pg_advisory_xact_lock($1)", events_lock);
        int64_t now = now_ns();
        for (const auto& e : pending_)
            c_->run("INSERT INTO events(type, occurred_ns, tenant_id, job_id, album_id, upload_id, photo_id, data) "
                    "SELECT $1, CAST($2 AS BIGINT), tenant_id, id, CAST($3 AS BIGINT), CAST($4 AS BIGINT), CAST($5 AS BIGINT), $6 "
                    "FROM jobs WHERE id = $7",
                    e.type, now, e.album_id, e.upload_id, e.photo_id, e.data.dump(), e.job_id);
        pending_.clear();
        c_->notify(events_channel);
    }

    // What an event about an upload says of it.
    nlohmann::json upload_data(const Upload& u) {
        auto j = job(u.job_id);
        std::optional<Album> a;
        if (u.folder.album_id) a = album(*u.folder.album_id);
        std::optional<std::string> user;
        if (u.user_id)
            for (auto row : c_->run("SELECT username FROM sftp_users WHERE id = $1", *u.user_id)) user = row.text("username");
        nlohmann::json d;
        d["job"] = j ? j->name : "";
        d["album"] = a ? nlohmann::json(a->name) : nlohmann::json(nullptr);
        d["section"] = to_string(u.folder.section);
        d["file"] = text::shown(u.filename);
        d["path"] = text::shown(path_in_job(u.folder, u.filename, a ? a->name : ""));
        d["size"] = u.size;
        d["upload_id"] = u.id;
        d["user"] = user ? nlohmann::json(*user) : nlohmann::json(nullptr);
        d["uid"] = u.uid;
        return d;
    }

    // upload.rejected or upload.failed: the upload, and why.
    void emit_refusal(std::string_view type, const Upload& u, const std::string& reason) {
        auto d = upload_data(u);
        d["reason"] = text::shown(reason);
        emit(type, u.job_id, std::move(d), u.folder.album_id, u.id);
    }

    // What an event about a photo says of it: its upload's, and the picture's.
    nlohmann::json photo_data(const Upload& u, const Photo& p) {
        auto d = upload_data(u);
        d["photo_id"] = p.id;
        d["width"] = p.width;
        d["height"] = p.height;
        d["captured_at"] = p.captured_at ? nlohmann::json(*p.captured_at) : nlohmann::json(nullptr);
        d["camera"] = {{"make", p.camera_make}, {"model", p.camera_model}, {"serial", p.camera_serial}};
        d["content_hash"] = p.content_hash;
        if (!p.note.empty()) d["note"] = p.note;
        return d;
    }

    // How many uploads a statement queued; the ingest services of every host are told.
    int queued(const sql::Rows& changed) {
        if (changed.affected() > 0) c_->notify(queue_channel);
        return static_cast<int>(changed.affected());
    }

    std::optional<SftpUser> with_jobs(std::optional<SftpUser> u) {
        if (u) u->job_ids = user_jobs(u->id);
        return u;
    }

    std::vector<Id> user_jobs(Id user_id) {
        return all<Id>(c_->run("SELECT job_id FROM user_jobs WHERE user_id = $1 ORDER BY job_id", user_id),
                       [](const Row& row) { return row.integer("job_id"); });
    }

    void write_user_jobs(Id user_id, const std::vector<Id>& job_ids) {
        c_->run("DELETE FROM user_jobs WHERE user_id = $1", user_id);
        for (Id job_id : job_ids)
            c_->run("INSERT INTO user_jobs(user_id, job_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", user_id, job_id);
    }

    std::optional<Photo> live_photo(Id job_id, const std::string& content_hash) {
        return one<Photo>(c_->run(fmt::format("SELECT {} FROM photos WHERE job_id = $1 AND content_hash = $2 "
                                              "AND deleted = 0",
                                              photo_columns),
                                  job_id, content_hash),
                          read_photo);
    }

    Upload insert_upload(const NewUpload& n) {
        auto user = user_by_uid(n.uid);
        // PostgreSQL's text holds only UTF-8: a name that is not (only ever
        // a refused attempt's) is recorded as text::shown() writes it.
        bool as_shown = c_->engine() == sql::Engine::Postgres && !text::valid_utf8(n.filename);
        int64_t now = now_ns();
        // The unique index uploads_live_path refuses a second live upload at the path (refusal(): Exists).
        auto rows = c_->run(fmt::format("INSERT INTO uploads(job_id, album_id, section, in_section_folder, filename, "
                                        "mode, uid, user_id, state, reason, data_path, supersedes_photo_id, mtime_ns, "
                                        "created_ns, updated_ns, sent_name) "
                                        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $13, $14) "
                                        "RETURNING {}",
                                        upload_columns),
                            n.job_id, n.folder.album_id, to_string(n.folder.section), n.folder.in_section_folder,
                            as_shown ? text::shown(n.filename) : n.filename, n.mode, n.uid,
                            user ? std::optional<Id>(user->id) : std::nullopt, to_string(n.state), n.reason,
                            n.data_path, n.supersedes_photo_id, now, n.sent_name);
        auto u = read_upload(rows[0]);
        if (u.state == UploadState::Rejected) emit_refusal(event::upload_rejected, u, u.reason);
        return u;
    }

    // One album's album.idle, if it is still due (another host may have
    // written it): its uploads since the last one, up to `cutoff`.
    int report_idle(Id album_id, int64_t cutoff) {
        auto a = c_->run(fmt::format("SELECT job_id, name, idle_reported_ns FROM albums WHERE id = $1{}", for_update_),
                         album_id);
        if (a.empty()) return 0;
        int64_t since = a[0].integer("idle_reported_ns");
        auto rows = c_->run("SELECT u.uid, u.user_id, s.username, u.state, u.duplicate, count(*) AS n, "
                            "max(u.created_ns) AS last, min(u.created_ns) AS first "
                            "FROM uploads u LEFT JOIN sftp_users s ON s.id = u.user_id "
                            "WHERE u.album_id = $1 AND u.created_ns > $2 AND u.state NOT IN ('deleted','discarded') "
                            "GROUP BY u.uid, u.user_id, s.username, u.state, u.duplicate",
                            album_id, since);
        int64_t last = 0, first = INT64_MAX;
        for (auto r : rows) {
            last = std::max(last, r.integer("last"));
            first = std::min(first, r.integer("first"));
        }
        if (rows.empty() || last > cutoff) return 0;  // reported already, or busy again
        struct Counts {
            int64_t accepted = 0, refused = 0, duplicates = 0, pending = 0;
        };
        auto add = [](Counts& c, std::string_view state, bool duplicate, int64_t n) {
            if (state == "ingested") (duplicate ? c.duplicates : c.accepted) += n;
            else if (state == "rejected") c.refused += n;
            else c.pending += n;
        };
        auto counts_json = [](const Counts& c) {
            return nlohmann::json{{"accepted", c.accepted}, {"refused", c.refused}, {"duplicates", c.duplicates},
                                  {"on_their_way", c.pending}};
        };
        Counts total;
        std::map<std::pair<int64_t, std::string>, Counts> by_user;  // (uid, username)
        for (auto r : rows) {
            auto state = r.text("state");
            bool duplicate = r.flag("duplicate");
            int64_t n = r.integer("n");
            add(total, state, duplicate, n);
            add(by_user[{r.integer("uid"), r.opt_text("username").value_or("")}], state, duplicate, n);
        }
        nlohmann::json users = nlohmann::json::array();
        for (const auto& [who, c] : by_user) {
            auto entry = counts_json(c);
            entry["user"] = who.second.empty() ? nlohmann::json(nullptr) : nlohmann::json(who.second);
            entry["uid"] = who.first;
            users.push_back(std::move(entry));
        }
        Id job_id = a[0].integer("job_id");
        auto j = job(job_id);
        auto d = counts_json(total);
        d["job"] = j ? j->name : "";
        d["album"] = text::shown(a[0].text("name"));
        auto utc = [](int64_t ns) {
            return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", fmt::gmtime(static_cast<std::time_t>(ns / 1'000'000'000)));
        };
        d["first_upload"] = utc(first);
        d["last_upload"] = utc(last);
        d["by_user"] = std::move(users);
        c_->run("UPDATE albums SET idle_reported_ns = $1 WHERE id = $2", last, album_id);
        emit(event::album_idle, job_id, std::move(d), album_id);
        return 1;
    }

    static RosterEntry read_roster_entry(const Row& row) {
        return RosterEntry{row.text("code"), row.text("name"), row.text("class"), row.text("external_id")};
    }

    Photo locked_photo(Id photo_id) {
        auto p = one<Photo>(c_->run(fmt::format("SELECT {} FROM photos WHERE id = $1{}", photo_columns, for_update_),
                                    photo_id),
                            read_photo);
        if (!p) throw CatalogError(fmt::format("no photo {}", photo_id), CatalogError::Kind::NotFound);
        if (p->deleted) throw CatalogError(fmt::format("photo {} is deleted", photo_id), CatalogError::Kind::Conflict);
        if (p->section != Section::Individuals)
            throw CatalogError(fmt::format("photo {} is in a group section: subjects are individuals", photo_id));
        return *p;
    }

    // Regroups the individuals of the folder's album (a flat job's photos) by
    // their cards (group_by_cards()), in the caller's transaction: the photos
    // whose subject changed are written, operators' choices left as they are,
    // and each subject whose photos changed gets a subject.updated. `gone`: a
    // photo just deleted (it leaves its subject). Regroupings of one album take turns (on
    // PostgreSQL, an advisory lock until commit), so that each sees the photos
    // the others filed.
    void regroup(Id job_id, const Folder& folder, std::optional<Id> gone = std::nullopt) {
        if (folder.section != Section::Individuals) return;
        Id album = folder.album_id.value_or(0);
        if (c_->engine() == sql::Engine::Postgres)
            c_->run("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", fmt::format("subjects/{}/{}", job_id, album));
        auto photos = all<Photo>(c_->run(fmt::format("SELECT {} FROM photos WHERE job_id = $1 AND coalesce(album_id, 0) = $2 "
                                                     "AND section = 'individuals' AND deleted = 0",
                                                     photo_columns),
                                         job_id, album),
                                 read_photo);
        std::set<std::string> changed;
        if (gone)
            if (auto p = photo(*gone); p && p->subject) changed.insert(*p->subject);
        auto grouped = group_by_cards(photos);
        for (const auto& p : photos) {
            const auto& subject = grouped[p.id];
            if (p.subject_manual || subject == p.subject) continue;
            c_->run("UPDATE photos SET subject_code = $1 WHERE id = $2", subject, p.id);
            for (const auto& code : {p.subject, subject})
                if (code) changed.insert(*code);
        }
        for (const auto& code : changed) emit_subject(job_id, folder.album_id, code);
    }

    // subject.updated: the subject's photos in the album as they are now.
    void emit_subject(Id job_id, std::optional<Id> album_id, const std::string& code) {
        auto rows = c_->run("SELECT id, card_code FROM photos WHERE job_id = $1 AND coalesce(album_id, 0) = $2 "
                            "AND subject_code = $3 AND section = 'individuals' AND deleted = 0 ORDER BY id",
                            job_id, album_id.value_or(0), code);
        nlohmann::json cards = nlohmann::json::array(), photos = nlohmann::json::array();
        for (auto row : rows) (row.opt_text("card_code") == code ? cards : photos).push_back(row.integer("id"));
        auto j = job(job_id);
        std::optional<Album> a;
        if (album_id) a = album(*album_id);
        auto entry = one<RosterEntry>(c_->run("SELECT code, name, class, external_id FROM roster WHERE job_id = $1 "
                                              "AND code = $2",
                                              job_id, code),
                                      read_roster_entry);
        nlohmann::json d;
        d["job"] = j ? j->name : "";
        d["album"] = a ? nlohmann::json(text::shown(a->name)) : nlohmann::json(nullptr);
        d["code"] = text::shown(code);
        d["name"] = entry ? nlohmann::json(text::shown(entry->name)) : nlohmann::json(nullptr);
        d["class"] = entry ? nlohmann::json(text::shown(entry->class_name)) : nlohmann::json(nullptr);
        d["external_id"] = entry ? nlohmann::json(text::shown(entry->external_id)) : nlohmann::json(nullptr);
        d["on_roster"] = entry.has_value();
        d["cards"] = std::move(cards);
        d["photos"] = std::move(photos);
        emit(event::subject_updated, job_id, std::move(d), album_id);
    }

    // The upload, read for a change in this transaction (locked on PostgreSQL).
    Upload locked(Id upload_id) {
        auto u = one<Upload>(c_->run(fmt::format("SELECT {} FROM uploads WHERE id = $1{}", upload_columns, for_update_),
                                     upload_id),
                             read_upload);
        if (!u) throw CatalogError(fmt::format("no upload {}", upload_id), CatalogError::Kind::NotFound);
        return *u;
    }

    // Moves `u` to `to` inside the caller's transaction. The schema's trigger
    // uploads_lifecycle enforces the lifecycle too; this says it in words.
    void transition(const Upload& u, UploadState to, const std::string& reason) {
        if (u.state == to) return;
        if (!can_transition(u.state, to))
            throw CatalogError(fmt::format("upload {} cannot go from {} to {}", u.id, to_string(u.state), to_string(to)),
                               CatalogError::Kind::Conflict);
        c_->run("UPDATE uploads SET state = $1, reason = $2, updated_ns = $3 WHERE id = $4", to_string(to), reason,
                now_ns(), u.id);
        if (to == UploadState::Rejected || to == UploadState::Failed)
            emit_refusal(to == UploadState::Rejected ? event::upload_rejected : event::upload_failed, u, reason);
    }

    // Unlink: cancels the upload if not yet ingested, marks its photo deleted otherwise.
    void delete_locked(const Upload& u) {
        if (u.state == UploadState::Ingested && u.photo_id && !u.duplicate) {
            c_->run("UPDATE photos SET deleted = 1, deleted_ns = $1 WHERE id = $2", now_ns(), *u.photo_id);
            auto d = upload_data(u);
            d["photo_id"] = *u.photo_id;
            emit(event::photo_deleted, u.job_id, std::move(d), u.folder.album_id, u.id, *u.photo_id);
            regroup(u.job_id, u.folder, *u.photo_id);
        }
        transition(u, UploadState::Deleted,
                   u.state == UploadState::Ingested ? "deleted by the photographer"
                                                    : "cancelled: deleted before it was ingested");
    }

    // Records `u` as a duplicate of `twin`. Its own bytes are the photo's: it
    // is read from the photo's original, and the ingest service removes its
    // staged copy.
    void duplicate_locked(const Upload& u, const Photo& twin) {
        c_->run("UPDATE uploads SET photo_id = $1, duplicate = 1, content_hash = $2, lease_until_ns = 0, reason = $3, "
                "data_path = $4, updated_ns = $5 WHERE id = $6",
                twin.id, twin.content_hash, fmt::format("duplicate of photo {}", twin.id), twin.original_path,
                now_ns(), u.id);
        if (u.state == UploadState::Processing) transition(u, UploadState::Ingested, fmt::format("duplicate of photo {}", twin.id));
        auto d = upload_data(u);
        d["duplicate_of"] = twin.id;
        d["content_hash"] = twin.content_hash;
        emit(event::photo_duplicate, u.job_id, std::move(d), u.folder.album_id, u.id, twin.id);
    }

    std::unique_ptr<sql::Connection> c_;
    std::string for_update_;  // " FOR UPDATE" on PostgreSQL: rows read to be changed
    std::vector<Pending> pending_;  // the events of the transaction under way
    static constexpr int64_t events_lock = 0x7068'6f74'6f65'7674;  // pg_advisory_xact_lock key of the event writers
};

}  // namespace

std::unique_ptr<Catalog> open_catalog(const std::string& location) {
    return std::make_unique<SqlCatalog>(sql::connect(location));
}

}  // namespace photodrop
