#pragma once
// The catalog's SQL, whichever engine runs it: SQLite (a file, the embedded
// default) or PostgreSQL (a postgresql:// URL, for many hosts). The catalog is
// written once against Connection; what differs between the engines (the
// schema's types, row locks) is asked of engine().
//
// Parameters are written $1, $2, ... in the SQL text for both engines. A
// statement's result is read whole into Rows, and its columns by name.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace photodrop::sql {

// A parameter or a cell: NULL, an integer or text.
using Value = std::variant<std::nullptr_t, int64_t, std::string>;

inline Value to_value(std::nullptr_t) { return nullptr; }
inline Value to_value(std::nullopt_t) { return nullptr; }
inline Value to_value(int64_t v) { return v; }
inline Value to_value(int v) { return int64_t{v}; }
inline Value to_value(uint32_t v) { return int64_t{v}; }
inline Value to_value(bool v) { return int64_t{v ? 1 : 0}; }
inline Value to_value(std::string_view v) { return std::string(v); }
inline Value to_value(const std::string& v) { return v; }
inline Value to_value(const char* v) { return std::string(v); }
template <class T>
Value to_value(const std::optional<T>& v) {
    return v ? to_value(*v) : Value(nullptr);
}

// A failed statement. Transient: the same work may succeed if tried again
// (a lock, a serialization failure, a lost connection). Constraint: the
// schema refused the change (a unique index, a CHECK, a foreign key, the
// upload lifecycle's trigger); `constraint()` names it when the engine says.
class Error : public std::runtime_error {
public:
    enum class Kind { Transient, Constraint, Other };
    Error(Kind kind, const std::string& message, std::string constraint = {})
        : std::runtime_error(message), kind_(kind), constraint_(std::move(constraint)) {}
    Kind kind() const noexcept { return kind_; }
    bool transient() const noexcept { return kind_ == Kind::Transient; }
    const std::string& constraint() const noexcept { return constraint_; }

private:
    Kind kind_;
    std::string constraint_;
};

// What a statement returned: its rows, read by column name (the column's
// name or its AS alias), and how many rows it changed.
class Rows {
public:
    Rows() = default;
    Rows(std::vector<std::string> names, std::vector<Value> cells, int64_t affected);

    class Row {
    public:
        Row(const Rows& rows, size_t index) : rows_(&rows), index_(index) {}
        bool is_null(std::string_view column) const;
        int64_t integer(std::string_view column) const;  // 0 for NULL
        std::optional<int64_t> opt_integer(std::string_view column) const;
        bool flag(std::string_view column) const { return integer(column) != 0; }
        std::string text(std::string_view column) const;  // "" for NULL
        std::optional<std::string> opt_text(std::string_view column) const;

    private:
        const Value& cell(std::string_view column) const;
        const Rows* rows_;
        size_t index_;
    };

    size_t size() const noexcept { return names_.empty() ? 0 : cells_.size() / names_.size(); }
    bool empty() const noexcept { return size() == 0; }
    int64_t affected() const noexcept { return affected_; }
    Row operator[](size_t i) const { return Row(*this, i); }
    std::optional<Row> first() const { return empty() ? std::nullopt : std::optional<Row>(Row(*this, 0)); }

    class iterator {
    public:
        iterator(const Rows& rows, size_t i) : rows_(&rows), i_(i) {}
        Row operator*() const { return Row(*rows_, i_); }
        iterator& operator++() { ++i_; return *this; }
        bool operator!=(const iterator& other) const { return i_ != other.i_; }

    private:
        const Rows* rows_;
        size_t i_;
    };
    iterator begin() const { return iterator(*this, 0); }
    iterator end() const { return iterator(*this, size()); }

private:
    size_t column(std::string_view name) const;
    std::vector<std::string> names_;
    std::vector<std::pair<std::string_view, size_t>> by_name_;  // sorted; views into names_
    std::vector<Value> cells_;                                  // row after row
    int64_t affected_ = 0;
};

enum class Engine { Sqlite, Postgres };

// Durable: on disk (or on the server's disk) when commit() returns. Deferred:
// made durable by the next durable commit; for rows whose loss on a power cut
// loses nothing acknowledged.
enum class Durability { Durable, Deferred };

// One connection to a catalog. Not thread-safe: one per thread.
class Connection {
public:
    virtual ~Connection() = default;
    virtual Engine engine() const noexcept = 0;

    // Runs one statement with its parameters ($1, $2, ...).
    virtual Rows exec(std::string_view sql, std::span<const Value> params) = 0;
    template <class... Args>
    Rows run(std::string_view sql, const Args&... args) {
        if constexpr (sizeof...(Args) == 0) {
            return exec(sql, {});
        } else {
            Value values[] = {to_value(args)...};
            return exec(sql, values);
        }
    }
    // Runs statements that take no parameters, one after another (a migration).
    virtual void exec_script(std::string_view sql) = 0;

    // A transaction: on SQLite it takes the write lock at once (BEGIN
    // IMMEDIATE); on PostgreSQL it is READ COMMITTED, and what a transaction
    // reads in order to change it is read FOR UPDATE.
    virtual void begin(Durability durability) = 0;
    virtual void commit() = 0;
    virtual void rollback() noexcept = 0;

    // The number of the last migration applied (0 for an empty catalog), and
    // setting it, inside the migration's transaction. lock_schema() makes
    // other processes that migrate wait for this transaction.
    virtual int schema_version() = 0;
    virtual void set_schema_version(int version) = 0;
    virtual void lock_schema() = 0;

    // Wake-ups across processes and hosts (PostgreSQL's LISTEN/NOTIFY; on
    // SQLite, notify() does nothing and wait() only sleeps).
    virtual void listen(std::string_view channel) = 0;
    // Sent when the current transaction commits (at once outside one).
    virtual void notify(std::string_view channel) = 0;
    // Waits up to `timeout_ms` for a notification on a channel listened to;
    // true if one (or more) came.
    virtual bool wait(int timeout_ms) = 0;
};

// Whether `location` names a PostgreSQL database (postgresql:// or postgres://).
bool is_postgres_url(std::string_view location);

// `location` as it may be shown or logged: a URL's password is replaced by ***.
std::string redacted(std::string_view location);

// Whether a catalog is at `location` (a SQLite file; a PostgreSQL database
// whose tables are made), without making one. Throws sql::Error when a
// PostgreSQL server cannot be reached.
bool catalog_exists(const std::string& location);

// Opens a connection: a PostgreSQL URL, or the path of a SQLite file (created if missing).
std::unique_ptr<Connection> connect(const std::string& location);

// begin() ... commit(), rolled back by the destructor unless committed.
class Transaction {
public:
    explicit Transaction(Connection& c, Durability d = Durability::Durable) : c_(c) { c_.begin(d); }
    ~Transaction() {
        if (!done_) c_.rollback();
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit() {
        c_.commit();
        done_ = true;
    }

private:
    Connection& c_;
    bool done_ = false;
};

}  // namespace photodrop::sql
