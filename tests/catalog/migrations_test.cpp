#include "catalog/catalog.hpp"
#include "catalog/migrations.hpp"
#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>

using namespace photodrop;

TEST_CASE("a catalog of schema version 1 opens, is migrated and keeps its rows") {
    test::TempDir dir;
    auto path = (dir.path() / "old.db").string();
    {
        sql::Database db(path);
        sql::migrate(db, 1);
        CHECK(sql::schema_version(db) == 1);
        db.exec("INSERT INTO tenants(slug, name) VALUES ('old', 'Old Studio')");
        db.exec("INSERT INTO jobs(tenant_id, name, status, layout) VALUES (1, 'job00007', 'planned', 'flat')");
        db.exec("INSERT INTO uploads(job_id, section, filename, uid, state, created_ns, updated_ns) "
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
    sql::Database db(path);
    CHECK(sql::schema_version(db) == sql::latest_schema_version());
}

TEST_CASE("a new file is created at the latest version, and opening twice is harmless") {
    test::TempDir dir;
    auto path = (dir.path() / "new.db").string();
    open_catalog(path)->add_tenant("t", "T");
    auto again = open_catalog(path);
    CHECK(again->tenants().size() == 1);
    sql::Database db(path);
    CHECK(sql::schema_version(db) == sql::latest_schema_version());
}

TEST_CASE("a catalog from a newer program is refused") {
    test::TempDir dir;
    auto path = (dir.path() / "future.db").string();
    {
        sql::Database db(path);
        db.exec("PRAGMA user_version = 99");
    }
    CHECK_THROWS_AS(open_catalog(path), sql::SqliteError);
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
