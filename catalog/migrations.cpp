#include "catalog/migrations.hpp"

#include <fmt/format.h>

#include <array>
#include <span>
#include <string_view>

namespace photodrop::sql {

namespace {
// Never edit a migration that has shipped: add a new one.
constexpr std::array<std::string_view, 12> migrations{
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
    // 7: invariants as constraints (the same in migrations_postgres.cpp)
    R"sql(
-- Uploads hidden behind a newer one at the same path, before one live upload per path was a constraint.
UPDATE photos SET deleted = 1, deleted_ns = (SELECT updated_ns FROM uploads WHERE uploads.id = photos.upload_id)
 WHERE deleted = 0 AND upload_id IN (SELECT o.id FROM uploads o JOIN uploads n ON n.job_id = o.job_id
   AND coalesce(n.album_id, 0) = coalesce(o.album_id, 0) AND n.section = o.section
   AND n.in_section_folder = o.in_section_folder AND n.filename = o.filename AND n.id > o.id
   WHERE o.duplicate = 0 AND o.state = 'ingested'
   AND (n.state IN ('receiving','queued','processing','ingested','failed') OR (n.state = 'rejected' AND n.data_path <> '')));
UPDATE uploads SET state = 'deleted', reason = 'replaced by a newer upload of the same name'
 WHERE (state IN ('receiving','queued','processing','ingested','failed') OR (state = 'rejected' AND data_path <> ''))
 AND EXISTS (SELECT 1 FROM uploads n WHERE n.job_id = uploads.job_id
   AND coalesce(n.album_id, 0) = coalesce(uploads.album_id, 0) AND n.section = uploads.section
   AND n.in_section_folder = uploads.in_section_folder AND n.filename = uploads.filename AND n.id > uploads.id
   AND (n.state IN ('receiving','queued','processing','ingested','failed') OR (n.state = 'rejected' AND n.data_path <> '')));
-- One live upload per path: the terms of the catalog's folder queries.
CREATE UNIQUE INDEX uploads_live_path ON uploads(job_id, coalesce(album_id, 0), section, in_section_folder, filename)
 WHERE state IN ('receiving','queued','processing','ingested','failed') OR (state = 'rejected' AND data_path <> '');
-- One photo per job and content among the photos not deleted.
CREATE UNIQUE INDEX photos_live_hash ON photos(job_id, content_hash) WHERE deleted = 0;
-- Upload states, and the changes between them (SPEC.md "Upload lifecycle"; can_transition()).
CREATE TABLE upload_transitions (
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  PRIMARY KEY (from_state, to_state)
);
INSERT INTO upload_transitions(from_state, to_state) VALUES
 ('receiving','queued'), ('receiving','rejected'), ('receiving','deleted'), ('receiving','discarded'),
 ('queued','processing'), ('queued','receiving'), ('queued','deleted'), ('queued','rejected'),
 ('processing','ingested'), ('processing','rejected'), ('processing','failed'), ('processing','queued'),
 ('processing','deleted'),
 ('ingested','deleted'),
 ('failed','queued'), ('failed','receiving'), ('failed','deleted'),
 ('rejected','queued'), ('rejected','receiving'), ('rejected','deleted');
CREATE TRIGGER uploads_lifecycle BEFORE UPDATE OF state ON uploads
 WHEN NEW.state <> OLD.state
  AND NOT EXISTS (SELECT 1 FROM upload_transitions WHERE from_state = OLD.state AND to_state = NEW.state)
BEGIN
 SELECT RAISE(ABORT, 'uploads_lifecycle: an upload''s state changes only along its lifecycle');
END;
CREATE TRIGGER uploads_first_state BEFORE INSERT ON uploads
 WHEN NEW.state NOT IN ('receiving','rejected','discarded')
BEGIN
 SELECT RAISE(ABORT, 'uploads_lifecycle: an upload begins receiving, refused or discarded');
END;
)sql",
    // 8: events, the outbox of what a platform is told
    R"sql(
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL,
  occurred_ns INTEGER NOT NULL,
  tenant_id INTEGER NOT NULL REFERENCES tenants(id),
  job_id INTEGER REFERENCES jobs(id),
  album_id INTEGER REFERENCES albums(id),
  upload_id INTEGER REFERENCES uploads(id),
  photo_id INTEGER REFERENCES photos(id),
  data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_by_tenant ON events(tenant_id, id);
CREATE INDEX events_by_job ON events(job_id, id);
)sql",
    // 9: the platform's side: API tokens (hashed), webhook endpoints and their deliveries
    R"sql(
CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id INTEGER REFERENCES tenants(id),
  label TEXT NOT NULL DEFAULT '',
  token_hash TEXT NOT NULL UNIQUE,
  read_only INTEGER NOT NULL DEFAULT 0,
  created_ns INTEGER NOT NULL,
  revoked_ns INTEGER
);
CREATE TABLE webhooks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id INTEGER NOT NULL REFERENCES tenants(id),
  url TEXT NOT NULL,
  secret TEXT NOT NULL,
  event_types TEXT NOT NULL DEFAULT '',
  after_event INTEGER NOT NULL DEFAULT 0,
  created_ns INTEGER NOT NULL
);
CREATE TABLE webhook_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  webhook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  event_id INTEGER NOT NULL REFERENCES events(id),
  job_id INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','delivered','failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ns INTEGER NOT NULL,
  lease_until_ns INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER,
  last_error TEXT NOT NULL DEFAULT '',
  created_ns INTEGER NOT NULL,
  done_ns INTEGER,
  UNIQUE (webhook_id, event_id)
);
CREATE INDEX deliveries_pending ON webhook_deliveries(webhook_id, job_id, id) WHERE state = 'pending';
CREATE INDEX deliveries_by_state ON webhook_deliveries(state, id);
CREATE INDEX uploads_by_job ON uploads(job_id, id);
CREATE INDEX photos_by_job ON photos(job_id, id) WHERE deleted = 0;
ALTER TABLE albums ADD COLUMN idle_reported_ns INTEGER NOT NULL DEFAULT 0;
CREATE INDEX uploads_by_created ON uploads(created_ns);
CREATE TABLE secrets (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql",
    // 10: which protocols a login may use (the logins made before FTP existed keep SFTP alone).
    R"sql(
ALTER TABLE sftp_users ADD COLUMN protocols TEXT NOT NULL DEFAULT 'sftp';
)sql",
    // 11: camera accounts (a login whose root is one album), and the name an
    // upload was sent under when it is shown under another ("IMG_0001 (2).JPG").
    R"sql(
ALTER TABLE sftp_users ADD COLUMN camera_album_id INTEGER;
ALTER TABLE uploads ADD COLUMN sent_name TEXT NOT NULL DEFAULT '';
)sql",
    // 12: subjects: a photo's card and subject (by code; manual: an operator's choice), capture
    // sub-seconds for the order, and each job's roster.
    R"sql(
ALTER TABLE photos ADD COLUMN captured_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE photos ADD COLUMN card_code TEXT;
ALTER TABLE photos ADD COLUMN subject_code TEXT;
ALTER TABLE photos ADD COLUMN subject_manual INTEGER NOT NULL DEFAULT 0;
CREATE TABLE roster (
  job_id INTEGER NOT NULL REFERENCES jobs(id),
  code TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  class TEXT NOT NULL DEFAULT '',
  external_id TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (job_id, code)
);
)sql",
};
}  // namespace

int latest_schema_version() { return static_cast<int>(migrations.size()); }

std::span<const std::string_view> sqlite_migrations() { return migrations; }

void migrate(Connection& c, int target) {
    auto steps = c.engine() == Engine::Postgres ? postgres_migrations() : sqlite_migrations();
    if (int found = c.schema_version(); found > latest_schema_version())
        throw Error(Error::Kind::Other, fmt::format("catalog schema version {} is newer than this program's {}", found,
                                                    latest_schema_version()));
    for (int version = c.schema_version(); version < target; ++version) {
        Transaction tx(c);
        c.lock_schema();
        if (c.schema_version() != version) continue;  // another process got here first
        c.exec_script(steps[static_cast<size_t>(version)]);
        c.set_schema_version(version + 1);
        tx.commit();
    }
}

}  // namespace photodrop::sql
