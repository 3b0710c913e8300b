#include "ingest/store.hpp"

#include "ingest/format.hpp"
#include "ingest/unique_fd.hpp"

#include <fcntl.h>
#include <stdio.h>  // renameat2
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <system_error>

namespace photodrop::ingest {

namespace fs = std::filesystem;

namespace {
[[noreturn]] void fail(const std::string& what, const fs::path& path) {
    throw std::system_error(errno, std::generic_category(), fmt::format("{} {}", what, path.string()));
}

void fsync_dir(const fs::path& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) fail("cannot open directory", dir);
    if (::fsync(fd.get()) != 0) fail("cannot fsync directory", dir);
}

void make_dirs(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw std::system_error(ec, fmt::format("cannot create directory {}", dir.string()));
}

std::string sharded(const std::string& tenant, std::string_view kind, const std::string& hash,
                    std::string_view extension) {
    return fmt::format("{}/{}/{}/{}.{}", tenant, kind, hash.substr(0, 2), hash, extension);
}
}  // namespace

Store::Store(fs::path data_dir) : data_(std::move(data_dir)) {}

std::string Store::original_path(const std::string& tenant, const std::string& hash,
                                  std::string_view extension) const {
    return sharded(tenant, "originals", hash, extension);
}

std::string Store::thumbnail_path(const std::string& tenant, const std::string& hash) const {
    return sharded(tenant, "thumbnails", hash, "jpg");
}

std::string Store::preview_path(const std::string& tenant, const std::string& hash) const {
    return sharded(tenant, "previews", hash, "jpg");
}

fs::path Store::absolute(const std::string& relative) const { return data_ / relative; }

std::optional<std::string> Store::find_original(const std::string& tenant, const std::string& hash) const {
    for (auto extension : store_extensions) {
        auto relative = original_path(tenant, hash, extension);
        struct stat st {};
        if (::stat(absolute(relative).c_str(), &st) == 0 && S_ISREG(st.st_mode)) return relative;
    }
    return std::nullopt;
}

bool Store::move_original(const fs::path& staged, const std::string& relative) const {
    fs::path target = absolute(relative);
    make_dirs(target.parent_path());
    // Read-only before it is in the store: nothing there is ever writable.
    if (::chmod(staged.c_str(), 0444) != 0) fail("cannot make read-only", staged);
    // Never rename() over an original: it is in the store for good. Where
    // RENAME_NOREPLACE is not supported (NFS), a hard link refuses an existing
    // target as well.
    bool moved = ::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) == 0;
    int error = moved ? 0 : errno;
    if (error == EINVAL || error == ENOSYS) {
        moved = ::link(staged.c_str(), target.c_str()) == 0;
        error = moved ? 0 : errno;
        if (moved && ::unlink(staged.c_str()) != 0) fail("cannot remove", staged);
    }
    if (!moved && error != EEXIST)
        throw std::system_error(error, std::generic_category(),
                                fmt::format("cannot move {} to {}", staged.string(), target.string()));
    if (!moved && ::unlink(staged.c_str()) != 0) fail("cannot remove", staged);  // the store has it already
    if (moved) fsync_dir(target.parent_path());
    fsync_dir(staged.parent_path());
    return moved;
}

void Store::remove_staged(const fs::path& staged) const {
    if (::unlink(staged.c_str()) != 0 && errno != ENOENT) fail("cannot remove", staged);
}

void Store::write_file(const std::string& relative, std::span<const unsigned char> bytes) const {
    static std::atomic<unsigned> counter{0};
    fs::path target = absolute(relative);
    make_dirs(target.parent_path());
    fs::path temporary = target.parent_path() / fmt::format(".{}.{}-{}.tmp", target.filename().string(), ::getpid(),
                                                            counter.fetch_add(1));
    try {
        UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
        if (!fd) fail("cannot create", temporary);
        for (size_t done = 0; done < bytes.size();) {
            ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
            if (n < 0) {
                if (errno == EINTR) continue;
                fail("cannot write", temporary);
            }
            done += static_cast<size_t>(n);
        }
        if (::fsync(fd.get()) != 0) fail("cannot fsync", temporary);
        if (::rename(temporary.c_str(), target.c_str()) != 0) fail("cannot rename to", target);
    } catch (...) {
        ::unlink(temporary.c_str());
        throw;
    }
    fsync_dir(target.parent_path());
}

}  // namespace photodrop::ingest
