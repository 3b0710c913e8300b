#pragma once
// The catalog's migrations in PostgreSQL's dialect: the same numbers, tables,
// columns, defaults, CHECKs and indexes as the SQLite ones in migrations.cpp.

#include <span>
#include <string_view>

namespace photodrop::sql {

// The migrations' SQL, migration 1 first; each is run with exec_script.
std::span<const std::string_view> postgres_migrations();

}  // namespace photodrop::sql
