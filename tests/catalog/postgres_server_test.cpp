// The private PostgreSQL server the catalog tests run against: it answers on
// its own socket only, and leaves nothing behind.
#include "tests/support/postgres.hpp"

#include <doctest/doctest.h>
#include <signal.h>

#include <cerrno>
#include <filesystem>

using photodrop::test::PostgresServer;

TEST_CASE("a private PostgreSQL server answers on its own socket and leaves nothing behind") {
    pid_t pid = 0;
    std::filesystem::path socket_dir;
    {
        PostgresServer pg;
        pid = pg.pid();
        socket_dir = pg.socket_dir();
        CHECK(pg.psql("SELECT 40 + 2") == "42\n");
        CHECK(pg.psql("SHOW listen_addresses") == "\n");  // no TCP port
        CHECK(pg.psql("SHOW server_encoding") == "UTF8\n");
        CHECK(pg.psql("SELECT current_database()") == "photodrop\n");
        CHECK(std::filesystem::exists(socket_dir / ".s.PGSQL.5432"));
    }
    CHECK(::kill(pid, 0) == -1);
    CHECK(errno == ESRCH);
    CHECK_FALSE(std::filesystem::exists(socket_dir.parent_path()));
}
