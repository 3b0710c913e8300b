#pragma once
// Disk space of the data directory, and telling "out of space" apart from
// other failures: running out of space is transient, never the upload's fault.

#include "catalog/config.hpp"

#include <cstdint>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace photodrop::ingest {

struct DiskSpace {
    int64_t free_bytes = 0;   // available to an unprivileged writer (f_bavail)
    int64_t total_bytes = 0;
};

// statvfs of the file system that holds `path` (or its nearest existing
// parent); nullopt if even that fails.
std::optional<DiskSpace> disk_space(const std::filesystem::path& path);

// Free space below which the ingest service claims nothing: the smaller of
// free_space_reserve and 64 MiB. The ingest needs little room (a thumbnail
// and a preview per photo; originals are renamed, not copied), so it keeps
// filing queued uploads after photodrop-fs, at free_space_reserve, has begun
// to refuse new ones, and stops only when the disk is all but full.
int64_t ingest_space_floor(const Config& config);
inline constexpr int64_t max_ingest_space_floor = int64_t{64} << 20;

// Whether an error text says that a disk or a quota is full (libvips and
// other C libraries give strerror's words, not an errno).
bool says_out_of_space(std::string_view text);

// Whether `e` is running out of space: a std::system_error of ENOSPC or
// EDQUOT, or any error whose text says so.
bool is_out_of_space(const std::exception& e);

}  // namespace photodrop::ingest
