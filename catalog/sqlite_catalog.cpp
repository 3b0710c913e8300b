#include "catalog/catalog.hpp"
#include "catalog/migrations.hpp"
#include "catalog/sqlite.hpp"

#include <fmt/format.h>

namespace photodrop {

using sql::Database;
using sql::Statement;
using sql::Transaction;

namespace {

// Which uploads a folder shows; keep in step with is_visible().
constexpr std::string_view visible =
    "(state IN ('receiving','queued','processing','ingested','failed') OR (state = 'rejected' AND data_path <> ''))";

constexpr std::string_view job_columns = "id, tenant_id, name, title, status, layout";
Job read_job(const Statement& st) {
    return Job{st.get_int("id"), st.get_int("tenant_id"), st.get_text("name"), st.get_text("title"),
               *parse_job_status(st.get_text("status")), *parse_layout(st.get_text("layout"))};
}

constexpr std::string_view album_columns = "id, job_id, name, has_group, has_individuals, created_ns";
Album read_album(const Statement& st) {
    return Album{st.get_int("id"), st.get_int("job_id"), st.get_text("name"), st.get_int("has_group") != 0,
                 st.get_int("has_individuals") != 0, st.get_int("created_ns")};
}

constexpr std::string_view upload_columns =
    "id, job_id, album_id, section, in_section_folder, filename, size, mtime_ns, mode, uid, user_id, state, "
    "reason, data_path, content_hash, attempts, lease_until_ns, next_attempt_ns, photo_id, duplicate, "
    "supersedes_photo_id, created_ns, updated_ns";
Upload read_upload(const Statement& st) {
    Upload u;
    u.id = st.get_int("id");
    u.job_id = st.get_int("job_id");
    u.folder = Folder{st.get_opt_int("album_id"), *parse_section(st.get_text("section")),
                      st.get_int("in_section_folder") != 0};
    u.filename = st.get_text("filename");
    u.size = st.get_int("size");
    u.mtime_ns = st.get_int("mtime_ns");
    u.mode = static_cast<uint32_t>(st.get_int("mode"));
    u.uid = static_cast<uint32_t>(st.get_int("uid"));
    u.user_id = st.get_opt_int("user_id");
    u.state = *parse_upload_state(st.get_text("state"));
    u.reason = st.get_text("reason");
    u.data_path = st.get_text("data_path");
    u.content_hash = st.get_text("content_hash");
    u.attempts = static_cast<int>(st.get_int("attempts"));
    u.lease_until_ns = st.get_int("lease_until_ns");
    u.next_attempt_ns = st.get_int("next_attempt_ns");
    u.photo_id = st.get_opt_int("photo_id");
    u.duplicate = st.get_int("duplicate") != 0;
    u.supersedes_photo_id = st.get_opt_int("supersedes_photo_id");
    u.created_ns = st.get_int("created_ns");
    u.updated_ns = st.get_int("updated_ns");
    return u;
}

constexpr std::string_view photo_columns =
    "id, upload_id, job_id, album_id, section, filename, original_path, width, height, captured_at, camera_make, "
    "camera_model, camera_serial, orientation, content_hash, thumbnail_path, preview_path, deleted, created_ns, note";
Photo read_photo(const Statement& st) {
    Photo p;
    p.id = st.get_int("id");
    p.upload_id = st.get_int("upload_id");
    p.job_id = st.get_int("job_id");
    p.album_id = st.get_opt_int("album_id");
    p.section = *parse_section(st.get_text("section"));
    p.filename = st.get_text("filename");
    p.original_path = st.get_text("original_path");
    p.width = static_cast<int>(st.get_int("width"));
    p.height = static_cast<int>(st.get_int("height"));
    p.captured_at = st.get_opt_text("captured_at");
    p.camera_make = st.get_text("camera_make");
    p.camera_model = st.get_text("camera_model");
    p.camera_serial = st.get_text("camera_serial");
    p.orientation = static_cast<int>(st.get_int("orientation"));
    p.content_hash = st.get_text("content_hash");
    p.thumbnail_path = st.get_text("thumbnail_path");
    p.preview_path = st.get_text("preview_path");
    p.deleted = st.get_int("deleted") != 0;
    p.created_ns = st.get_int("created_ns");
    p.note = st.get_text("note");
    return p;
}

// "p.id, p.upload_id, ...": the photo columns of a query that names photos `p`.
std::string prefixed_photo_columns(std::string_view prefix) {
    std::string out;
    std::string_view rest = photo_columns;
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

// Whether the photo named `photos` (columns unqualified after "p.", so that it
// reads "p.deleted = 1 AND ...") may lose its files: deleted before ?2, not
// purged, and no photo or upload of tenant ?1 that is kept shares its hash.
// A photo is kept while not deleted or deleted since ?2; an upload while in
// any state but deleted and discarded, or deleted since ?2. Every upload
// whose data_path is in the store (an ingested photo, a duplicate) carries
// the content hash, so the hash covers the files it reads.
constexpr std::string_view purgeable =
    "deleted = 1 AND p.deleted_ns < ?2 AND p.purged_ns IS NULL "
    "AND NOT EXISTS (SELECT 1 FROM photos q JOIN jobs k ON k.id = q.job_id WHERE k.tenant_id = ?1 "
    "  AND q.content_hash = p.content_hash "
    "  AND (q.deleted = 0 OR q.deleted_ns IS NULL OR q.deleted_ns >= ?2)) "
    "AND NOT EXISTS (SELECT 1 FROM uploads u JOIN jobs k ON k.id = u.job_id WHERE k.tenant_id = ?1 "
    "  AND u.content_hash = p.content_hash AND u.content_hash <> '' "  // the partial index uploads_by_content
    "  AND (u.state NOT IN ('deleted','discarded') OR u.updated_ns >= ?2))";

// The WHERE clause that selects one folder's uploads; binds job, album, section, in_section_folder.
constexpr std::string_view folder_match =
    "job_id = ?1 AND album_id IS ?2 AND section = ?3 AND in_section_folder = ?4";

void bind_folder(Statement& st, Id job_id, const Folder& f) {
    st.bind(1, job_id).bind(2, f.album_id).bind(3, to_string(f.section)).bind(4, f.in_section_folder);
}

template <class T, class Read>
std::optional<T> one(Statement& st, Read read) {
    if (st.step()) return read(st);
    return std::nullopt;
}

template <class T, class Read>
std::vector<T> all(Statement& st, Read read) {
    std::vector<T> rows;
    while (st.step()) rows.push_back(read(st));
    return rows;
}

class SqliteCatalog final : public Catalog {
public:
    explicit SqliteCatalog(const std::string& path) : db_(path) { sql::migrate(db_); }

    Tenant add_tenant(const std::string& slug, const std::string& name) override {
        if (tenant(slug)) throw CatalogError(fmt::format("tenant {} exists already", slug));
        Transaction tx(db_);
        Statement(db_, "INSERT INTO tenants(slug, name) VALUES (?, ?)").bind_all(slug, name).run();
        Tenant t{db_.last_insert_id(), slug, name, std::nullopt};
        tx.commit();
        return t;
    }

    std::optional<Tenant> tenant(const std::string& slug) override {
        Statement st(db_, "SELECT id, slug, name, quota_bytes FROM tenants WHERE slug = ?");
        st.bind(1, slug);
        return one<Tenant>(st, read_tenant);
    }

    std::optional<Tenant> tenant(Id id) override {
        Statement st(db_, "SELECT id, slug, name, quota_bytes FROM tenants WHERE id = ?");
        st.bind(1, id);
        return one<Tenant>(st, read_tenant);
    }

    std::vector<Tenant> tenants() override {
        Statement st(db_, "SELECT id, slug, name, quota_bytes FROM tenants ORDER BY slug");
        return all<Tenant>(st, read_tenant);
    }

    void set_tenant_quota(Id tenant_id, std::optional<int64_t> quota_bytes) override {
        Transaction tx(db_);
        Statement(db_, "UPDATE tenants SET quota_bytes = ? WHERE id = ?").bind_all(quota_bytes, tenant_id).run();
        if (db_.changes() == 0) throw CatalogError(fmt::format("no tenant {}", tenant_id));
        tx.commit();
    }

    int64_t tenant_use(Id tenant_id) override {
        // One row per file (the partial index uploads_by_bytes covers it): a
        // duplicate names its photo's original, and is counted with it.
        Statement st(db_, "SELECT coalesce(sum(size), 0) FROM (SELECT max(u.size) AS size FROM uploads u "
                          "JOIN jobs j ON j.id = u.job_id WHERE j.tenant_id = ?1 AND u.data_path <> '' "
                          "AND u.state NOT IN ('deleted','discarded') GROUP BY u.data_path)");
        st.bind(1, tenant_id);
        st.step();
        return st.get_int(0);
    }

    Job add_job(Id tenant_id, const std::string& name, const std::string& title, Layout layout,
                JobStatus status) override {
        if (job(tenant_id, name)) throw CatalogError(fmt::format("job {} exists already", name));
        Transaction tx(db_);
        Statement(db_, "INSERT INTO jobs(tenant_id, name, title, status, layout) VALUES (?, ?, ?, ?, ?)")
            .bind_all(tenant_id, name, title, to_string(status), to_string(layout))
            .run();
        Job j{db_.last_insert_id(), tenant_id, name, title, status, layout};
        tx.commit();
        return j;
    }

    std::optional<Job> job(Id tenant_id, const std::string& name) override {
        Statement st(db_, fmt::format("SELECT {} FROM jobs WHERE tenant_id = ? AND name = ?", job_columns));
        st.bind_all(tenant_id, name);
        return one<Job>(st, read_job);
    }

    std::optional<Job> job(Id id) override {
        Statement st(db_, fmt::format("SELECT {} FROM jobs WHERE id = ?", job_columns));
        st.bind(1, id);
        return one<Job>(st, read_job);
    }

    std::vector<Job> jobs(Id tenant_id, std::optional<JobStatus> status) override {
        Statement st(db_, fmt::format("SELECT {} FROM jobs WHERE tenant_id = ?1 AND (?2 IS NULL OR status = ?2) "
                                      "ORDER BY name",
                                      job_columns));
        st.bind(1, tenant_id);
        if (status) st.bind(2, to_string(*status));
        return all<Job>(st, read_job);
    }

    void set_job_status(Id job_id, JobStatus status) override {
        Transaction tx(db_);
        Statement(db_, "UPDATE jobs SET status = ? WHERE id = ?").bind_all(to_string(status), job_id).run();
        tx.commit();
    }

    SftpUser add_user(Id tenant_id, const std::string& username, uint32_t uid,
                      const std::vector<Id>& job_ids) override {
        if (user(username)) throw CatalogError(fmt::format("user {} exists already", username));
        if (user_by_uid(uid)) throw CatalogError(fmt::format("uid {} belongs to another user", uid));
        Transaction tx(db_);
        Statement(db_, "INSERT INTO sftp_users(tenant_id, username, uid) VALUES (?, ?, ?)")
            .bind_all(tenant_id, username, uid)
            .run();
        Id id = db_.last_insert_id();
        write_user_jobs(id, job_ids);
        tx.commit();
        return SftpUser{id, tenant_id, username, uid, true, job_ids};
    }

    std::optional<SftpUser> user(const std::string& username) override {
        return find_user("username = ?", username);
    }

    std::optional<SftpUser> user_by_uid(uint32_t uid) override { return find_user("uid = ?", uid); }

    std::vector<SftpUser> users(std::optional<Id> tenant_id) override {
        Statement st(db_, "SELECT id, tenant_id, username, uid, enabled FROM sftp_users "
                          "WHERE ?1 IS NULL OR tenant_id = ?1 ORDER BY username");
        st.bind(1, tenant_id);
        auto rows = all<SftpUser>(st, read_user);
        for (auto& u : rows) u.job_ids = user_jobs(u.id);
        return rows;
    }

    void set_user_enabled(Id user_id, bool enabled) override {
        Transaction tx(db_);
        Statement(db_, "UPDATE sftp_users SET enabled = ? WHERE id = ?").bind_all(enabled, user_id).run();
        tx.commit();
    }

    void set_user_jobs(Id user_id, const std::vector<Id>& job_ids) override {
        Transaction tx(db_);
        write_user_jobs(user_id, job_ids);
        tx.commit();
    }

    void remove_user(Id user_id) override {
        Transaction tx(db_);
        Statement(db_, "UPDATE uploads SET user_id = NULL WHERE user_id = ?").bind(1, user_id).run();
        Statement(db_, "DELETE FROM user_jobs WHERE user_id = ?").bind(1, user_id).run();
        Statement(db_, "DELETE FROM sftp_users WHERE id = ?").bind(1, user_id).run();
        tx.commit();
    }

    Album add_album(Id job_id, const std::string& name) override {
        if (album(job_id, name)) throw CatalogError(fmt::format("album {} exists already", name));
        Transaction tx(db_);
        int64_t now = now_ns();
        Statement(db_, "INSERT INTO albums(job_id, name, created_ns) VALUES (?, ?, ?)").bind_all(job_id, name, now).run();
        Album a{db_.last_insert_id(), job_id, name, false, false, now};
        tx.commit();
        return a;
    }

    std::optional<Album> album(Id job_id, const std::string& name) override {
        Statement st(db_, fmt::format("SELECT {} FROM albums WHERE job_id = ? AND name = ? AND removed_ns IS NULL", album_columns));
        st.bind_all(job_id, name);
        return one<Album>(st, read_album);
    }

    std::optional<Album> album(Id id) override {
        Statement st(db_, fmt::format("SELECT {} FROM albums WHERE id = ?", album_columns));
        st.bind(1, id);
        return one<Album>(st, read_album);
    }

    std::vector<Album> albums(Id job_id) override {
        Statement st(db_, fmt::format("SELECT {} FROM albums WHERE job_id = ? AND removed_ns IS NULL ORDER BY name", album_columns));
        st.bind(1, job_id);
        return all<Album>(st, read_album);
    }

    void set_section_folder(Id album_id, Section section, bool exists) override {
        Transaction tx(db_);
        Statement(db_, section == Section::Group ? "UPDATE albums SET has_group = ? WHERE id = ?"
                                                 : "UPDATE albums SET has_individuals = ? WHERE id = ?")
            .bind_all(exists, album_id)
            .run();
        tx.commit();
    }

    void rename_album(Id album_id, const std::string& new_name) override {
        auto a = album(album_id);
        if (!a) throw CatalogError(fmt::format("no album {}", album_id));
        if (album(a->job_id, new_name)) throw CatalogError(fmt::format("album {} exists already", new_name));
        Transaction tx(db_);
        Statement(db_, "UPDATE albums SET name = ? WHERE id = ?").bind_all(new_name, album_id).run();
        tx.commit();
    }

    void remove_album(Id album_id) override {
        // The row stays: hidden uploads and photos still name the album.
        Transaction tx(db_);
        Statement(db_, "UPDATE albums SET removed_ns = ? WHERE id = ?").bind_all(now_ns(), album_id).run();
        tx.commit();
    }

    Upload add_upload(const NewUpload& n) override {
        // Made durable by the commit that queues it (or by any later one): an upload
        // is acknowledged when its file is closed, not when it is created.
        Transaction tx(db_, Transaction::Commit::Deferred);
        int64_t now = now_ns();
        auto user = user_by_uid(n.uid);
        Statement(db_, "INSERT INTO uploads(job_id, album_id, section, in_section_folder, filename, mode, uid, "
                       "user_id, state, reason, data_path, supersedes_photo_id, mtime_ns, created_ns, updated_ns) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind_all(n.job_id, n.folder.album_id, to_string(n.folder.section), n.folder.in_section_folder,
                      n.filename, n.mode, n.uid, user ? std::optional<Id>(user->id) : std::nullopt,
                      to_string(n.state), n.reason, n.data_path, n.supersedes_photo_id, now, now, now)
            .run();
        Id id = db_.last_insert_id();
        tx.commit();
        return *upload(id);
    }

    std::optional<Upload> upload(Id id) override {
        Statement st(db_, fmt::format("SELECT {} FROM uploads WHERE id = ?", upload_columns));
        st.bind(1, id);
        return one<Upload>(st, read_upload);
    }

    std::optional<Upload> upload_at(Id job_id, const Folder& folder, const std::string& filename) override {
        Statement st(db_, fmt::format("SELECT {} FROM uploads WHERE {} AND filename = ?5 AND {} "
                                      "ORDER BY id DESC LIMIT 1",
                                      upload_columns, folder_match, visible));
        bind_folder(st, job_id, folder);
        st.bind(5, filename);
        return one<Upload>(st, read_upload);
    }

    std::vector<Upload> uploads_in(Id job_id, const Folder& folder) override {
        Statement st(db_, fmt::format("SELECT {} FROM uploads WHERE {} AND {} ORDER BY filename",
                                      upload_columns, folder_match, visible));
        bind_folder(st, job_id, folder);
        return all<Upload>(st, read_upload);
    }

    bool album_has_uploads(Id album_id, std::optional<Folder> only_folder) override {
        if (only_folder) {
            auto a = album(album_id);
            if (!a) return false;
            Statement st(db_, fmt::format("SELECT 1 FROM uploads WHERE {} AND {} LIMIT 1", folder_match,
                                          visible));
            bind_folder(st, a->job_id, *only_folder);
            return st.step();
        }
        Statement st(db_, fmt::format("SELECT 1 FROM uploads WHERE album_id = ? AND {} LIMIT 1",
                                      visible));
        st.bind(1, album_id);
        return st.step();
    }

    std::vector<Upload> uploads(Id job_id, std::optional<UploadState> state) override {
        Statement st(db_, fmt::format("SELECT {} FROM uploads WHERE job_id = ?1 AND (?2 IS NULL OR state = ?2) "
                                      "ORDER BY id",
                                      upload_columns));
        st.bind(1, job_id);
        if (state) st.bind(2, to_string(*state));
        return all<Upload>(st, read_upload);
    }

    void finish_receiving(Id upload_id, int64_t size, int64_t mtime_ns, bool queue) override {
        Transaction tx(db_);
        auto u = must_get(upload_id);
        Statement(db_, "UPDATE uploads SET size = ?, mtime_ns = ?, updated_ns = ? WHERE id = ?")
            .bind_all(size, mtime_ns, now_ns(), upload_id)
            .run();
        if (queue && u.state == UploadState::Receiving) transition(u, UploadState::Queued, "");
        tx.commit();
    }

    void reopen(Id upload_id) override {
        Transaction tx(db_);
        auto u = must_get(upload_id);
        if (u.state != UploadState::Receiving && can_transition(u.state, UploadState::Receiving))
            transition(u, UploadState::Receiving, "");
        else if (u.state != UploadState::Receiving)
            throw CatalogError(fmt::format("upload {} is {}: it cannot be written again", upload_id,
                                           to_string(u.state)));
        tx.commit();
    }

    void set_state(Id upload_id, UploadState state, const std::string& reason) override {
        Transaction tx(db_);
        transition(must_get(upload_id), state, reason);
        tx.commit();
    }

    void reject_without_bytes(Id upload_id, const std::string& reason) override {
        Transaction tx(db_);
        transition(must_get(upload_id), UploadState::Rejected, reason);
        Statement(db_, "UPDATE uploads SET data_path = '', size = 0 WHERE id = ?").bind(1, upload_id).run();
        tx.commit();
    }

    void set_attributes(Id upload_id, std::optional<int64_t> size, std::optional<int64_t> mtime_ns,
                        std::optional<uint32_t> mode) override {
        Transaction tx(db_);
        Statement(db_, "UPDATE uploads SET size = coalesce(?, size), mtime_ns = coalesce(?, mtime_ns), "
                       "mode = coalesce(?, mode) WHERE id = ?")
            .bind_all(size, mtime_ns, mode, upload_id)
            .run();
        tx.commit();
    }

    void move_upload(Id upload_id, const Folder& folder, const std::string& filename) override {
        Transaction tx(db_);
        Statement(db_, "UPDATE uploads SET album_id = ?, section = ?, in_section_folder = ?, filename = ?, "
                       "updated_ns = ? WHERE id = ?")
            .bind_all(folder.album_id, to_string(folder.section), folder.in_section_folder, filename, now_ns(),
                      upload_id)
            .run();
        if (auto u = must_get(upload_id); u.photo_id && !u.duplicate)
            Statement(db_, "UPDATE photos SET album_id = ?, section = ?, filename = ? WHERE id = ?")
                .bind_all(folder.album_id, to_string(folder.section), filename, *u.photo_id)
                .run();
        tx.commit();
    }

    void delete_upload(Id upload_id) override {
        Transaction tx(db_);
        auto u = must_get(upload_id);
        if (u.state == UploadState::Ingested && u.photo_id && !u.duplicate)
            Statement(db_, "UPDATE photos SET deleted = 1, deleted_ns = ? WHERE id = ?").bind_all(now_ns(), *u.photo_id).run();
        transition(u, UploadState::Deleted,
                   u.state == UploadState::Ingested ? "deleted by the photographer"
                                                    : "cancelled: deleted before it was ingested");
        tx.commit();
    }

    std::optional<Upload> claim_next(int64_t lease_ns) override {
        Transaction tx(db_);
        int64_t now = now_ns();
        Statement pick(db_, fmt::format("SELECT {} FROM uploads WHERE state = 'queued' AND next_attempt_ns <= ? "
                                        "ORDER BY id LIMIT 1",
                                        upload_columns));
        pick.bind(1, now);
        auto u = one<Upload>(pick, read_upload);
        if (!u) return std::nullopt;
        Statement(db_, "UPDATE uploads SET state = 'processing', lease_until_ns = ?, attempts = attempts + 1, "
                       "updated_ns = ? WHERE id = ?")
            .bind_all(now + lease_ns, now, u->id)
            .run();
        tx.commit();
        return upload(u->id);
    }

    int release_expired_leases() override {
        Transaction tx(db_);
        Statement(db_, "UPDATE uploads SET state = 'queued', lease_until_ns = 0, updated_ns = ?1 "
                       "WHERE state = 'processing' AND lease_until_ns < ?1")
            .bind(1, now_ns())
            .run();
        int n = db_.changes();
        tx.commit();
        return n;
    }

    void release_claim(Id upload_id) override {
        Transaction tx(db_);
        Statement(db_, "UPDATE uploads SET state = 'queued', lease_until_ns = 0, attempts = max(attempts - 1, 0), "
                       "updated_ns = ? WHERE id = ? AND state = 'processing'")
            .bind_all(now_ns(), upload_id)
            .run();
        tx.commit();
    }

    void retry_later(Id upload_id, const std::string& error, int64_t retry_at_ns) override {
        Transaction tx(db_);
        Statement(db_, "UPDATE uploads SET state = 'queued', reason = ?, next_attempt_ns = ?, lease_until_ns = 0, "
                       "updated_ns = ? WHERE id = ? AND state = 'processing'")
            .bind_all(error, retry_at_ns, now_ns(), upload_id)
            .run();
        tx.commit();
    }

    bool renew_lease(Id upload_id, int64_t lease_ns) override {
        Transaction tx(db_);
        int64_t now = now_ns();
        Statement(db_, "UPDATE uploads SET lease_until_ns = ? WHERE id = ? AND state = 'processing'")
            .bind_all(now + lease_ns, upload_id)
            .run();
        bool held = db_.changes() > 0;
        tx.commit();
        return held;
    }

    void note_content_hash(Id upload_id, const std::string& content_hash) override {
        Transaction tx(db_);
        Statement(db_, "UPDATE uploads SET content_hash = ? WHERE id = ?").bind_all(content_hash, upload_id).run();
        tx.commit();
    }

    Photo finish_ingest(Id upload_id, const IngestResult& r) override {
        Transaction tx(db_);
        auto u = must_get(upload_id);
        if (u.photo_id && !u.duplicate) {
            auto existing = photo(*u.photo_id);
            tx.commit();
            return *existing;
        }
        int64_t now = now_ns();
        bool gone = u.state == UploadState::Deleted;
        Statement(db_, "INSERT INTO photos(upload_id, job_id, album_id, section, filename, original_path, width, "
                       "height, captured_at, camera_make, camera_model, camera_serial, orientation, content_hash, "
                       "thumbnail_path, preview_path, deleted, deleted_ns, created_ns, note) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind_all(u.id, u.job_id, u.folder.album_id, to_string(u.folder.section), u.filename, r.original_path,
                      r.width, r.height, r.captured_at, r.camera_make, r.camera_model, r.camera_serial,
                      r.orientation, r.content_hash, r.thumbnail_path, r.preview_path, gone,
                      gone ? std::optional<int64_t>(now) : std::nullopt, now, r.note)
            .run();
        Id photo_id = db_.last_insert_id();
        // A deleted upload keeps the reason it was deleted for.
        Statement(db_, "UPDATE uploads SET photo_id = ?, content_hash = ?, data_path = ?, "
                       "reason = CASE WHEN state = 'deleted' THEN reason ELSE '' END, lease_until_ns = 0, "
                       "updated_ns = ? WHERE id = ?")
            .bind_all(photo_id, r.content_hash, r.original_path, now, u.id)
            .run();
        if (!gone) transition(u, UploadState::Ingested, "");
        if (u.supersedes_photo_id)
            Statement(db_, "UPDATE photos SET deleted = 1, deleted_ns = ? WHERE id = ? AND deleted = 0")
                .bind_all(now, *u.supersedes_photo_id)
                .run();
        tx.commit();
        return *photo(photo_id);
    }

    void mark_duplicate(Id upload_id, Id photo_id, const std::string& content_hash) override {
        Transaction tx(db_);
        auto u = must_get(upload_id);
        // Its own bytes are the photo's: it is read from the photo's original,
        // and the ingest service removes its staged copy.
        Statement(db_, "UPDATE uploads SET photo_id = ?1, duplicate = 1, content_hash = ?2, lease_until_ns = 0, "
                       "reason = ?3, data_path = coalesce((SELECT original_path FROM photos WHERE id = ?1), data_path) "
                       "WHERE id = ?4")
            .bind_all(photo_id, content_hash, fmt::format("duplicate of photo {}", photo_id), upload_id)
            .run();
        if (u.state == UploadState::Processing) transition(u, UploadState::Ingested, u.reason);
        tx.commit();
    }

    int retry_uploads(std::optional<Id> upload_id, std::optional<Id> job_id) override {
        Transaction tx(db_);
        Statement(db_, "UPDATE uploads SET state = 'queued', next_attempt_ns = 0, attempts = 0, updated_ns = ?1 "
                       "WHERE state IN ('failed','rejected') AND data_path <> '' "
                       "AND (?2 IS NULL OR id = ?2) AND (?3 IS NULL OR job_id = ?3)")
            .bind_all(now_ns(), upload_id, job_id)
            .run();
        int n = db_.changes();
        tx.commit();
        return n;
    }

    QueueStats queue_stats() override {
        QueueStats stats;
        Statement st(db_, "SELECT state, count(*) FROM uploads GROUP BY state");
        while (st.step()) stats.by_state[*parse_upload_state(st.get_text(0))] = st.get_int(1);
        Statement oldest(db_, "SELECT min(updated_ns) FROM uploads WHERE state = 'queued'");
        if (oldest.step()) stats.oldest_queued_ns = oldest.get_opt_int(0);
        Statement waiting(db_, "SELECT count(*) FROM uploads WHERE state = 'queued' AND substr(reason, 1, ?1) = ?2");
        waiting.bind_all(static_cast<int64_t>(waiting_for_space_reason.size()), waiting_for_space_reason);
        if (waiting.step()) stats.waiting_for_space = waiting.get_int(0);
        return stats;
    }

    void wait_for_space(Id upload_id, const std::string& detail, int64_t retry_at_ns) override {
        Transaction tx(db_);
        Statement(db_, "UPDATE uploads SET state = 'queued', reason = ?, next_attempt_ns = ?, lease_until_ns = 0, "
                       "attempts = max(attempts - 1, 0), updated_ns = ? WHERE id = ? AND state = 'processing'")
            .bind_all(fmt::format("{}: {}", waiting_for_space_reason, detail), retry_at_ns, now_ns(), upload_id)
            .run();
        tx.commit();
    }

    std::vector<Upload> staged_uploads(Id tenant_id) override {
        auto slug = tenant(tenant_id);
        if (!slug) return {};
        std::string prefix = slug->slug + "/staging/";
        Statement st(db_, fmt::format("SELECT {} FROM uploads WHERE substr(data_path, 1, ?1) = ?2 "
                                      "AND job_id IN (SELECT id FROM jobs WHERE tenant_id = ?3) ORDER BY id",
                                      upload_columns));
        st.bind_all(static_cast<int64_t>(prefix.size()), prefix, tenant_id);
        return all<Upload>(st, read_upload);
    }

    bool expire_receiving(Id upload_id, const std::string& reason) override {
        Transaction tx(db_);
        Statement(db_, "UPDATE uploads SET state = 'deleted', reason = ?, updated_ns = ? "
                       "WHERE id = ? AND state = 'receiving'")
            .bind_all(reason, now_ns(), upload_id)
            .run();
        bool expired = db_.changes() > 0;
        tx.commit();
        return expired;
    }

    bool mark_bytes_purged(const Upload& seen) override {
        Transaction tx(db_);
        Statement(db_, "UPDATE uploads SET data_path = '', purged_ns = ?1 "
                       "WHERE id = ?2 AND state = ?3 AND data_path = ?4 AND updated_ns = ?5 AND data_path <> ''")
            .bind_all(now_ns(), seen.id, to_string(seen.state), seen.data_path, seen.updated_ns)
            .run();
        bool marked = db_.changes() > 0;
        tx.commit();
        return marked;
    }

    bool point_duplicate_at_original(const Upload& seen) override {
        Transaction tx(db_);
        Statement(db_, "UPDATE uploads SET data_path = (SELECT original_path FROM photos WHERE id = uploads.photo_id) "
                       "WHERE id = ?1 AND duplicate = 1 AND state = 'ingested' AND data_path = ?2 "
                       "AND EXISTS (SELECT 1 FROM photos WHERE id = uploads.photo_id)")
            .bind_all(seen.id, seen.data_path)
            .run();
        bool moved = db_.changes() > 0;
        tx.commit();
        return moved;
    }

    std::vector<PurgeablePhoto> purgeable_photos(Id tenant_id, int64_t deleted_before_ns) override {
        Statement st(db_, fmt::format("SELECT {}, t.slug AS tenant_slug, p.deleted_ns AS deleted_ns FROM photos p "
                                      "JOIN jobs j ON j.id = p.job_id "
                                      "JOIN tenants t ON t.id = j.tenant_id "
                                      "WHERE j.tenant_id = ?1 AND p.{} ORDER BY p.id",
                                      prefixed_photo_columns("p."), purgeable));
        st.bind_all(tenant_id, deleted_before_ns);
        return all<PurgeablePhoto>(st, [](const Statement& row) {
            return PurgeablePhoto{read_photo(row), row.get_text("tenant_slug"), row.get_int("deleted_ns")};
        });
    }

    std::set<std::string> named_store_files(Id tenant_id, std::optional<std::string> content_hash) override {
        std::set<std::string> named;
        Statement photos(db_, "SELECT p.original_path, p.thumbnail_path, p.preview_path FROM photos p "
                              "JOIN jobs j ON j.id = p.job_id WHERE j.tenant_id = ?1 AND p.purged_ns IS NULL "
                              "AND (?2 IS NULL OR p.content_hash = ?2)");
        photos.bind_all(tenant_id, content_hash);
        while (photos.step())
            for (int col = 0; col < 3; ++col) named.insert(photos.get_text(col));
        Statement uploads(db_, "SELECT u.data_path FROM uploads u JOIN jobs j ON j.id = u.job_id "
                               "WHERE j.tenant_id = ?1 AND u.data_path <> '' AND (?2 IS NULL OR u.content_hash = ?2)");
        uploads.bind_all(tenant_id, content_hash);
        while (uploads.step()) named.insert(uploads.get_text(0));
        return named;
    }

    bool mark_photo_purged(Id photo_id, int64_t deleted_before_ns) override {
        Transaction tx(db_);
        auto p = photo(photo_id);
        auto j = p ? job(p->job_id) : std::nullopt;
        if (!j) return false;
        int64_t now = now_ns();
        Statement(db_, fmt::format("UPDATE photos AS p SET purged_ns = ?3 WHERE p.id = ?4 AND p.job_id IN "
                                   "(SELECT id FROM jobs WHERE tenant_id = ?1) AND p.{}",
                                   purgeable))
            .bind_all(j->tenant_id, deleted_before_ns, now, photo_id)
            .run();
        bool marked = db_.changes() > 0;
        if (marked)
            Statement(db_, "UPDATE uploads SET data_path = '', purged_ns = ?1 "
                           "WHERE photo_id = ?2 AND duplicate = 0 AND state = 'deleted' AND data_path = ?3")
                .bind_all(now, photo_id, p->original_path)
                .run();
        tx.commit();
        return marked;
    }

    std::optional<Photo> photo(Id id) override {
        Statement st(db_, fmt::format("SELECT {} FROM photos WHERE id = ?", photo_columns));
        st.bind(1, id);
        return one<Photo>(st, read_photo);
    }

    std::optional<Photo> photo_by_hash(Id job_id, const std::string& content_hash) override {
        Statement st(db_, fmt::format("SELECT {} FROM photos WHERE job_id = ? AND content_hash = ? AND deleted = 0 "
                                      "ORDER BY id LIMIT 1",
                                      photo_columns));
        st.bind_all(job_id, content_hash);
        return one<Photo>(st, read_photo);
    }

    std::vector<Photo> photos(Id job_id, std::optional<Id> album_id) override {
        Statement st(db_, fmt::format("SELECT {} FROM photos WHERE job_id = ?1 AND (?2 IS NULL OR album_id = ?2) "
                                      "ORDER BY id",
                                      photo_columns));
        st.bind_all(job_id, album_id);
        return all<Photo>(st, read_photo);
    }

private:
    static Tenant read_tenant(const Statement& st) {
        return Tenant{st.get_int("id"), st.get_text("slug"), st.get_text("name"), st.get_opt_int("quota_bytes")};
    }
    static SftpUser read_user(const Statement& st) {
        return SftpUser{st.get_int("id"), st.get_int("tenant_id"), st.get_text("username"),
                        static_cast<uint32_t>(st.get_int("uid")), st.get_int("enabled") != 0, {}};
    }

    template <class Key>
    std::optional<SftpUser> find_user(std::string_view where, const Key& key) {
        Statement st(db_, fmt::format("SELECT id, tenant_id, username, uid, enabled FROM sftp_users WHERE {}", where));
        st.bind(1, key);
        auto u = one<SftpUser>(st, read_user);
        if (u) u->job_ids = user_jobs(u->id);
        return u;
    }

    std::vector<Id> user_jobs(Id user_id) {
        Statement st(db_, "SELECT job_id FROM user_jobs WHERE user_id = ? ORDER BY job_id");
        st.bind(1, user_id);
        return all<Id>(st, [](const Statement& s) { return s.get_int(0); });
    }

    void write_user_jobs(Id user_id, const std::vector<Id>& job_ids) {
        Statement(db_, "DELETE FROM user_jobs WHERE user_id = ?").bind(1, user_id).run();
        Statement insert(db_, "INSERT OR IGNORE INTO user_jobs(user_id, job_id) VALUES (?, ?)");
        for (Id job_id : job_ids) {
            insert.reset();
            insert.bind_all(user_id, job_id).run();
        }
    }

    Upload must_get(Id upload_id) {
        auto u = upload(upload_id);
        if (!u) throw CatalogError(fmt::format("no upload {}", upload_id));
        return *u;
    }

    // Moves `u` to `to` inside the caller's transaction, enforcing the lifecycle.
    void transition(const Upload& u, UploadState to, const std::string& reason) {
        if (u.state == to) return;
        if (!can_transition(u.state, to))
            throw CatalogError(fmt::format("upload {} cannot go from {} to {}", u.id, to_string(u.state),
                                           to_string(to)));
        Statement(db_, "UPDATE uploads SET state = ?, reason = ?, updated_ns = ? WHERE id = ?")
            .bind_all(to_string(to), reason, now_ns(), u.id)
            .run();
    }

    Database db_;
};

}  // namespace

std::unique_ptr<Catalog> open_catalog(const std::string& path) { return std::make_unique<SqliteCatalog>(path); }

}  // namespace photodrop
