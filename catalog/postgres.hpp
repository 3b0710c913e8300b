#pragma once
// A sql::Connection to PostgreSQL through libpqxx.

#include "catalog/sql.hpp"

#include <memory>
#include <string>

namespace photodrop::sql {

// Connects to `url` (postgresql://...). Each distinct SQL text is prepared
// once per connection; a connection lost outside a transaction is made again
// (with its LISTENs) by the next statement; inside one, every statement
// throws Error::Kind::Transient until rollback(). wait() returns true after a
// lost connection too: notifications may have been missed. Throws
// Error::Kind::Transient when the server cannot be reached.
std::unique_ptr<Connection> connect_postgres(const std::string& url);

}  // namespace photodrop::sql
