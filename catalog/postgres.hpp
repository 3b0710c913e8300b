#pragma once
// A sql::Connection to PostgreSQL through libpqxx.

#include "catalog/sql.hpp"

#include <memory>
#include <string>

namespace photodrop::sql {

std::unique_ptr<Connection> connect_postgres(const std::string& url);

}  // namespace photodrop::sql
