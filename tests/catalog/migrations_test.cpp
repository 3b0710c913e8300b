#include "catalog/catalog.hpp"
#include "catalog/migrations.hpp"
#include "catalog/sqlite.hpp"
#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace photodrop;

TEST_CASE("a catalog of schema version 1 opens, is migrated and keeps its rows") {
    test::TempDir dir;
    auto path = (dir.path() / "old.db").string();
    {
        auto db = sql::connect(path);
        sql::migrate(*db, 1);
        CHECK(db->schema_version() == 1);
        db->exec_script("INSERT INTO tenants(slug, name) VALUES ('old', 'Old Studio')");
        db->exec_script("INSERT INTO jobs(tenant_id, name, status, layout) VALUES (1, 'job00007', 'planned', 'flat')");
        db->exec_script("INSERT INTO uploads(job_id, section, filename, uid, state, created_ns, updated_ns) "
                "VALUES (1, 'individuals', 'a.jpg', 1000, 'queued', 1, 1)");
    }
    auto cat = open_catalog(path);
    auto tenant = cat->tenant("old");
    REQUIRE(tenant);
    auto job = cat->job(tenant->id, "job00007");
    REQUIRE(job);
    CHECK(job->layout == Layout::Flat);
    auto uploads = cat->uploads(job->id);
    REQUIRE(uploads.size() == 1);
    CHECK(uploads[0].state == UploadState::Queued);
    CHECK(uploads[0].attempts == 0);  // a column of version 3, filled by its default
    CHECK(cat->users().empty());      // a table of version 2
    CHECK(sql::connect(path)->schema_version() == sql::latest_schema_version());
}

TEST_CASE("a new file is created at the latest version, and opening twice is harmless") {
    test::TempDir dir;
    auto path = (dir.path() / "new.db").string();
    open_catalog(path)->add_tenant("t", "T");
    auto again = open_catalog(path);
    CHECK(again->tenants().size() == 1);
    CHECK(sql::connect(path)->schema_version() == sql::latest_schema_version());
}

TEST_CASE("a catalog from a newer program is refused") {
    test::TempDir dir;
    auto path = (dir.path() / "future.db").string();
    {
        sql::Database db(path);
        db.exec("PRAGMA user_version = 99");
    }
    std::string words = fmt::format("catalog schema version 99 is newer than this program's {}", sql::latest_schema_version());
    CHECK_THROWS_WITH_AS(open_catalog(path), words.c_str(), sql::Error);
}

TEST_CASE("SQLite errors carry the code and message") {
    test::TempDir dir;
    sql::Database db((dir.path() / "e.db").string());
    try {
        db.exec("SELECT * FROM no_such_table");
        FAIL("expected an error");
    } catch (const sql::SqliteError& e) {
        CHECK(e.code() == SQLITE_ERROR);
        CHECK(std::string(e.what()).find("no such table") != std::string::npos);
    }
}

TEST_CASE("migration 7: of two live uploads at one path (made before it was a constraint) the newer one stays") {
    test::TempDir dir;
    auto path = (dir.path() / "six.db").string();
    {
        auto db = sql::connect(path);
        sql::migrate(*db, 6);
        db->exec_script(R"sql(
INSERT INTO tenants(slug, name) VALUES ('old', 'Old Studio');
INSERT INTO jobs(tenant_id, name, status, layout) VALUES (1, 'job00007', 'planned', 'flat');
INSERT INTO uploads(job_id, section, filename, uid, state, data_path, created_ns, updated_ns)
  VALUES (1, 'individuals', 'a.jpg', 1000, 'ingested', 'old/originals/x.jpg', 1, 1);
INSERT INTO photos(upload_id, job_id, section, filename, original_path, width, height, content_hash, thumbnail_path,
  preview_path, created_ns) VALUES (1, 1, 'individuals', 'a.jpg', 'old/originals/x.jpg', 10, 10, 'x', 't', 'p', 1);
UPDATE uploads SET photo_id = 1 WHERE id = 1;
INSERT INTO uploads(job_id, section, filename, uid, state, data_path, created_ns, updated_ns)
  VALUES (1, 'individuals', 'a.jpg', 1000, 'queued', 'old/staging/y', 2, 2);
INSERT INTO uploads(job_id, section, filename, uid, state, data_path, created_ns, updated_ns)
  VALUES (1, 'individuals', 'b.jpg', 1000, 'queued', 'old/staging/z', 3, 3);
)sql");
    }
    auto cat = open_catalog(path);
    auto job = cat->job(cat->tenant("old")->id, "job00007");
    auto shown = cat->uploads_in(job->id, Folder{});
    REQUIRE(shown.size() == 2);
    CHECK(shown[0].id == 2);  // a.jpg: the newer one, as the mount showed it
    CHECK(shown[1].id == 3);
    auto older = cat->upload(1);
    CHECK(older->state == UploadState::Deleted);
    CHECK(older->reason == "replaced by a newer upload of the same name");
    CHECK(cat->photo(1)->deleted);
}

TEST_CASE("the schema refuses what the lifecycle does not allow, whoever writes the SQL") {
    test::TempDir dir;
    auto path = (dir.path() / "c.db").string();
    open_catalog(path);
    auto db = sql::connect(path);
    db->exec_script("INSERT INTO tenants(slug, name) VALUES ('t', 'T');"
                    "INSERT INTO jobs(tenant_id, name, status, layout) VALUES (1, 'j', 'planned', 'flat');");
    auto insert = [&](std::string_view state) {
        db->run("INSERT INTO uploads(job_id, section, filename, uid, state, created_ns, updated_ns) "
                "VALUES (1, 'individuals', 'a.jpg', 1000, $1, 1, 1)",
                state);
    };
    CHECK_THROWS_AS(insert("ingested"), sql::Error);
    insert("receiving");
    db->run("UPDATE uploads SET state = 'queued' WHERE id = 1");
    try {
        db->run("UPDATE uploads SET state = 'ingested' WHERE id = 1");  // queued -> ingested skips processing
        FAIL("the schema let an upload skip a state");
    } catch (const sql::Error& e) {
        CHECK(e.kind() == sql::Error::Kind::Constraint);
        CHECK(std::string(e.what()).find("uploads_lifecycle") != std::string::npos);
    }
    CHECK(db->run("SELECT state FROM uploads WHERE id = 1")[0].text("state") == "queued");
}
