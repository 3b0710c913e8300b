// Rows read by column name: a row type reads the same whatever the order of
// the columns in a query, and a name a query does not have, or has twice, is
// an error rather than another column's value.
#include "catalog/sqlite.hpp"
#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>

using namespace photodrop;

TEST_CASE("columns are read by their names and aliases, in any order") {
    test::TempDir dir;
    sql::Database db((dir.path() / "rows.db").string());
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, size INTEGER, note TEXT)");
    db.exec("INSERT INTO t (name, size, note) VALUES ('IMG_0001.jpg', 1234, NULL)");

    for (const char* sql : {"SELECT id, name, size, note FROM t", "SELECT note, size, name, id FROM t",
                            "SELECT x.size, x.note, x.id, x.name FROM t x"}) {
        CAPTURE(sql);
        sql::Statement st(db, sql);
        REQUIRE(st.step());
        CHECK(st.get_int("id") == 1);
        CHECK(st.get_text("name") == "IMG_0001.jpg");
        CHECK(st.get_int("size") == 1234);
        CHECK(st.is_null("note"));
        CHECK_FALSE(st.get_opt_text("note"));
        CHECK(st.get_opt_int("size") == 1234);
    }

    sql::Statement aliased(db, "SELECT a.size * 2 AS doubled, a.id AS first_id, b.id AS second_id FROM t a JOIN t b");
    REQUIRE(aliased.step());
    CHECK(aliased.get_int("doubled") == 2468);
    CHECK(aliased.get_int("first_id") == 1);
    CHECK(aliased.get_int("second_id") == 1);

    sql::Statement missing(db, "SELECT id FROM t");
    REQUIRE(missing.step());
    CHECK_THROWS_WITH_AS(missing.get_int("size"), "no column 'size' in: SELECT id FROM t", sql::SqliteError);

    sql::Statement twice(db, "SELECT a.id, b.id FROM t a JOIN t b");
    REQUIRE(twice.step());
    CHECK_THROWS_AS(twice.get_int("id"), sql::SqliteError);
}
