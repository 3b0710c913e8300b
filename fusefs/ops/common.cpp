#include "fusefs/ops/common.hpp"

#include "catalog/sql.hpp"
#include "catalog/text.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>
#include <system_error>
#include <thread>
#include <vector>

namespace photodrop::fs {

void throw_errno(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

bool is_fragment(Filesystem& fs, const Upload& upload) {
    return policy::is_hidden_store(upload.filename) && !fs.is_open(upload.id);
}

int errno_of_current_exception(const char* op, const char* path) noexcept {
    int err = EIO;
    std::string what = "unknown error";
    try {
        throw;
    } catch (const std::system_error& e) {
        err = e.code().value();
        what = e.what();
    } catch (const CatalogError& e) {
        err = EACCES;
        what = e.what();
    } catch (const sql::Error& e) {
        err = EIO;
        what = e.what();
    } catch (const std::bad_alloc&) {
        err = ENOMEM;
        what = "out of memory";
    } catch (const std::exception& e) {
        what = e.what();
    } catch (...) {
    }
    try {
        std::cerr << text::shown(fmt::format("photodrop-fs: {} {}: {}", op, path ? path : "-", what)) + '\n';
    } catch (...) {
    }
    return -err;
}

struct stat attr_of_file(Filesystem& fs, const Upload& upload, uint32_t uid) {
    struct stat st = fs.file_attr(upload, uid);
    bool open = fs.is_open(upload.id);
    if (!open && upload.state != UploadState::Receiving) return st;
    Fd fd(::open(fs.data_file(upload.data_path).c_str(), O_RDONLY | O_CLOEXEC));
    struct stat backing {};
    if (!fd || ::fstat(fd.get(), &backing) != 0) return st;
    st.st_size = open ? backing.st_size : contiguous_size(fd.get());
    st.st_blocks = backing.st_blocks;
    st.st_mtim = backing.st_mtim;
    return st;
}

std::string cameras_reason(MountCatalog& c, const Filesystem& fs, const Album& album, const char* change) {
    std::vector<std::string> names;
    for (const auto& user : c.users(fs.tenant().id))
        if (user.camera_album_id == album.id) names.push_back(user.username);
    if (names.empty()) return {};
    return fmt::format("album {} is the root of camera account{} {}: it cannot be {} while {} there "
                       "(photodropctl user remove, then add the camera again)",
                       album.name, names.size() > 1 ? "s" : "", fmt::join(names, ", "), change,
                       names.size() > 1 ? "they are" : "it is");
}

std::string too_large_reason(const Filesystem& fs) {
    return fmt::format("larger than the largest upload accepted ({} bytes)", fs.options().max_upload_size);
}

bool claim_writing(Filesystem& fs, Id upload_id, const std::string& path, uint32_t uid) {
    // A client's close returns at the flush; the kernel sends the release of
    // its handle later. An open right after a close (an overwrite, a resume)
    // waits a moment for that release instead of being taken for a second writer.
    constexpr auto pause = std::chrono::milliseconds(5);
    for (int tries = 0; tries < 100; ++tries) {
        if (fs.begin_writing(upload_id)) return true;
        std::this_thread::sleep_for(pause);
    }
    fs.refuse(path, uid, busy_reason);
    return false;
}

bool lock_staging(Filesystem& fs, int fd, const std::string& path, uint32_t uid) {
    struct flock whole {};
    whole.l_type = F_WRLCK;
    whole.l_whence = SEEK_SET;
    if (::fcntl(fd, F_OFD_SETLK, &whole) == 0) return true;
    // A file system without locks: this mount's own claim is all there is.
    if (errno == ENOLCK || errno == EINVAL || errno == EOPNOTSUPP) return true;
    if (errno != EAGAIN && errno != EACCES) throw_errno("lock the staging file of " + path);
    fs.refuse(path, uid, busy_reason);
    return false;
}

int64_t contiguous_size(int fd, std::optional<int64_t> size) {
    if (!size) {
        struct stat st {};
        if (::fstat(fd, &st) != 0) throw_errno("stat");
        size = st.st_size;
    }
    off_t hole = ::lseek(fd, 0, SEEK_HOLE);
    return hole < 0 ? *size : std::min<int64_t>(hole, *size);
}

void give_back_room(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || ::ftruncate(fd, st.st_size) != 0) return;
    const timespec times[2] = {st.st_atim, st.st_mtim};
    ::futimens(fd, times);
}

void take_back(Filesystem& fs, OpenFile& file) {
    if (file.phase != OpenFile::Phase::Settled) return;
    if (fs.with_catalog([&](MountCatalog& c) { return c.reopen(file.upload_id); })) {
        file.phase = OpenFile::Phase::Receiving;
    } else {
        file.phase = OpenFile::Phase::Done;
        file.counts = false;
        file.error = EACCES;
        fs.refuse(file.path, file.uid, "this photo is being processed already: overwrite it to replace it");
    }
}

void refuse_content(Filesystem& fs, OpenFile& file, const std::string& reason, int err) {
    if (file.phase == OpenFile::Phase::Done) return;
    file.phase = OpenFile::Phase::Done;
    file.counts = false;
    file.error = err;
    // The refused bytes are not kept. The upload is ours while receiving, so
    // the staging file is the one the catalog names.
    if (::ftruncate(file.fd.get(), 0) != 0) throw_errno("truncate " + file.path);
    ::unlink(file.staging.c_str());
    fs.with_catalog([&](MountCatalog& c) { c.reject_without_bytes(file.upload_id, reason); });
    fs.quota_changed();
    fs.log(file.path, file.uid, "refused: " + reason);
    fs.forget_cached(file.path);
}

void fail_writing(Filesystem& fs, OpenFile& file, int err, int64_t at) {
    if (file.phase == OpenFile::Phase::Done) return;
    file.phase = OpenFile::Phase::Done;
    file.counts = false;
    file.error = err;
    int64_t kept = std::min(at, contiguous_size(file.fd.get()));
    ::ftruncate(file.fd.get(), kept);
    bool durable = ::fsync(file.fd.get()) == 0;
    struct stat st {};
    ::fstat(file.fd.get(), &st);
    int64_t mtime_ns = to_ns(st.st_mtim);
    fs.with_catalog([&](MountCatalog& c) { c.close_upload(file.upload_id, kept, mtime_ns); });
    fs.quota_changed();
    fs.log(file.path, file.uid,
           fmt::format("not received: {} at byte {}; {} bytes kept{}, the upload can be resumed", std::strerror(err),
                       at, kept, durable ? "" : " (not yet on disk)"));
    fs.forget_cached(file.path);
}

namespace {
// The start or the end of the file, as many bytes as the check needs.
std::vector<unsigned char> read_part(const OpenFile& file, off_t from, size_t size) {
    std::vector<unsigned char> bytes(size);
    ssize_t n = ::pread(file.fd.get(), bytes.data(), bytes.size(), from);
    if (n < 0) throw_errno("read back " + file.path);
    bytes.resize(static_cast<size_t>(n));
    return bytes;
}
}  // namespace

bool check_content(Filesystem& fs, OpenFile& file, bool whole) {
    auto kind = policy::archive_signature(read_part(file, 0, policy::archive_check_bytes));
    if (!kind && whole) {
        struct stat st {};
        if (::fstat(file.fd.get(), &st) != 0) throw_errno("stat " + file.path);
        auto tail = static_cast<off_t>(std::min<int64_t>(st.st_size, policy::archive_trailer_bytes));
        kind = policy::archive_trailer(read_part(file, st.st_size - tail, static_cast<size_t>(tail)));
    }
    if (!kind) return true;
    refuse_content(fs, file, fmt::format("the content is a {} archive, whatever its name: archives are not accepted", *kind),
                   EACCES);
    return false;
}

namespace {
// Whether the upload has its real name: a temporary name is queued when renamed to it.
bool has_real_name(const Filesystem& fs, const Upload& u) {
    return !policy::temporary_target(u.filename, fs.options().settings);
}
}  // namespace

bool queue_if_named(Filesystem& fs, Id upload_id, const std::string& path, uint32_t uid) {
    auto named = [&](const Upload& u) { return has_real_name(fs, u); };
    bool queued = fs.with_catalog([&](MountCatalog& c) { return c.queue_upload(upload_id, named); });
    if (!queued) return false;
    fs.log(path, uid, "queued");
    fs.wake_ingest(upload_id);
    return true;
}

int commit_upload(Filesystem& fs, OpenFile& file, bool last) {
    if (file.phase == OpenFile::Phase::Done) return -file.error;
    if (file.phase == OpenFile::Phase::Settled || !file.written) return 0;
    struct stat st {};
    if (::fstat(file.fd.get(), &st) != 0) throw_errno("stat " + file.path);
    if (st.st_size == 0 && !last) return 0;
    if (file.backing >= 0) {
        // The kernel wrote it (passthrough): what the write path would have refused on the way.
        if (fs.passed_the_cap(file, st.st_size)) {
            refuse_content(fs, file, too_large_reason(fs), EFBIG);
            return -EFBIG;
        }
        file.end = st.st_size;
        give_back_room(file.fd.get());
    }
    if (!fs.may_write(file.uid, file.upload_id)) {
        fs.log(file.path, file.uid, "refused: this account may no longer upload here (disabled, removed, or no longer given this job)");
        fail_writing(fs, file, EACCES, st.st_size);
        return -EACCES;
    }
    if (st.st_size != file.end) {
        fail_writing(fs, file, EIO, std::min<int64_t>(st.st_size, file.end));
        return -EIO;
    }
    if (!check_content(fs, file, true)) return -EACCES;
    // What each step of making the upload durable took, for the log line:
    // the file's fsync (its last bytes and its size), the staging folder's
    // (its name), the catalog's commit.
    using Clock = std::chrono::steady_clock;
    auto since = [](Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); };
    auto t0 = Clock::now();
    if (::fsync(file.fd.get()) != 0) {
        int err = errno;
        fail_writing(fs, file, err, st.st_size);
        return -err;
    }
    double file_ms = since(t0);
    // A gap in the file is bytes that never arrived: a size set past what was written.
    if (int64_t whole = contiguous_size(file.fd.get(), st.st_size); whole < st.st_size) {
        refuse_content(fs, file,
                       fmt::format("bytes {} to {} were never sent: a file cannot be made larger than what was written",
                                   whole, st.st_size),
                       EACCES);
        return -EACCES;
    }
    auto t1 = Clock::now();
    fs.sync_staging_dir();
    double folder_ms = since(t1);
    int64_t mtime_ns = to_ns(st.st_mtim);
    auto t2 = Clock::now();
    bool queued = fs.with_catalog([&](MountCatalog& c) {
        auto upload = c.close_upload(file.upload_id, st.st_size, mtime_ns,
                                     [&](const Upload& u) { return has_real_name(fs, u); });
        file.recorded = st.st_size;
        return upload.state == UploadState::Queued;
    });
    double catalog_ms = since(t2);
    fs.quota_changed();
    file.written = false;
    file.left_receiving = !queued;
    if (queued) file.phase = OpenFile::Phase::Settled;
    fs.log(file.path, file.uid,
           fmt::format("received {} bytes{} (on disk in {:.1f} ms: file {:.1f}, folder {:.1f}, catalog {:.1f})",
                       st.st_size, queued ? ", queued" : "", since(t0), file_ms, folder_ms, catalog_ms));
    if (queued) fs.wake_ingest(file.upload_id);
    return 0;
}

}  // namespace photodrop::fs
