#pragma once
// Numbered schema migrations. PRAGMA user_version holds the number of the last
// one applied; each runs in its own transaction.

#include "catalog/sqlite.hpp"

namespace photodrop::sql {

// The schema version this build writes.
int latest_schema_version();
int schema_version(Database& db);
// Applies the migrations after the file's version, up to `target` (default: all).
void migrate(Database& db, int target = latest_schema_version());

}  // namespace photodrop::sql
