#pragma once
// Owning wrappers around the SQLite C API: every handle has an owner, every
// failure is a SqliteError that carries SQLite's code and message.

#include "catalog/sql.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace photodrop::sql {

// A failed SQLite call: the result code and SQLite's own message. Transient
// for SQLITE_BUSY / SQLITE_LOCKED (the same work may succeed later),
// Constraint for SQLITE_CONSTRAINT.
class SqliteError : public Error {
public:
    SqliteError(int code, const std::string& message);
    int code() const noexcept { return code_; }

private:
    int code_;
};

// One connection: WAL, foreign keys on, a busy timeout so that the programs
// sharing a catalog wait for each other instead of failing.
class Database {
public:
    explicit Database(const std::string& path, int busy_timeout_ms = 5000);
    sqlite3* handle() const noexcept { return db_.get(); }
    void exec(const std::string& sql);
    int64_t last_insert_id() const noexcept;
    int changes() const noexcept;
    ~Database();

private:
    friend class Statement;
    struct Close { void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); } };
    std::unique_ptr<sqlite3, Close> db_;
    // Prepared statements not in use, by SQL text: compiling a statement costs
    // more than running most of ours. Finalized before the connection closes.
    std::unordered_map<std::string, sqlite3_stmt*> idle_statements_;
};

// A prepared statement. bind() is 1-based like SQLite; column reads are 0-based.
// It is taken from the connection's idle statements when it can be, and given
// back reset (its read transaction ended) when it goes out of scope.
class Statement {
public:
    Statement(Database& db, std::string_view sql);
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    Statement& bind(int index, int64_t value);
    Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
    Statement& bind(int index, uint32_t value) { return bind(index, static_cast<int64_t>(value)); }
    Statement& bind(int index, bool value) { return bind(index, static_cast<int64_t>(value)); }
    Statement& bind(int index, double value);
    Statement& bind(int index, std::string_view value);
    Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
    Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
    Statement& bind(int index, std::nullopt_t);
    template <class T>
    Statement& bind(int index, const std::optional<T>& value) {
        return value ? bind(index, *value) : bind(index, std::nullopt);
    }
    // Binds all arguments in order, starting at 1.
    template <class... Args>
    Statement& bind_all(const Args&... args) {
        int i = 0;
        (bind(++i, args), ...);
        return *this;
    }

    // Advances to the next row; false when done.
    bool step();
    // Runs a statement that returns no rows.
    void run();
    void reset();
    sqlite3_stmt* handle() const noexcept { return stmt_.get(); }

    bool is_null(int col) const;
    int64_t get_int(int col) const;
    double get_double(int col) const;
    std::string get_text(int col) const;
    std::optional<int64_t> get_opt_int(int col) const;
    std::optional<std::string> get_opt_text(int col) const;

    // The same by the column's name in the result (its name, or its AS alias;
    // "p.id" is "id"), so that a row type is read the same whatever the order
    // of its columns in a query. Throws SqliteError for a name the query has
    // not, or has twice (two tables' "id": give one an alias).
    int column(std::string_view name) const;
    bool is_null(std::string_view name) const { return is_null(column(name)); }
    int64_t get_int(std::string_view name) const { return get_int(column(name)); }
    std::string get_text(std::string_view name) const { return get_text(column(name)); }
    std::optional<int64_t> get_opt_int(std::string_view name) const { return get_opt_int(column(name)); }
    std::optional<std::string> get_opt_text(std::string_view name) const { return get_opt_text(column(name)); }
    // Literals are names, not indexes converted to a pointer.
    bool is_null(const char* name) const { return is_null(std::string_view(name)); }
    int64_t get_int(const char* name) const { return get_int(std::string_view(name)); }
    std::string get_text(const char* name) const { return get_text(std::string_view(name)); }
    std::optional<int64_t> get_opt_int(const char* name) const { return get_opt_int(std::string_view(name)); }
    std::optional<std::string> get_opt_text(const char* name) const { return get_opt_text(std::string_view(name)); }

private:
    struct Finalize { void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); } };
    Database* db_;
    std::string sql_;
    std::unique_ptr<sqlite3_stmt, Finalize> stmt_;
    mutable std::vector<std::pair<std::string, int>> columns_;  // by name, sorted; filled at the first read by name
};

// A sql::Connection on a SQLite file (created if missing): Database and
// Statement under the engine-neutral interface.
std::unique_ptr<Connection> connect_sqlite(const std::string& path);

}  // namespace photodrop::sql
