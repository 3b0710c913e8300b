#include "catalog/migrations.hpp"

#include <fmt/format.h>

#include <array>
#include <string_view>

namespace photodrop::sql {

namespace {
// Never edit a migration that has shipped: add a new one.
constexpr std::array<std::string_view, 6> migrations{
    // 1: tenants, jobs, albums, uploads
    R"sql(
CREATE TABLE tenants (
  id INTEGER PRIMARY KEY,
  slug TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL
);
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  tenant_id INTEGER NOT NULL REFERENCES tenants(id),
  name TEXT NOT NULL,
  title TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL CHECK (status IN ('planned','selling','archived')),
  layout TEXT NOT NULL CHECK (layout IN ('albums','flat')),
  UNIQUE (tenant_id, name)
);
CREATE INDEX jobs_by_status ON jobs(tenant_id, status, name);
CREATE TABLE albums (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES jobs(id),
  name TEXT NOT NULL,
  has_group INTEGER NOT NULL DEFAULT 0,
  has_individuals INTEGER NOT NULL DEFAULT 0,
  created_ns INTEGER NOT NULL,
  removed_ns INTEGER
);
CREATE UNIQUE INDEX albums_by_name ON albums(job_id, name) WHERE removed_ns IS NULL;
CREATE TABLE uploads (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES jobs(id),
  album_id INTEGER REFERENCES albums(id),
  section TEXT NOT NULL CHECK (section IN ('individuals','group')),
  in_section_folder INTEGER NOT NULL DEFAULT 0,
  filename TEXT NOT NULL,
  size INTEGER NOT NULL DEFAULT 0,
  mtime_ns INTEGER NOT NULL DEFAULT 0,
  mode INTEGER NOT NULL DEFAULT 420,
  uid INTEGER NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  data_path TEXT NOT NULL DEFAULT '',
  created_ns INTEGER NOT NULL,
  updated_ns INTEGER NOT NULL
);
CREATE INDEX uploads_by_folder ON uploads(job_id, album_id, filename);
CREATE INDEX uploads_by_state ON uploads(state, id);
)sql",
    // 2: SFTP users and the jobs they may see
    R"sql(
CREATE TABLE sftp_users (
  id INTEGER PRIMARY KEY,
  tenant_id INTEGER NOT NULL REFERENCES tenants(id),
  username TEXT NOT NULL UNIQUE,
  uid INTEGER NOT NULL UNIQUE,
  enabled INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE user_jobs (
  user_id INTEGER NOT NULL REFERENCES sftp_users(id) ON DELETE CASCADE,
  job_id INTEGER NOT NULL REFERENCES jobs(id),
  PRIMARY KEY (user_id, job_id)
);
ALTER TABLE uploads ADD COLUMN user_id INTEGER REFERENCES sftp_users(id) ON DELETE SET NULL;
)sql",
    // 3: photos and the ingest queue
    R"sql(
CREATE TABLE photos (
  id INTEGER PRIMARY KEY,
  upload_id INTEGER NOT NULL UNIQUE REFERENCES uploads(id),
  job_id INTEGER NOT NULL REFERENCES jobs(id),
  album_id INTEGER REFERENCES albums(id),
  section TEXT NOT NULL,
  filename TEXT NOT NULL,
  original_path TEXT NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  captured_at TEXT,
  camera_make TEXT NOT NULL DEFAULT '',
  camera_model TEXT NOT NULL DEFAULT '',
  camera_serial TEXT NOT NULL DEFAULT '',
  orientation INTEGER NOT NULL DEFAULT 1,
  content_hash TEXT NOT NULL,
  thumbnail_path TEXT NOT NULL,
  preview_path TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  created_ns INTEGER NOT NULL
);
CREATE INDEX photos_by_hash ON photos(job_id, content_hash);
CREATE INDEX photos_by_album ON photos(job_id, album_id);
ALTER TABLE uploads ADD COLUMN content_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE uploads ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE uploads ADD COLUMN lease_until_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE uploads ADD COLUMN next_attempt_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE uploads ADD COLUMN photo_id INTEGER REFERENCES photos(id);
ALTER TABLE uploads ADD COLUMN duplicate INTEGER NOT NULL DEFAULT 0;
ALTER TABLE uploads ADD COLUMN supersedes_photo_id INTEGER REFERENCES photos(id);
)sql",
    // 4: retention: when a photo was deleted, and whether the bytes of a photo or an upload were purged
    R"sql(
ALTER TABLE photos ADD COLUMN deleted_ns INTEGER;
ALTER TABLE photos ADD COLUMN purged_ns INTEGER;
ALTER TABLE uploads ADD COLUMN purged_ns INTEGER;
UPDATE photos SET deleted_ns = (SELECT updated_ns FROM uploads WHERE uploads.id = photos.upload_id) WHERE deleted = 1;
CREATE INDEX photos_by_content ON photos(content_hash);
CREATE INDEX uploads_by_content ON uploads(content_hash) WHERE content_hash <> '';
)sql",
    // 5: per-tenant quotas (bytes; NULL: none), and what a tenant's use reads (Catalog::tenant_use)
    R"sql(
ALTER TABLE tenants ADD COLUMN quota_bytes INTEGER;
CREATE INDEX uploads_by_bytes ON uploads(job_id, data_path, state, size) WHERE data_path <> '';
)sql",
    // 6: a photo's note: the damage its decoder got past
    R"sql(
ALTER TABLE photos ADD COLUMN note TEXT NOT NULL DEFAULT '';
)sql",
};
}  // namespace

int latest_schema_version() { return static_cast<int>(migrations.size()); }

int schema_version(Database& db) {
    Statement st(db, "PRAGMA user_version");
    st.step();
    return static_cast<int>(st.get_int(0));
}

void migrate(Database& db, int target) {
    if (int found = schema_version(db); found > latest_schema_version())
        throw SqliteError(SQLITE_ERROR, fmt::format("catalog schema version {} is newer than this program's {}",
                                                    found, latest_schema_version()));
    for (int version = schema_version(db); version < target; ++version) {
        Transaction tx(db);
        if (schema_version(db) != version) continue;  // another process got here first
        db.exec(std::string(migrations.at(static_cast<size_t>(version))));
        db.exec(fmt::format("PRAGMA user_version = {}", version + 1));
        tx.commit();
    }
}

}  // namespace photodrop::sql
