#include "catalog/sqlite.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace photodrop::sql {

namespace {
Error::Kind kind_of(int code) {
    int primary = code & 0xff;
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) return Error::Kind::Transient;
    if (primary == SQLITE_CONSTRAINT) return Error::Kind::Constraint;
    return Error::Kind::Other;
}
}  // namespace

SqliteError::SqliteError(int code, const std::string& message) : Error(kind_of(code), message), code_(code) {}

namespace {
[[noreturn]] void fail(sqlite3* db, int code, std::string_view what) {
    throw SqliteError(code, fmt::format("{}: {} ({})", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(code),
                                        sqlite3_errstr(code)));
}
}  // namespace

Database::Database(const std::string& path, int busy_timeout_ms) {
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    db_.reset(raw);
    if (rc != SQLITE_OK) fail(raw, rc, fmt::format("cannot open catalog {}", path));
    sqlite3_extended_result_codes(raw, 1);
    sqlite3_busy_timeout(raw, busy_timeout_ms);
    exec("PRAGMA journal_mode=WAL");
    // FULL: a commit is on disk when it returns, as an upload is when close returns.
    exec("PRAGMA synchronous=FULL");
    exec("PRAGMA foreign_keys=ON");
}

void Database::exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string message = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        throw SqliteError(rc, fmt::format("{}: {}", sql.substr(0, 60), message));
    }
}

Database::~Database() {
    for (auto& [sql, stmt] : idle_statements_) sqlite3_finalize(stmt);
}

int64_t Database::last_insert_id() const noexcept { return sqlite3_last_insert_rowid(db_.get()); }
int Database::changes() const noexcept { return sqlite3_changes(db_.get()); }

Statement::Statement(Database& db, std::string_view sql) : db_(&db), sql_(sql) {
    if (auto idle = db.idle_statements_.find(sql_); idle != db.idle_statements_.end()) {
        stmt_.reset(idle->second);
        db.idle_statements_.erase(idle);
        return;
    }
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db.handle(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
    stmt_.reset(raw);
    if (rc != SQLITE_OK) fail(db.handle(), rc, fmt::format("prepare `{}`", sql.substr(0, 80)));
}

Statement::~Statement() {
    if (!stmt_) return;
    sqlite3_reset(stmt_.get());
    sqlite3_clear_bindings(stmt_.get());
    // A statement of the same text may be idle already (two were in use at once): this one is finalized.
    try {
        if (db_->idle_statements_.emplace(sql_, stmt_.get()).second) stmt_.release();
    } catch (...) {
    }
}

Statement& Statement::bind(int index, int64_t value) {
    int rc = sqlite3_bind_int64(stmt_.get(), index, value);
    if (rc != SQLITE_OK) fail(db_->handle(), rc, "bind");
    return *this;
}

Statement& Statement::bind(int index, double value) {
    int rc = sqlite3_bind_double(stmt_.get(), index, value);
    if (rc != SQLITE_OK) fail(db_->handle(), rc, "bind");
    return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
    int rc = sqlite3_bind_text(stmt_.get(), index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) fail(db_->handle(), rc, "bind");
    return *this;
}

Statement& Statement::bind(int index, std::nullopt_t) {
    int rc = sqlite3_bind_null(stmt_.get(), index);
    if (rc != SQLITE_OK) fail(db_->handle(), rc, "bind");
    return *this;
}

bool Statement::step() {
    int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_->handle(), rc, fmt::format("`{}`", std::string_view(sqlite3_sql(stmt_.get())).substr(0, 80)));
}

void Statement::run() {
    while (step()) {
    }
}

void Statement::reset() {
    sqlite3_reset(stmt_.get());
    sqlite3_clear_bindings(stmt_.get());
}

bool Statement::is_null(int col) const { return sqlite3_column_type(stmt_.get(), col) == SQLITE_NULL; }
int64_t Statement::get_int(int col) const { return sqlite3_column_int64(stmt_.get(), col); }
double Statement::get_double(int col) const { return sqlite3_column_double(stmt_.get(), col); }

std::string Statement::get_text(int col) const {
    auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_.get(), col));
    return text ? std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt_.get(), col))) : std::string();
}

std::optional<int64_t> Statement::get_opt_int(int col) const {
    if (is_null(col)) return std::nullopt;
    return get_int(col);
}

std::optional<std::string> Statement::get_opt_text(int col) const {
    if (is_null(col)) return std::nullopt;
    return get_text(col);
}

int Statement::column(std::string_view name) const {
    if (columns_.empty()) {
        int count = sqlite3_column_count(stmt_.get());
        for (int i = 0; i < count; ++i) columns_.emplace_back(sqlite3_column_name(stmt_.get(), i), i);
        std::sort(columns_.begin(), columns_.end());
    }
    auto it = std::lower_bound(columns_.begin(), columns_.end(), name,
                               [](const auto& entry, std::string_view n) { return entry.first < n; });
    if (it == columns_.end() || it->first != name)
        throw SqliteError(SQLITE_RANGE, fmt::format("no column '{}' in: {}", name, sql_));
    if (auto next = std::next(it); next != columns_.end() && next->first == name)
        throw SqliteError(SQLITE_RANGE, fmt::format("two columns are named '{}' in: {}", name, sql_));
    return it->second;
}

namespace {

class SqliteConnection final : public Connection {
public:
    explicit SqliteConnection(const std::string& path) : db_(path) {}
    Engine engine() const noexcept override { return Engine::Sqlite; }

    Rows exec(std::string_view sql, std::span<const Value> params) override {
        Statement st(db_, sql);
        sqlite3_stmt* raw = st.handle();
        // $1, $2, ...: SQLite numbers named parameters in the order they first appear.
        int count = sqlite3_bind_parameter_count(raw);
        for (int i = 1; i <= count; ++i) {
            const char* name = sqlite3_bind_parameter_name(raw, i);
            size_t n = 0;
            if (!name || name[0] != '$' || std::from_chars(name + 1, name + std::strlen(name), n).ec != std::errc() ||
                n < 1 || n > params.size())
                throw SqliteError(SQLITE_RANGE, fmt::format("parameter {} of `{}` has no value",
                                                            name ? name : "?", sql.substr(0, 80)));
            std::visit([&](const auto& v) {
                using T = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<T, std::nullptr_t>) st.bind(i, std::nullopt);
                else st.bind(i, v);
            }, params[n - 1]);
        }
        int columns = sqlite3_column_count(raw);
        std::vector<std::string> names;
        names.reserve(static_cast<size_t>(columns));
        for (int c = 0; c < columns; ++c) names.emplace_back(sqlite3_column_name(raw, c));
        std::vector<Value> cells;
        while (st.step()) {
            for (int c = 0; c < columns; ++c) {
                switch (sqlite3_column_type(raw, c)) {
                    case SQLITE_NULL: cells.emplace_back(nullptr); break;
                    case SQLITE_INTEGER: cells.emplace_back(st.get_int(c)); break;
                    default: cells.emplace_back(st.get_text(c)); break;
                }
            }
        }
        int64_t affected = sqlite3_stmt_readonly(raw) ? 0 : db_.changes();
        return Rows(std::move(names), std::move(cells), affected);
    }

    void exec_script(std::string_view sql) override { db_.exec(std::string(sql)); }

    // The safety level cannot change inside a transaction: a deferred one sets it around BEGIN and COMMIT.
    void begin(Durability durability) override {
        deferred_ = durability == Durability::Deferred;
        if (deferred_) db_.exec("PRAGMA synchronous=NORMAL");
        try {
            db_.exec("BEGIN IMMEDIATE");
        } catch (...) {
            restore_safety();
            throw;
        }
    }

    void commit() override {
        db_.exec("COMMIT");
        restore_safety();
    }

    void rollback() noexcept override {
        sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
        restore_safety();
    }

    int schema_version() override {
        Statement st(db_, "PRAGMA user_version");
        st.step();
        return static_cast<int>(st.get_int(0));
    }
    void set_schema_version(int version) override { db_.exec(fmt::format("PRAGMA user_version = {}", version)); }
    void lock_schema() override {}  // BEGIN IMMEDIATE holds the write lock already

    // One host: its programs wake each other through the ingest's socket.
    void listen(std::string_view) override {}
    void notify(std::string_view) override {}
    bool wait(int timeout_ms) override {
        sqlite3_sleep(timeout_ms);
        return false;
    }

private:
    void restore_safety() noexcept {
        if (deferred_) sqlite3_exec(db_.handle(), "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr);
        deferred_ = false;
    }

    Database db_;
    bool deferred_ = false;
};

}  // namespace

std::unique_ptr<Connection> connect_sqlite(const std::string& path) {
    return std::make_unique<SqliteConnection>(path);
}

}  // namespace photodrop::sql
