// The catalog's connection to PostgreSQL, against a private server: what the
// catalog relies on of any sql::Connection (parameters, rows by name,
// transactions, errors by kind, wake-ups), what only a server does (deadlocks,
// a session ended from outside, NOTIFY across connections), and a schema that
// is the SQLite one in PostgreSQL's words.
#include "catalog/migrations.hpp"
#include "catalog/migrations_postgres.hpp"
#include "catalog/postgres.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <latch>
#include <limits>
#include <map>
#include <set>
#include <thread>
#include <vector>

using namespace photodrop;
using Kind = sql::Error::Kind;

namespace {

// The sql::Error that `f` throws, if it throws one.
template <class F>
std::optional<sql::Error> error_of(F&& f) {
    try {
        f();
    } catch (const sql::Error& e) {
        return e;
    }
    return std::nullopt;
}

int64_t elapsed_ms(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - since).count();
}

// A copy of catalog/migrations.cpp's SQLite migrations 1..6, which never change once shipped.
// (Read them through sql::sqlite_migrations() where that exists.)
constexpr std::array<std::string_view, 6> sqlite_migrations{
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
    R"sql(
ALTER TABLE photos ADD COLUMN deleted_ns INTEGER;
ALTER TABLE photos ADD COLUMN purged_ns INTEGER;
ALTER TABLE uploads ADD COLUMN purged_ns INTEGER;
UPDATE photos SET deleted_ns = (SELECT updated_ns FROM uploads WHERE uploads.id = photos.upload_id) WHERE deleted = 1;
CREATE INDEX photos_by_content ON photos(content_hash);
CREATE INDEX uploads_by_content ON uploads(content_hash) WHERE content_hash <> '';
)sql",
    R"sql(
ALTER TABLE tenants ADD COLUMN quota_bytes INTEGER;
CREATE INDEX uploads_by_bytes ON uploads(job_id, data_path, state, size) WHERE data_path <> '';
)sql",
    R"sql(
ALTER TABLE photos ADD COLUMN note TEXT NOT NULL DEFAULT '';
)sql",
};

// What a schema is made of, engine aside: per table its columns in order (name,
// NOT NULL, default), its indexes (columns, unique, partial; the name of those
// made by CREATE INDEX) and its foreign keys (column -> table, ON DELETE).
struct Schema {
    std::map<std::string, std::vector<std::string>> columns;
    std::map<std::string, std::set<std::string>> indexes;
    std::map<std::string, std::set<std::string>> foreign_keys;
};

std::string column_entry(const std::string& name, bool not_null, std::optional<std::string> default_value) {
    return name + (not_null ? " NOT NULL" : "") + (default_value ? " DEFAULT " + *default_value : "");
}

std::string on_delete_name(char code) {
    switch (code) {
        case 'c': return "CASCADE";
        case 'n': return "SET NULL";
        case 'd': return "SET DEFAULT";
        case 'r': return "RESTRICT";
        default: return "NO ACTION";
    }
}

class SqliteFile {
public:
    explicit SqliteFile(const std::string& path) {
        REQUIRE(sqlite3_open(path.c_str(), &db_) == SQLITE_OK);
    }
    ~SqliteFile() { sqlite3_close(db_); }
    void exec(std::string_view sql) {
        char* error = nullptr;
        int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &error);
        INFO((error ? error : ""));
        sqlite3_free(error);
        REQUIRE(rc == SQLITE_OK);
    }
    // Each row's columns as text (NULL: nullopt).
    std::vector<std::vector<std::optional<std::string>>> rows(const std::string& sql) {
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
        std::vector<std::vector<std::optional<std::string>>> out;
        while (sqlite3_step(st) == SQLITE_ROW) {
            auto& row = out.emplace_back();
            for (int c = 0; c < sqlite3_column_count(st); ++c) {
                auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
                row.push_back(text ? std::optional<std::string>(text) : std::nullopt);
            }
        }
        sqlite3_finalize(st);
        return out;
    }

private:
    sqlite3* db_ = nullptr;
};

Schema sqlite_schema(SqliteFile& db) {
    Schema s;
    for (auto& table : db.rows("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")) {
        const std::string t = *table[0];
        // table_info: cid, name, type, notnull, dflt_value, pk
        for (auto& c : db.rows("PRAGMA table_info(" + t + ")"))
            s.columns[t].push_back(column_entry(*c[1], *c[3] == "1" || *c[5] != "0", c[4]));
        // index_list: seq, name, unique, origin, partial
        for (auto& index : db.rows("PRAGMA index_list(" + t + ")")) {
            if (*index[3] == "pk") continue;
            std::string cols;
            // An expression (migration 7's coalesce(album_id, 0)) has no column name.
            for (auto& c : db.rows("PRAGMA index_info(" + *index[1] + ")"))
                cols += (cols.empty() ? "" : ",") + c[2].value_or("(expression)");
            s.indexes[t].insert((*index[3] == "c" ? *index[1] + " " : std::string()) + "(" + cols + ")" +
                                (*index[2] == "1" ? " UNIQUE" : "") + (*index[4] == "1" ? " PARTIAL" : ""));
        }
        // foreign_key_list: id, seq, table, from, to, on_update, on_delete, match
        for (auto& fk : db.rows("PRAGMA foreign_key_list(" + t + ")"))
            s.foreign_keys[t].insert(*fk[3] + " -> " + *fk[2] + "(" + *fk[4] + ") ON DELETE " + *fk[6]);
    }
    return s;
}

Schema postgres_schema(sql::Connection& c) {
    Schema s;
    for (auto table : c.run("SELECT table_name::text AS t FROM information_schema.tables "
                            "WHERE table_schema = 'public' AND table_name <> 'photodrop_schema'")) {
        const std::string t = table.text("t");
        for (auto col : c.run("SELECT column_name::text AS name, is_nullable = 'NO' AS not_null, "
                              "replace(column_default, '::text', '') AS dflt FROM information_schema.columns "
                              "WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
                              t))
            s.columns[t].push_back(column_entry(col.text("name"), col.flag("not_null"), col.opt_text("dflt")));
        for (auto index : c.run(
                 "SELECT ic.relname AS name, i.indisunique AS is_unique, i.indpred IS NOT NULL AS partial, "
                 "EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) AS of_constraint, "
                 "array_to_string(ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY AS k(n, o) "
                 "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o), ',') AS cols "
                 "FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
                 "WHERE i.indrelid = $1::regclass AND NOT i.indisprimary",
                 t))
            s.indexes[t].insert((index.flag("of_constraint") ? std::string() : index.text("name") + " ") + "(" +
                                index.text("cols") + ")" + (index.flag("is_unique") ? " UNIQUE" : "") +
                                (index.flag("partial") ? " PARTIAL" : ""));
        for (auto fk : c.run("SELECT a.attname AS col, k.confrelid::regclass::text AS target, "
                             "b.attname AS target_col, k.confdeltype AS on_delete FROM pg_constraint k "
                             "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1] "
                             "JOIN pg_attribute b ON b.attrelid = k.confrelid AND b.attnum = k.confkey[1] "
                             "WHERE k.contype = 'f' AND k.conrelid = $1::regclass",
                             t))
            s.foreign_keys[t].insert(fk.text("col") + " -> " + fk.text("target") + "(" + fk.text("target_col") +
                                     ") ON DELETE " + on_delete_name(fk.text("on_delete").at(0)));
    }
    return s;
}

// One entry a line, so that a difference reads in the test's report.
template <class C>
std::string lines(const C& entries) {
    std::string out;
    for (const auto& e : entries) out += e + "\n";
    return out;
}

void migrate_postgres(sql::Connection& c, int target) {
    for (int version = c.schema_version(); version < target; ++version) {
        sql::Transaction tx(c);
        c.lock_schema();
        c.exec_script(sql::postgres_migrations()[static_cast<size_t>(version)]);
        c.set_schema_version(version + 1);
        tx.commit();
    }
}

}  // namespace

TEST_CASE("a PostgreSQL connection passes parameters of each kind and reads rows by column name") {
    test::PostgresServer pg;
    auto c = sql::connect_postgres(pg.uri());
    CHECK(c->engine() == sql::Engine::Postgres);
    c->exec_script("CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n BIGINT, s TEXT, "
                   "flag BIGINT NOT NULL DEFAULT 0, small SMALLINT, medium INTEGER, yes BOOLEAN);"
                   "CREATE TABLE u (x TEXT)");

    const int64_t big = std::numeric_limits<int64_t>::max();
    const std::string unicode = "Café 'quoted' \"double\" \\ back; -- not a comment";
    CHECK(c->run("INSERT INTO t (n, s, flag, small, medium, yes) VALUES ($1, $2, $3, $4, $5, $6)", big, unicode, true,
                 int{-7}, uint32_t{4000000}, false)
              .affected() == 1);
    CHECK(c->run("INSERT INTO t (n, s, flag, small, medium, yes) VALUES ($1, $2, $3, $4, $5, $6)", nullptr,
                 std::optional<std::string>(), std::optional<int64_t>(0), std::nullopt, int64_t{-1},
                 std::optional<bool>(true))
              .affected() == 1);
    CHECK(c->run("INSERT INTO t (n, s) VALUES ($1, $2)", std::numeric_limits<int64_t>::min(), "").affected() == 1);

    auto rows = c->run("SELECT id, n, s AS label, flag, small, medium, yes, n IS NULL AS missing FROM t ORDER BY id");
    REQUIRE(rows.size() == 3);
    auto first = rows[0];
    CHECK(first.integer("id") == 1);
    CHECK(first.integer("n") == big);
    CHECK(first.text("label") == unicode);
    CHECK(first.flag("flag"));
    CHECK(first.integer("small") == -7);
    CHECK(first.integer("medium") == 4000000);
    CHECK(first.integer("yes") == 0);
    CHECK(first.integer("missing") == 0);
    CHECK(first.text("n") == std::to_string(big));

    auto second = rows[1];
    CHECK(second.is_null("n"));
    CHECK(second.opt_integer("n") == std::nullopt);
    CHECK(second.integer("n") == 0);
    CHECK(second.is_null("label"));
    CHECK(second.opt_text("label") == std::nullopt);
    CHECK(second.text("label") == "");
    CHECK_FALSE(second.flag("flag"));
    CHECK(second.is_null("small"));
    CHECK(second.integer("medium") == -1);
    CHECK(second.integer("yes") == 1);
    CHECK(second.flag("missing"));

    auto third = rows[2];
    CHECK(third.integer("n") == std::numeric_limits<int64_t>::min());
    CHECK_FALSE(third.is_null("label"));  // the empty string is not NULL
    CHECK(third.opt_text("label") == std::string());

    // Columns by name or alias, whatever their order; a name the result lacks is an error.
    auto count = c->run("SELECT count(*) AS how_many, max(id) AS last, sum(n) AS total FROM t WHERE n IS NOT NULL");
    REQUIRE(count.first());
    CHECK(count.first()->integer("how_many") == 2);
    CHECK(count.first()->integer("last") == 3);
    CHECK(count.first()->integer("total") == -1);  // numeric, read as an integer
    CHECK_THROWS_AS(count[0].integer("id"), sql::Error);
    CHECK_THROWS_AS(rows[0].text("s"), sql::Error);  // aliased as label
    CHECK(c->run("SELECT id FROM t WHERE id = $1", 99).empty());
    CHECK_FALSE(c->run("SELECT id FROM t WHERE id = $1", 99).first());

    // The same statement again and again, with other values (it is prepared once).
    for (int i = 0; i < 50; ++i) c->run("INSERT INTO u (x) VALUES ($1)", std::to_string(i));
    CHECK(c->run("SELECT count(*) AS n FROM u WHERE x LIKE $1", "1%")[0].integer("n") == 11);

    // Rows changed; an iteration over the result.
    CHECK(c->run("UPDATE t SET flag = $1 WHERE id >= $2", 1, 2).affected() == 2);
    CHECK(c->run("UPDATE t SET flag = 1 WHERE id > 100").affected() == 0);
    CHECK(c->run("DELETE FROM u WHERE x::int < $1", 20).affected() == 20);
    int64_t seen = 0;
    for (auto row : c->run("SELECT id FROM t ORDER BY id")) seen += row.integer("id");
    CHECK(seen == 6);

    // A statement the server refuses names itself in the error.
    auto bad = error_of([&] { c->run("SELECT no_such_column FROM t WHERE id = $1", 1); });
    REQUIRE(bad);
    CHECK(bad->kind() == Kind::Other);
    CHECK(std::string(bad->what()).find("no_such_column") != std::string::npos);
    CHECK(std::string(bad->what()).find("SELECT no_such_column FROM t") != std::string::npos);
    CHECK(c->run("SELECT 1 AS one")[0].integer("one") == 1);  // and the connection goes on
}

TEST_CASE("PostgreSQL transactions: rolled back leaves nothing, committed is seen by another connection") {
    test::PostgresServer pg;
    auto a = sql::connect_postgres(pg.uri());
    auto b = sql::connect_postgres(pg.uri());
    a->exec_script("CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT NOT NULL, state TEXT NOT NULL "
                   "CHECK (state IN ('queued','done')), parent BIGINT CONSTRAINT t_parent REFERENCES t(id));"
                   "CREATE UNIQUE INDEX t_by_name ON t(name)");

    a->run("SET synchronous_commit = on");  // the test server's default is off
    a->begin(sql::Durability::Durable);
    a->run("INSERT INTO t (id, name, state) VALUES ($1, $2, $3)", 1, "one", "queued");
    CHECK(a->run("SELECT count(*) AS n FROM t")[0].integer("n") == 1);
    CHECK(b->run("SELECT count(*) AS n FROM t")[0].integer("n") == 0);  // not yet
    a->rollback();
    CHECK(a->run("SELECT count(*) AS n FROM t")[0].integer("n") == 0);
    a->rollback();  // outside a transaction: nothing, no throw

    for (auto durability : {sql::Durability::Durable, sql::Durability::Deferred}) {
        sql::Transaction tx(*a, durability);
        int64_t id = durability == sql::Durability::Durable ? 1 : 2;
        a->run("INSERT INTO t (id, name, state) VALUES ($1, $2, 'queued')", id, "n" + std::to_string(id));
        CHECK(a->run("SHOW synchronous_commit")[0].text("synchronous_commit") ==
              (durability == sql::Durability::Deferred ? "off" : "on"));
        tx.commit();
    }
    CHECK(b->run("SELECT count(*) AS n FROM t")[0].integer("n") == 2);
    CHECK(a->run("SHOW synchronous_commit")[0].text("synchronous_commit") == "on");  // LOCAL: that transaction only

    {
        sql::Transaction tx(*a);
        a->run("UPDATE t SET state = 'done' WHERE id = 1");
    }  // not committed: rolled back by the destructor
    CHECK(b->run("SELECT state FROM t WHERE id = 1")[0].text("state") == "queued");

    // A refusal by the schema is a Constraint error that names what refused.
    auto unique = error_of([&] { b->run("INSERT INTO t (id, name, state) VALUES (7, $1, 'queued')", "n1"); });
    REQUIRE(unique);
    CHECK(unique->kind() == Kind::Constraint);
    CHECK(unique->constraint() == "t_by_name");
    CHECK(std::string(unique->what()).find("INSERT INTO t") != std::string::npos);
    auto check = error_of([&] { b->run("UPDATE t SET state = $1 WHERE id = 1", "lost"); });
    REQUIRE(check);
    CHECK(check->kind() == Kind::Constraint);
    CHECK(check->constraint() == "t_state_check");
    auto foreign = error_of([&] { b->run("INSERT INTO t (id, name, state, parent) VALUES (8, 'x', 'queued', 99)"); });
    REQUIRE(foreign);
    CHECK(foreign->kind() == Kind::Constraint);
    CHECK(foreign->constraint() == "t_parent");
    auto not_null = error_of([&] { b->run("INSERT INTO t (id, name, state) VALUES (9, $1, 'queued')", nullptr); });
    REQUIRE(not_null);
    CHECK(not_null->kind() == Kind::Constraint);

    // A transaction with a failed statement does not commit, and says so.
    b->begin(sql::Durability::Durable);
    b->run("INSERT INTO t (id, name, state) VALUES (10, 'ten', 'queued')");
    CHECK(error_of([&] { b->run("INSERT INTO t (id, name, state) VALUES (11, 'ten', 'queued')"); }));
    auto commit = error_of([&] { b->commit(); });
    REQUIRE(commit);
    CHECK(commit->kind() == Kind::Other);
    CHECK(a->run("SELECT count(*) AS n FROM t WHERE id = 10")[0].integer("n") == 0);
    b->rollback();  // after a failed commit: nothing to do
    CHECK(b->run("SELECT count(*) AS n FROM t")[0].integer("n") == 2);
}

TEST_CASE("PostgreSQL: of two transactions in a deadlock, one fails as Transient and the other commits") {
    test::PostgresServer pg;
    auto setup = sql::connect_postgres(pg.uri());
    setup->exec_script("CREATE TABLE t (id BIGINT PRIMARY KEY, n BIGINT NOT NULL); INSERT INTO t VALUES (1, 0), (2, 0)");

    std::latch both_hold_one(2);
    std::array<std::optional<sql::Error>, 2> errors;
    std::array<bool, 2> committed{false, false};
    auto worker = [&](int which) {
        auto c = sql::connect_postgres(pg.uri());
        int64_t mine = which == 0 ? 1 : 2, theirs = which == 0 ? 2 : 1;
        try {
            sql::Transaction tx(*c);
            c->run("UPDATE t SET n = n + 1 WHERE id = $1", mine);
            both_hold_one.arrive_and_wait();
            c->run("UPDATE t SET n = n + 1 WHERE id = $1", theirs);
            tx.commit();
            committed[static_cast<size_t>(which)] = true;
        } catch (const sql::Error& e) {
            errors[static_cast<size_t>(which)] = e;
        }
    };
    std::thread first(worker, 0), second(worker, 1);
    first.join();
    second.join();

    CHECK(committed[0] != committed[1]);
    const auto& error = errors[0] ? errors[0] : errors[1];
    REQUIRE(error);
    CHECK(error->kind() == Kind::Transient);
    CHECK(error->transient());
    CHECK(std::string(error->what()).find("deadlock") != std::string::npos);
    CHECK(setup->run("SELECT sum(n) AS total FROM t")[0].integer("total") == 2);  // the winner's two updates
}

TEST_CASE("PostgreSQL: a session ended by the server is Transient, and the connection is made again") {
    test::PostgresServer pg;
    auto victim = sql::connect_postgres(pg.uri());
    auto admin = sql::connect_postgres(pg.uri());
    victim->exec_script("CREATE TABLE t (id BIGINT PRIMARY KEY)");
    victim->listen("photodrop-wake");
    auto terminate = [&] {
        int64_t pid = victim->run("SELECT pg_backend_pid() AS pid")[0].integer("pid");
        CHECK(admin->run("SELECT pg_terminate_backend($1) AS done", pid)[0].flag("done"));
        // The server ends the session at once, but asynchronously.
        for (int i = 0; i < 100 && !admin->run("SELECT pid FROM pg_stat_activity WHERE pid = $1", pid).empty(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return pid;
    };

    // Outside a transaction: the next statement throws Transient or works on a new session; the one after works.
    int64_t old_pid = terminate();
    try {
        victim->run("INSERT INTO t (id) VALUES (1)");
    } catch (const sql::Error& e) {
        CHECK(e.kind() == Kind::Transient);
        victim->run("INSERT INTO t (id) VALUES (1)");
    }
    CHECK(victim->run("SELECT count(*) AS n FROM t")[0].integer("n") == 1);
    CHECK(victim->run("SELECT pg_backend_pid() AS pid")[0].integer("pid") != old_pid);

    // The new session listens again.
    admin->notify("photodrop-wake");
    CHECK(victim->wait(2000));

    // Inside a transaction: every statement throws Transient until rollback; then a new session.
    victim->begin(sql::Durability::Durable);
    victim->run("INSERT INTO t (id) VALUES (2)");
    terminate();
    auto lost = error_of([&] { victim->run("INSERT INTO t (id) VALUES (3)"); });
    REQUIRE(lost);
    CHECK(lost->kind() == Kind::Transient);
    auto again = error_of([&] { victim->run("SELECT 1 AS one"); });
    REQUIRE(again);
    CHECK(again->kind() == Kind::Transient);
    auto commit = error_of([&] { victim->commit(); });
    REQUIRE(commit);
    CHECK(commit->kind() == Kind::Transient);
    victim->rollback();
    CHECK(victim->run("SELECT count(*) AS n FROM t")[0].integer("n") == 1);

    // A session lost while waiting for a notification: wait() says to look again; the next statement reconnects.
    terminate();
    CHECK(victim->wait(2000));
    CHECK(victim->run("SELECT count(*) AS n FROM t")[0].integer("n") == 1);
    admin->notify("photodrop-wake");
    CHECK(victim->wait(2000));

    // A server that is gone: Transient, both for a new connection and for one made before.
    std::string uri = pg.uri();
    {
        test::PostgresServer other;
        uri = other.uri();
    }
    auto unreachable = error_of([&] { sql::connect_postgres(uri); });
    REQUIRE(unreachable);
    CHECK(unreachable->kind() == Kind::Transient);
}

TEST_CASE("PostgreSQL: NOTIFY reaches a listening connection when its transaction commits, never when it rolls back") {
    test::PostgresServer pg;
    auto listener = sql::connect_postgres(pg.uri());
    auto sender = sql::connect_postgres(pg.uri());
    listener->listen("photodrop-uploads");
    listener->listen("photodrop-uploads");  // twice is once

    auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(listener->wait(200));
    CHECK(elapsed_ms(start) >= 190);

    sender->notify("photodrop-uploads");  // outside a transaction: at once
    start = std::chrono::steady_clock::now();
    CHECK(listener->wait(1000));
    CHECK(elapsed_ms(start) < 1000);
    CHECK_FALSE(listener->wait(100));  // taken

    sender->begin(sql::Durability::Durable);
    sender->notify("photodrop-uploads");
    CHECK_FALSE(listener->wait(200));  // not before COMMIT
    sender->commit();
    CHECK(listener->wait(1000));

    sender->begin(sql::Durability::Deferred);
    sender->notify("photodrop-uploads");
    sender->rollback();
    CHECK_FALSE(listener->wait(500));

    sender->notify("another-channel");
    CHECK_FALSE(listener->wait(200));

    // Notifications that came before wait() are not lost.
    sender->notify("photodrop-uploads");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    listener->run("SELECT 1 AS one");
    CHECK(listener->wait(0));
}

TEST_CASE("PostgreSQL: the schema version, and migrations taken one process at a time") {
    test::PostgresServer pg;
    auto a = sql::connect_postgres(pg.uri());
    auto b = sql::connect_postgres(pg.uri());
    CHECK(a->schema_version() == 0);  // no table yet, outside a transaction
    CHECK_THROWS_AS(a->lock_schema(), sql::Error);  // a lock outside a transaction would be let go at once

    a->begin(sql::Durability::Durable);
    a->lock_schema();
    CHECK(a->schema_version() == 0);
    a->set_schema_version(1);
    CHECK(a->schema_version() == 1);

    // Another migrator waits for the lock, then sees the first one's work.
    std::atomic<int> seen{-1};
    std::thread other([&] {
        sql::Transaction tx(*b);
        b->lock_schema();
        seen = b->schema_version();
        b->set_schema_version(2);
        tx.commit();
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(seen == -1);
    a->commit();
    other.join();
    CHECK(seen == 1);
    CHECK(a->schema_version() == 2);
    CHECK(pg.psql("SELECT count(*) FROM photodrop_schema") == "1\n");
}

TEST_CASE("PostgreSQL migrations 1..6 make the tables, columns, indexes and foreign keys of the SQLite ones") {
    REQUIRE(sql::postgres_migrations().size() >= 6);
    test::PostgresServer pg;
    auto c = sql::connect_postgres(pg.uri());

    // Migration 4's UPDATE: a photo deleted before it takes its upload's time.
    migrate_postgres(*c, 3);
    c->exec_script(R"sql(
INSERT INTO tenants (slug, name) VALUES ('acme', 'Acme');
INSERT INTO jobs (tenant_id, name, status, layout) VALUES (1, 'spring', 'selling', 'albums');
INSERT INTO uploads (job_id, section, filename, uid, state, created_ns, updated_ns)
  VALUES (1, 'group', 'a.jpg', 1000, 'ingested', 5, 77), (1, 'group', 'b.jpg', 1000, 'ingested', 5, 88);
INSERT INTO photos (upload_id, job_id, section, filename, original_path, width, height, content_hash,
  thumbnail_path, preview_path, deleted, created_ns)
  VALUES (1, 1, 'group', 'a.jpg', 'o', 1, 1, 'h1', 't', 'p', 1, 5), (2, 1, 'group', 'b.jpg', 'o', 1, 1, 'h2', 't', 'p', 0, 5);
)sql");
    migrate_postgres(*c, 6);
    CHECK(c->schema_version() == 6);
    auto photos = c->run("SELECT filename, deleted_ns FROM photos ORDER BY id");
    CHECK(photos[0].opt_integer("deleted_ns") == 77);
    CHECK(photos[1].is_null("deleted_ns"));

    // Ids come from the database; defaults as in SQLite.
    auto tenant = c->run("INSERT INTO tenants (slug, name) VALUES ($1, $2) RETURNING id, quota_bytes", "b", "B");
    CHECK(tenant[0].integer("id") == 2);
    CHECK(tenant[0].is_null("quota_bytes"));
    auto upload = c->run("INSERT INTO uploads (job_id, section, filename, uid, state, created_ns, updated_ns) "
                         "VALUES (1, 'individuals', 'c.jpg', 1000, 'receiving', 1, 1) "
                         "RETURNING mode, size, attempts, duplicate, content_hash, data_path, reason");
    CHECK(upload[0].integer("mode") == 420);
    CHECK(upload[0].integer("size") == 0);
    CHECK(upload[0].text("content_hash") == "");

    // The refusals of the schema, named.
    auto job = error_of([&] { c->run("INSERT INTO jobs (tenant_id, name, status, layout) VALUES (1, 'x', 'gone', 'flat')"); });
    REQUIRE(job);
    CHECK(job->kind() == Kind::Constraint);
    CHECK(job->constraint() == "jobs_status_check");
    c->run("INSERT INTO albums (job_id, name, created_ns) VALUES (1, 'Class 1', 1)");
    auto album = error_of([&] { c->run("INSERT INTO albums (job_id, name, created_ns) VALUES (1, 'Class 1', 2)"); });
    REQUIRE(album);
    CHECK(album->kind() == Kind::Constraint);
    CHECK(album->constraint() == "albums_by_name");
    c->run("UPDATE albums SET removed_ns = 3 WHERE name = 'Class 1'");
    c->run("INSERT INTO albums (job_id, name, created_ns) VALUES (1, 'Class 1', 4)");  // partial: the removed one is out

    // Text sorts bytewise, as in SQLite, whatever the server's locale.
    c->exec_script("INSERT INTO albums (job_id, name, created_ns) VALUES (1, 'b', 1), (1, 'B', 1), (1, '_a', 1), "
                   "(1, 'é', 1), (1, 'a b', 1), (1, 'Z', 1)");
    std::vector<std::string> order;
    for (auto row : c->run("SELECT name FROM albums WHERE name <> 'Class 1' ORDER BY name")) order.push_back(row.text("name"));
    CHECK(order == std::vector<std::string>{"B", "Z", "_a", "a b", "b", "é"});

    // Everything as SQLite has it.
    test::TempDir dir;
    SqliteFile lite((dir.path() / "catalog.db").string());
    for (auto migration : sqlite_migrations) lite.exec(migration);
    Schema expected = sqlite_schema(lite);
    Schema got = postgres_schema(*c);
    CHECK(expected.columns.size() == 7);
    for (const auto& [table, columns] : expected.columns) {
        CAPTURE(table);
        CHECK(lines(got.columns[table]) == lines(columns));
        CHECK(lines(got.indexes[table]) == lines(expected.indexes[table]));
        CHECK(lines(got.foreign_keys[table]) == lines(expected.foreign_keys[table]));
    }
    CHECK(got.columns.size() == expected.columns.size());
}

TEST_CASE("PostgreSQL's migration 8 makes the events table of SQLite's") {
    test::PostgresServer pg;
    auto c = sql::connect_postgres(pg.uri());
    migrate_postgres(*c, static_cast<int>(sql::postgres_migrations().size()));
    test::TempDir dir;
    SqliteFile lite((dir.path() / "catalog.db").string());
    for (auto migration : sql::sqlite_migrations()) lite.exec(migration);
    Schema expected = sqlite_schema(lite);
    Schema got = postgres_schema(*c);
    REQUIRE(expected.columns.count("events"));
    CHECK(lines(got.columns["events"]) == lines(expected.columns["events"]));
    CHECK(lines(got.indexes["events"]) == lines(expected.indexes["events"]));
    CHECK(lines(got.foreign_keys["events"]) == lines(expected.foreign_keys["events"]));
}
