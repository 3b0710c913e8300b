#include "catalog/postgres.hpp"
#include "catalog/migrations.hpp"
namespace photodrop::sql {
std::unique_ptr<Connection> connect_postgres(const std::string&) { throw Error(Error::Kind::Other, "no PostgreSQL yet"); }
std::span<const std::string_view> postgres_migrations() { return {}; }
}
