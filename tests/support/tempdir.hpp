#pragma once
// A temporary directory that removes itself.

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace photodrop::test {

class TempDir {
public:
    // A new directory inside `base` (default: the system's temporary directory).
    explicit TempDir(const std::filesystem::path& base = std::filesystem::temp_directory_path()) {
        std::filesystem::create_directories(base);
        std::string pattern = (base / "photodrop-test-XXXXXX").string();
        if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed in " + base.string());
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace photodrop::test
