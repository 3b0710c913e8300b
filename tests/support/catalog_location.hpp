#pragma once
// Where a test's catalog is: a SQLite file in the test's directory, or, when
// PHOTODROP_TEST_CATALOG=postgresql, a fresh database on one private
// PostgreSQL server started for the test process (and stopped at its exit).

#include "tests/support/postgres.hpp"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>

namespace photodrop::test {

// The same `dir` gives the same catalog: the programs and tenants of one
// deployment share it.
inline std::string catalog_location(const std::filesystem::path& dir) {
    static std::mutex mutex;
    static std::map<std::filesystem::path, std::string> made_for;
    std::lock_guard lock(mutex);
    if (auto it = made_for.find(dir); it != made_for.end()) return it->second;
    const char* engine = std::getenv("PHOTODROP_TEST_CATALOG");
    if (!engine || std::string_view(engine) == "sqlite") return made_for[dir] = (dir / "catalog.db").string();
    if (std::string_view(engine) != "postgresql")
        throw std::runtime_error("PHOTODROP_TEST_CATALOG must be sqlite or postgresql");
    static PostgresServer server;
    static std::atomic<int> made{0};
    std::string name = "catalog" + std::to_string(++made);
    server.psql("CREATE DATABASE " + name);
    std::string uri = server.uri();  // postgresql://postgres@/photodrop?host=...
    auto at = uri.find("@/photodrop?");
    return made_for[dir] = uri.substr(0, at) + "@/" + name + uri.substr(at + std::string_view("@/photodrop").size());
}

}  // namespace photodrop::test
