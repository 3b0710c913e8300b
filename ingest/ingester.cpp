#include "ingest/ingester.hpp"

#include "ingest/content_hash.hpp"
#include "ingest/decode_budget.hpp"
#include "ingest/disk_space.hpp"
#include "ingest/layout.hpp"
#include "ingest/refusal.hpp"
#include "ingest/retention.hpp"
#include "ingest/unique_fd.hpp"

#include <fmt/format.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <system_error>

namespace photodrop::ingest {

namespace fs = std::filesystem;

namespace {
bool is_file(const fs::path& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
}  // namespace

IngestSettings ingest_settings(const Config& config) {
    IngestSettings s;
    s.data = config.data;
    s.pixel_limit = config.pixel_limit;
    s.decode_memory = config.decode_memory;
    s.max_upload_size = config.max_upload_size;
    s.min_free_space = ingest_space_floor(config);
    s.sizes.preview = config.preview_size;
    s.sizes.thumbnail = config.thumbnail_size;
    s.read_codes = config.read_codes;
    return s;
}

std::string_view to_string(Result result) {
    switch (result) {
        case Result::Ingested: return "ingested";
        case Result::Duplicate: return "duplicate";
        case Result::Rejected: return "rejected";
        case Result::Retrying: return "retrying";
        case Result::Failed: return "failed";
        case Result::Abandoned: return "abandoned";
        case Result::WaitingForSpace: return "waiting_for_space";
    }
    return "unknown";
}

Ingester::Ingester(IngestCatalog& catalog, IngestSettings settings)
    : catalog_(catalog), settings_(std::move(settings)), store_(settings_.data) {}

Outcome Ingester::process(const Upload& upload) {
    auto started = std::chrono::steady_clock::now();
    Outcome out;
    out.upload_id = upload.id;
    out.file = upload.filename;
    naming_ = naming_of(upload);
    try {
        auto job = catalog_.job(upload.job_id);
        auto tenant = job ? catalog_.tenant(job->tenant_id) : std::nullopt;
        if (!tenant) throw std::runtime_error(fmt::format("upload {} has no job or tenant", upload.id));
        out.job = job->name;
        out.tenant = tenant->slug;
        if (upload.attempts > settings_.retry.max_attempts) {
            // Earlier attempts ended without an outcome: their claims ran out
            // (a crash in a decoder, say). Do not crash on it forever.
            out.reason = fmt::format("{} attempts ended without a result; not trying again", upload.attempts - 1);
            catalog_.set_state(upload.id, UploadState::Failed, out.reason);
            out.result = Result::Failed;
        } else {
            ingest(upload, *tenant, out);
        }
    } catch (const Refusal& refusal) {
        out.reason = stated(refusal.what(), naming_, "checking the image");
        try {
            catalog_.set_state(upload.id, UploadState::Rejected, out.reason);
            out.result = Result::Rejected;
        } catch (const std::exception& e) {
            out.result = Result::Abandoned;
            out.reason = fmt::format("{} (not recorded: {})", out.reason, e.what());
        }
    } catch (const CatalogError& e) {
        // The upload moved on without us: deleted, or its claim ran out and
        // another worker has it. Whatever we wrote is content-addressed.
        out.result = Result::Abandoned;
        out.reason = e.what();
    } catch (const std::exception& e) {
        std::string error = stated(e.what(), naming_, "processing the file");
        if (is_out_of_space(e)) wait_for_space(upload, error, out);
        else settle_failure(upload, error, out);
    }
    out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    return out;
}

void Ingester::ingest(const Upload& upload, const Tenant& tenant, Outcome& out) {
    if (upload.data_path.empty()) throw std::runtime_error(fmt::format("upload {} has no data path", upload.id));
    fs::path staged = store_.absolute(upload.data_path);

    // Where the bytes are: the staging file, or, when an earlier attempt moved
    // it and then stopped, the store.
    fs::path source;
    std::optional<std::string> stored;
    std::string hash;
    if (is_file(staged)) {
        check_size(staged);
        source = staged;
        hash = sha256_file(source);
    } else if (!upload.content_hash.empty() && (stored = store_.find_original(tenant.slug, upload.content_hash))) {
        source = store_.absolute(*stored);
        naming_.paths.push_back(*stored);
        hash = sha256_file(source);
        if (hash != upload.content_hash)
            throw std::runtime_error(fmt::format("{} does not hold the bytes of upload {}", source.string(), upload.id));
    } else {
        throw std::system_error(ENOENT, std::generic_category(),
                                fmt::format("the uploaded bytes are missing: {}", staged.string()));
    }
    if (hash != upload.content_hash) catalog_.note_content_hash(upload.id, hash);

    auto duplicate_of = [&]() -> std::optional<Photo> {
        auto twin = catalog_.photo_by_hash(upload.job_id, hash);
        if (twin && twin->upload_id != upload.id) return twin;
        return std::nullopt;
    };
    // A duplicate reads from its photo's original from now on: its own
    // staged copy goes once that is recorded.
    auto file_duplicate = [&](const Photo& twin) {
        still_claimed(upload);
        catalog_.mark_duplicate(upload.id, twin.id, hash);
        if (source == staged) store_.remove_staged(staged);
        out.result = Result::Duplicate;
        out.photo_id = twin.id;
    };
    if (auto twin = duplicate_of()) return file_duplicate(*twin);

    ImageHeader header = read_header(source.string(), settings_.pixel_limit);
    Renditions renditions = [&] {
        auto admitted = decode_budget().admit(header.decode_bytes, settings_.decode_memory);
        bool read_codes = settings_.read_codes && upload.folder.section == Section::Individuals;
        return render(source.string(), settings_.sizes, read_codes);
    }();
    // Zeros decode as data: a file never completely written shows a pattern
    // repeated, not an error. A flat image may end in zeros (an encoder's
    // shortest codes): it was let through by render().
    ImageLayout layout = layout_of(source.string(), header.format);
    if (layout.zeroed() && !renditions.flat)
        throw Refusal(fmt::format("the image holds no picture: the last {} of its {} of image data are zero bytes, "
                                  "what a file that was never completely written holds",
                                  format_size(layout.trailing_zeros), format_size(layout.scan_bytes)));

    IngestResult result;
    result.width = header.upright_width();
    result.height = header.upright_height();
    result.captured_at = header.exif.captured_at;
    result.captured_us = header.exif.captured_us;
    result.camera_make = header.exif.camera_make;
    result.camera_model = header.exif.camera_model;
    result.camera_serial = header.exif.camera_serial;
    result.orientation = header.exif.orientation;
    result.content_hash = hash;
    if (renditions.code) result.code = renditions.code->text;
    std::string note = renditions.note;
    if (layout.bytes_after > 0)
        note += fmt::format("{}{} follow the end of the image (another file appended to it?)",
                            note.empty() ? "" : "; ", format_size(layout.bytes_after));
    if (!note.empty()) result.note = stated(note, naming_, "decoding the image");
    result.original_path = stored ? *stored : store_.original_path(tenant.slug, hash, extension_of(header.format));
    result.thumbnail_path = store_.thumbnail_path(tenant.slug, hash);
    result.preview_path = store_.preview_path(tenant.slug, hash);

    if (auto twin = duplicate_of()) return file_duplicate(*twin);
    // Nothing goes into the store for an upload that is no longer ours (deleted meanwhile, say).
    still_claimed(upload);
    // The store is content-addressed: a worker of any process filing the
    // same content at the same moment writes the same files, and the
    // catalog makes one of the two uploads the duplicate of the other's photo.
    store_.write_file(result.thumbnail_path, renditions.thumbnail);
    store_.write_file(result.preview_path, renditions.preview);
    if (!stored) store_.move_original(staged, result.original_path);
    Filed filed = catalog_.file_ingest(upload.id, result);
    out.result = filed.duplicate ? Result::Duplicate : Result::Ingested;
    out.photo_id = filed.photo.id;
    if (!filed.duplicate) out.note = filed.photo.note;
}

FileNaming Ingester::naming_of(const Upload& upload) {
    FileNaming naming;
    naming.name = upload.filename;
    try {
        if (upload.folder.album_id)
            if (auto album = catalog_.album(*upload.folder.album_id)) {
                naming.name = upload.folder.in_section_folder
                                  ? fmt::format("{}/{}/{}", album->name, to_string(upload.folder.section), upload.filename)
                                  : fmt::format("{}/{}", album->name, upload.filename);
            }
    } catch (const std::exception&) {
        // The file's own name says enough.
    }
    if (!upload.data_path.empty()) {
        naming.paths.push_back(upload.data_path);
        naming.paths.push_back(store_.absolute(upload.data_path).string());
    }
    naming.data_dir = fs::absolute(settings_.data).lexically_normal().string();
    if (naming.data_dir != settings_.data) naming.paths.push_back(settings_.data + "/" + upload.data_path);
    return naming;
}

void Ingester::still_claimed(const Upload& upload) {
    // A claim that ran out (this process was stopped, say) may have been taken
    // back by photodrop-fs for a client to write again: its bytes are not ours to file.
    if (!catalog_.renew_lease(upload.id, std::chrono::nanoseconds(settings_.lease).count()))
        throw CatalogError(fmt::format("upload {} is no longer claimed (deleted, or its claim ran out)", upload.id));
}

void Ingester::check_size(const fs::path& staged) const {
    struct stat st {};
    if (::stat(staged.c_str(), &st) != 0)
        throw std::system_error(errno, std::generic_category(), fmt::format("cannot stat {}", staged.string()));
    int64_t size = st.st_size;
    if (size > settings_.max_upload_size)
        throw Refusal(fmt::format("the file is {} ({} bytes), over the upload limit of {} (max_upload_size)",
                                  format_size(size), size, format_size(settings_.max_upload_size)));
    // Fewer blocks than half its length, and a hole before its end: a file
    // made by seeking, not an uploaded photo. (Compression on the file system
    // can shrink the blocks, but never makes holes in a photo's bytes.)
    int64_t allocated = static_cast<int64_t>(st.st_blocks) * 512;
    if (size > (int64_t{1} << 20) && allocated * 2 < size) {
        UniqueFd fd(::open(staged.c_str(), O_RDONLY | O_CLOEXEC));
        off_t hole = fd ? ::lseek(fd.get(), 0, SEEK_HOLE) : -1;
        if (hole >= 0 && hole < size)
            throw Refusal(fmt::format("the file is {} long but only {} of it was written (a sparse file with holes, "
                                      "not an uploaded photo)",
                                      format_size(size), format_size(allocated)));
    }
}

void Ingester::wait_for_space(const Upload& upload, const std::string& error, Outcome& out) {
    try {
        catalog_.wait_for_space(upload.id, error,
                                now_ns() + std::chrono::nanoseconds(settings_.space_retry).count());
        out.result = Result::WaitingForSpace;
        out.reason = fmt::format("{}: {}", waiting_for_space_reason, error);
    } catch (const std::exception& e) {
        out.result = Result::Abandoned;
        out.reason = fmt::format("{} (not recorded: {}); the claim will run out", error, e.what());
    }
}

void Ingester::settle_failure(const Upload& upload, const std::string& error, Outcome& out) {
    try {
        if (settings_.retry.gives_up_after(upload.attempts)) {
            out.reason = fmt::format("gave up after {} attempts: {}", upload.attempts, error);
            catalog_.set_state(upload.id, UploadState::Failed, out.reason);
            out.result = Result::Failed;
        } else {
            auto delay = settings_.retry.delay_after(upload.attempts);
            out.reason = fmt::format("attempt {} failed, next in {} s: {}", upload.attempts, delay.count() / 1000.0,
                                     error);
            catalog_.retry_later(upload.id, error, now_ns() + std::chrono::nanoseconds(delay).count());
            out.result = Result::Retrying;
        }
    } catch (const std::exception& e) {
        out.result = Result::Abandoned;
        out.reason = fmt::format("{} (not recorded: {}); the claim will run out", error, e.what());
    }
}

}  // namespace photodrop::ingest
