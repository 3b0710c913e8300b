#include "catalog/postgres.hpp"

#include <fmt/format.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <set>
#include <unordered_map>

namespace photodrop::sql {

namespace {

// Held by lock_schema() until the migration's transaction ends ("photodro" in ASCII).
constexpr int64_t schema_lock_key = 0x70686f746f64726f;

constexpr pqxx::oid bool_oid = 16;
constexpr pqxx::oid int8_oid = 20;
constexpr pqxx::oid int2_oid = 21;
constexpr pqxx::oid int4_oid = 23;

// The statement as an error shows it: whitespace collapsed, the first 80 characters.
std::string head(std::string_view sql) {
    std::string out;
    for (char c : sql) {
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            if (!out.empty() && out.back() != ' ') out += ' ';
        } else {
            out += c;
        }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    if (out.size() > 80) out = out.substr(0, 80) + "...";
    return out;
}

// The server's message on one line, without its severity.
std::string server_message(std::string_view what) {
    for (std::string_view severity : {"ERROR:  ", "FATAL:  "})
        if (what.starts_with(severity)) what.remove_prefix(severity.size());
    std::string out;
    for (char c : what) out += c == '\n' ? std::string("; ") : std::string(1, c);
    while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
    return out;
}

// `constraint "name"` in PostgreSQL's message of a constraint violation.
std::string constraint_named(std::string_view message) {
    constexpr std::string_view marker = "constraint \"";
    auto at = message.find(marker);
    if (at == std::string_view::npos) return {};
    at += marker.size();
    auto end = message.find('"', at);
    if (end == std::string_view::npos) return {};
    return std::string(message.substr(at, end - at));
}

// Lost connections, lock timeouts, deadlocks and serialization failures pass; retrying may succeed.
bool transient_state(std::string_view sqlstate) {
    return sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03" || sqlstate.starts_with("08") ||
           sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03";
}

Rows to_rows(const pqxx::result& r) {
    enum class Cell { Text, Integer, Bool };
    const auto columns = r.columns();
    std::vector<std::string> names;
    std::vector<Cell> kinds;
    names.reserve(columns);
    kinds.reserve(columns);
    for (pqxx::row::size_type c = 0; c < columns; ++c) {
        names.emplace_back(r.column_name(c));
        auto type = r.column_type(c);
        kinds.push_back(type == bool_oid                                           ? Cell::Bool
                        : type == int2_oid || type == int4_oid || type == int8_oid ? Cell::Integer
                                                                                   : Cell::Text);
    }
    std::vector<Value> cells;
    cells.reserve(r.size() * columns);
    for (pqxx::result::size_type i = 0; i < r.size(); ++i) {
        const auto row = r[i];
        for (pqxx::row::size_type c = 0; c < columns; ++c) {
            const auto field = row[c];
            if (field.is_null()) {
                cells.emplace_back(nullptr);
            } else if (kinds[c] == Cell::Bool) {
                cells.emplace_back(int64_t{field.c_str()[0] == 't' ? 1 : 0});
            } else if (kinds[c] == Cell::Integer) {
                int64_t v = 0;
                std::from_chars(field.c_str(), field.c_str() + field.size(), v);
                cells.emplace_back(v);
            } else {
                cells.emplace_back(std::string(field.c_str(), field.size()));
            }
        }
    }
    return Rows(std::move(names), std::move(cells), static_cast<int64_t>(r.affected_rows()));
}

class PostgresConnection final : public Connection {
public:
    explicit PostgresConnection(std::string url) : url_(std::move(url)) { connect(); }
    ~PostgresConnection() override { drop(); }
    PostgresConnection(const PostgresConnection&) = delete;
    PostgresConnection& operator=(const PostgresConnection&) = delete;

    Engine engine() const noexcept override { return Engine::Postgres; }

    Rows exec(std::string_view sql, std::span<const Value> params) override {
        usable();
        try {
            const std::string& name = prepared(sql);
            // Every parameter goes as text (NULL as a null) and the server infers its type.
            std::vector<std::string> texts(params.size());
            std::vector<const char*> values(params.size(), nullptr);
            for (size_t i = 0; i < params.size(); ++i) {
                if (auto* n = std::get_if<int64_t>(&params[i])) {
                    texts[i] = std::to_string(*n);
                } else if (auto* s = std::get_if<std::string>(&params[i])) {
                    texts[i] = *s;
                } else {
                    continue;
                }
                values[i] = texts[i].c_str();
            }
            pqxx::nontransaction tx(*conn_);
            return to_rows(tx.exec_prepared(name, pqxx::prepare::make_dynamic_params(values)));
        } catch (...) {
            fail(sql);
        }
    }

    void exec_script(std::string_view sql) override {
        simple(sql);
        // The script may have changed what a prepared statement returns (SELECT * after ADD COLUMN).
        for (const auto& [text, name] : statements_) {
            try {
                conn_->unprepare(name);
            } catch (...) {  // a statement never prepared, or the connection lost: nothing to free
            }
        }
        statements_.clear();
    }

    void begin(Durability durability) override {
        if (in_transaction_) throw Error(Error::Kind::Other, "PostgreSQL: begin() inside a transaction");
        usable();
        simple("BEGIN ISOLATION LEVEL READ COMMITTED");
        in_transaction_ = true;
        aborted_ = false;
        if (durability == Durability::Deferred) {
            try {
                simple("SET LOCAL synchronous_commit = off");
            } catch (...) {
                rollback();
                throw;
            }
        }
    }

    void commit() override {
        if (!in_transaction_) throw Error(Error::Kind::Other, "PostgreSQL: commit() outside a transaction");
        in_transaction_ = false;  // over, whatever COMMIT answers
        if (broken_) throw Error(Error::Kind::Transient, "PostgreSQL: the connection was lost in the transaction");
        if (aborted_) {
            simple("ROLLBACK");  // what COMMIT would do, silently
            throw Error(Error::Kind::Other, "PostgreSQL: the transaction was rolled back: a statement in it had failed");
        }
        simple("COMMIT");
    }

    void rollback() noexcept override {
        if (!in_transaction_) return;
        in_transaction_ = false;
        if (broken_ || !conn_) return;
        try {
            pqxx::nontransaction tx(*conn_);
            tx.exec("ROLLBACK");
        } catch (...) {
            broken_ = true;  // the session's state is unknown: the next statement starts a new one
        }
    }

    int schema_version() override {
        if (!run("SELECT to_regclass('photodrop_schema') IS NOT NULL AS present")[0].flag("present")) return 0;
        auto rows = run("SELECT version FROM photodrop_schema");
        return rows.empty() ? 0 : static_cast<int>(rows[0].integer("version"));
    }

    void set_schema_version(int version) override {
        if (run("UPDATE photodrop_schema SET version = $1", version).affected() == 0)
            run("INSERT INTO photodrop_schema(version) VALUES ($1)", version);
    }

    void lock_schema() override {
        if (!in_transaction_) throw Error(Error::Kind::Other, "PostgreSQL: lock_schema() outside a transaction");
        simple(fmt::format("SELECT pg_advisory_xact_lock({})", schema_lock_key));
        // Under the lock, so that two processes never both create it (IF NOT EXISTS would print a notice).
        if (!run("SELECT to_regclass('photodrop_schema') IS NOT NULL AS present")[0].flag("present"))
            simple("CREATE TABLE photodrop_schema (version INTEGER NOT NULL)");
    }

    void listen(std::string_view channel) override {
        std::string name(channel);
        if (channels_.contains(name)) return;
        usable();
        start_listening(name);
        channels_.insert(std::move(name));
    }

    void notify(std::string_view channel) override { run("SELECT pg_notify($1, '')", channel); }

    bool wait(int timeout_ms) override {
        if (notifications_ > 0) return take_notifications();
        if (broken_ || !conn_) {
            usable();  // a new session LISTENs again; what came meanwhile is unknown
            return true;
        }
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(timeout_ms, 0));
        for (;;) {  // at least once: a notification may be waiting already
            auto left = std::max<int64_t>(
                0, std::chrono::duration_cast<std::chrono::microseconds>(deadline - std::chrono::steady_clock::now())
                       .count());
            try {
                conn_->await_notification(static_cast<long>(left / 1000000), static_cast<long>(left % 1000000));
            } catch (const pqxx::broken_connection&) {
                broken_ = true;
                return true;
            } catch (...) {
                fail("(waiting for a notification)");
            }
            if (notifications_ > 0) return take_notifications();
            if (std::chrono::steady_clock::now() >= deadline) return false;
        }
    }

private:
    // Counts the notifications of one channel for wait().
    class Receiver final : public pqxx::notification_receiver {
    public:
        Receiver(pqxx::connection_base& c, const std::string& channel, int& count)
            : pqxx::notification_receiver(c, channel), count_(count) {}
        void operator()(const std::string&, int) override { ++count_; }

    private:
        int& count_;
    };

    void connect() {
        try {
            conn_ = std::make_unique<pqxx::connection>(url_);
            broken_ = false;
            for (const auto& channel : channels_) start_listening(channel);
        } catch (const Error&) {
            drop();
            throw;
        } catch (const std::exception& e) {
            drop();
            throw Error(Error::Kind::Transient,
                        fmt::format("PostgreSQL: cannot connect to the catalog: {}", server_message(e.what())));
        }
    }

    // Closes the session. Disconnecting first lets the receivers go without an UNLISTEN.
    void drop() noexcept {
        if (conn_) conn_->disconnect();
        receivers_.clear();
        conn_.reset();
        statements_.clear();
    }

    // A new session after a lost one, outside a transaction; inside one the caller retries it whole.
    void usable() {
        if (conn_ && !broken_) return;
        if (in_transaction_)
            throw Error(Error::Kind::Transient, "PostgreSQL: the connection was lost in the transaction");
        drop();
        connect();
    }

    void start_listening(const std::string& channel) {
        std::string sql = "LISTEN " + conn_->quote_name(channel);
        simple(sql);
        receivers_.push_back(std::make_unique<Receiver>(*conn_, channel, notifications_));
    }

    bool take_notifications() {
        bool came = notifications_ > 0;
        notifications_ = 0;
        return came;
    }

    // The name of the statement prepared for `sql` on this session.
    const std::string& prepared(std::string_view sql) {
        auto [it, fresh] = statements_.try_emplace(std::string(sql));
        if (fresh) {
            it->second = fmt::format("photodrop_{}", ++statements_made_);
            try {
                conn_->prepare(it->second, it->first);  // sent with its first execution
            } catch (...) {
                statements_.erase(it);
                throw;
            }
        }
        return it->second;
    }

    // Statements without parameters, through the simple query protocol (several may be given).
    pqxx::result simple(std::string_view sql) {
        usable();
        try {
            pqxx::nontransaction tx(*conn_);
            return tx.exec(std::string(sql));
        } catch (...) {
            fail(sql);
        }
    }

    // The exception in flight as an sql::Error.
    [[noreturn]] void fail(std::string_view sql) {
        if (!conn_ || !conn_->is_open()) broken_ = true;
        if (in_transaction_) aborted_ = true;  // PostgreSQL ignores what follows in it, and COMMIT rolls it back
        try {
            throw;
        } catch (const Error&) {
            throw;
        } catch (const pqxx::broken_connection& e) {
            broken_ = true;
            throw Error(Error::Kind::Transient, describe(e.what(), sql));
        } catch (const pqxx::transaction_rollback& e) {  // deadlock, serialization failure
            throw Error(Error::Kind::Transient, describe(e.what(), sql));
        } catch (const pqxx::sql_error& e) {
            if (broken_ || transient_state(e.sqlstate()))
                throw Error(Error::Kind::Transient, describe(e.what(), sql));
            if (e.sqlstate().starts_with("23"))
                throw Error(Error::Kind::Constraint, describe(e.what(), sql), constraint_named(e.what()));
            throw Error(Error::Kind::Other, describe(e.what(), sql));
        } catch (const std::exception& e) {
            throw Error(broken_ ? Error::Kind::Transient : Error::Kind::Other, describe(e.what(), sql));
        }
    }

    static std::string describe(std::string_view what, std::string_view sql) {
        return fmt::format("PostgreSQL: {} (in: {})", server_message(what), head(sql));
    }

    std::string url_;
    std::unique_ptr<pqxx::connection> conn_;
    std::vector<std::unique_ptr<Receiver>> receivers_;  // on conn_, one per channel; gone before it
    std::set<std::string> channels_;                    // listened to, again on a new session
    std::unordered_map<std::string, std::string> statements_;  // SQL text -> its prepared statement on conn_
    int statements_made_ = 0;
    int notifications_ = 0;  // counted by the receivers since wait() last took them
    bool broken_ = false;    // conn_ lost: nothing more is sent on it
    bool in_transaction_ = false;
    bool aborted_ = false;  // a statement of the transaction failed
};

}  // namespace

std::unique_ptr<Connection> connect_postgres(const std::string& url) {
    return std::make_unique<PostgresConnection>(url);
}

}  // namespace photodrop::sql
