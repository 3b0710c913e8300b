#pragma once
// The content-addressed store inside the data directory:
//   DATA/<tenant>/originals/<2 hex>/<hash>.<ext>
//   DATA/<tenant>/thumbnails/<2 hex>/<hash>.jpg
//   DATA/<tenant>/previews/<2 hex>/<hash>.jpg
// Paths in and out are relative to DATA, as the catalog stores them. Every
// write is durable (fsync of the file and its directory) when it returns.
// I/O failures throw std::system_error naming the path.

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace photodrop::ingest {

class Store {
public:
    explicit Store(std::filesystem::path data_dir);

    std::string original_path(const std::string& tenant, const std::string& hash, std::string_view extension) const;
    std::string thumbnail_path(const std::string& tenant, const std::string& hash) const;
    std::string preview_path(const std::string& tenant, const std::string& hash) const;
    std::filesystem::path absolute(const std::string& relative) const;

    // The original with this hash already in the store, whatever its extension.
    std::optional<std::string> find_original(const std::string& tenant, const std::string& hash) const;

    // Moves a staged upload (absolute path) to `relative`, read-only (0444),
    // without copying a byte (a hard link, then the staged name is removed).
    // An original already there has the same hash, hence the same bytes: it is
    // left untouched, and the staged copy is removed. True if it moved.
    bool move_original(const std::filesystem::path& staged, const std::string& relative) const;

    // Removes a staged copy that is no longer needed (a duplicate's). Gone already is fine.
    void remove_staged(const std::filesystem::path& staged) const;

    // Writes `bytes` to `relative` atomically: a temporary file, fsync, rename.
    void write_file(const std::string& relative, std::span<const unsigned char> bytes) const;

private:
    std::filesystem::path data_;
};

}  // namespace photodrop::ingest
