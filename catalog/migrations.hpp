#pragma once
// Numbered schema migrations, the same numbers for both engines: the catalog
// holds the number of the last one applied (SQLite: PRAGMA user_version;
// PostgreSQL: the table photodrop_schema); each runs in its own transaction,
// one process at a time.

#include "catalog/sql.hpp"

#include <span>
#include <string_view>

namespace photodrop::sql {

// The schema version this build writes.
int latest_schema_version();
// Applies the migrations after the catalog's version, up to `target` (default: all).
void migrate(Connection& c, int target = latest_schema_version());

// The migrations' SQL of each engine, migration 1 first.
std::span<const std::string_view> sqlite_migrations();
std::span<const std::string_view> postgres_migrations();

}  // namespace photodrop::sql
