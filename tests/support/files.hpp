#pragma once
// File helpers that report what a client sees: the errno of the call that failed.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace photodrop::test {

// Writes `bytes` at `offset` of `path` opened with `flags`; 0, or the errno of
// the first call that failed (open, write or close).
int write_file(const std::filesystem::path& path, const std::string& bytes, int flags = -1, off_t offset = 0);
// Writes `bytes` to DIR/NAME, making the folders NAME names: a local file for a client to upload; its path.
std::filesystem::path local_file(const std::filesystem::path& dir, const std::string& name, const std::string& bytes);
// The whole content of a file ("" when it cannot be read).
std::string read_file(const std::filesystem::path& path);
// The names in a folder, sorted; empty when it cannot be listed.
std::vector<std::string> list(const std::filesystem::path& dir);
// 0 or errno of mkdir.
int make_dir(const std::filesystem::path& path);
// SHA-256, hex.
std::string sha256(const std::string& bytes);
// `n` bytes of deterministic pseudo-random data (no magic number at the start).
std::string some_bytes(size_t n, uint32_t seed = 1);

}  // namespace photodrop::test
