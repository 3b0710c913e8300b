#include "fusefs/ops/common.hpp"

#include "catalog/sqlite.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <iostream>
#include <system_error>
#include <vector>

namespace photodrop::fs {

void throw_errno(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

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
    } catch (const sql::SqliteError& e) {
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
        std::cerr << fmt::format("photodrop-fs: {} {}: {}\n", op, path ? path : "-", what);
    } catch (...) {
    }
    return -err;
}

struct stat attr_of_file(Filesystem& fs, const Upload& upload, uint32_t uid) {
    struct stat st = fs.file_attr(upload, uid);
    struct stat backing {};
    if (fs.is_open(upload.id) && ::stat(fs.data_file(upload.data_path).c_str(), &backing) == 0) {
        st.st_size = backing.st_size;
        st.st_blocks = backing.st_blocks;
        st.st_mtim = backing.st_mtim;
    }
    return st;
}

bool check_head(Filesystem& fs, OpenFile& file) {
    std::vector<unsigned char> head(policy::archive_check_bytes);
    ssize_t n = ::pread(file.fd.get(), head.data(), head.size(), 0);
    if (n < 0) throw_errno("read back " + file.path);
    head.resize(static_cast<size_t>(n));
    auto kind = policy::archive_signature(head);
    if (!kind) {
        if (head.size() == policy::archive_check_bytes) file.head_checked = true;
        return true;
    }
    auto reason = fmt::format("the content is a {} archive, whatever its name: archives are not accepted", *kind);
    file.refused = true;
    // The refused bytes are not kept.
    if (::ftruncate(file.fd.get(), 0) != 0) throw_errno("truncate " + file.path);
    auto upload = fs.with_catalog([&](Catalog& c) { return c.upload(file.upload_id); });
    if (upload) {
        std::filesystem::remove(fs.data_file(upload->data_path));
        fs.with_catalog([&](Catalog& c) { c.reject_without_bytes(file.upload_id, reason); });
    }
    fs.log(file.path, file.uid, "refused: " + reason);
    return false;
}

int commit_upload(Filesystem& fs, OpenFile& file, bool last) {
    if (file.refused) return -EACCES;
    if (!file.written) return 0;
    struct stat st {};
    if (::fstat(file.fd.get(), &st) != 0) throw_errno("stat " + file.path);
    if (st.st_size == 0 && !last) return 0;
    if (!file.head_checked && !check_head(fs, file)) return -EACCES;
    if (::fsync(file.fd.get()) != 0) throw_errno("fsync " + file.path);
    fs.sync_staging_dir();
    int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    bool queued = fs.with_catalog([&](Catalog& c) {
        auto upload = c.upload(file.upload_id);
        // A temporary name is queued when it is renamed to its real name.
        bool queue = upload && upload->state == UploadState::Receiving &&
                     !policy::temporary_target(upload->filename, fs.options().settings);
        c.finish_receiving(file.upload_id, st.st_size, mtime_ns, queue);
        return queue;
    });
    file.written = false;
    file.not_receiving = queued;
    fs.log(file.path, file.uid, fmt::format("received {} bytes{}", st.st_size, queued ? ", queued" : ""));
    if (queued) fs.wake_ingest(file.upload_id);
    return 0;
}

}  // namespace photodrop::fs
