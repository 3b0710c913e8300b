#pragma once
// A private PostgreSQL server for tests: a new cluster in a temporary
// directory, listening only on a Unix socket in that directory (no TCP port),
// run as the `postgres` system user, stopped by its PID and removed after.
// Durability is off (fsync, synchronous_commit): a test's data outlives no crash.

#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"

#include <filesystem>
#include <string>

namespace photodrop::test {

class PostgresServer {
public:
    // initdb, start, wait until it answers, create database `photodrop`.
    // Throws with the server's log when any step fails (PostgreSQL not
    // installed, no `postgres` user, a server that does not come up).
    PostgresServer();
    ~PostgresServer();  // fast shutdown, then the directory goes
    PostgresServer(const PostgresServer&) = delete;
    PostgresServer& operator=(const PostgresServer&) = delete;

    // A libpq connection URI for the database `photodrop`.
    std::string uri() const;
    // Runs `sql` through psql; returns what it printed (unaligned, tuples only).
    std::string psql(const std::string& sql) const;
    const std::filesystem::path& socket_dir() const { return socket_dir_; }
    pid_t pid() const { return server_.pid(); }
    std::string log() const;

private:
    TempDir dir_;
    std::filesystem::path socket_dir_;
    Process server_;
};

// The directory of PostgreSQL's server programs (initdb, postgres), newest version installed.
std::filesystem::path postgres_bin_dir();

}  // namespace photodrop::test
