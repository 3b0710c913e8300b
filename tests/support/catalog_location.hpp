#pragma once
#include <filesystem>
#include <string>
namespace photodrop::test {
inline std::string catalog_location(const std::filesystem::path& dir) { return (dir / "catalog.db").string(); }
}
