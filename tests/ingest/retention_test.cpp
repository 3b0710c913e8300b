// Retention: each kind of leftover made for real (files on disk, rows in the
// catalog, times set back), and exactly what a purge removes and keeps.

#include "catalog/sqlite.hpp"
#include "ingest/retention.hpp"
#include "tests/ingest/fixture.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>

using namespace photodrop;
using namespace photodrop::ingest;
using photodrop::test::Bytes;
namespace fs = std::filesystem;

namespace {

constexpr int64_t day_ns = int64_t{86400} * 1'000'000'000;
constexpr int64_t hour_ns = int64_t{3600} * 1'000'000'000;

struct Retention : test::IngestFixture {
    Retention() {
        retention.data = data;
        retention.keep_deleted = std::chrono::hours(24 * 30);
        retention.keep_rejected = std::chrono::hours(24 * 7);
        retention.receiving_expiry = std::chrono::hours(24 * 7);
    }

    // Runs SQL on the catalog file, as an operator's sqlite3 would.
    void sql(const std::string& statement) {
        sql::Database db(catalog_path);
        db.exec(statement);
    }
    void set_updated(Id upload_id, int64_t ago_ns) {
        sql(fmt::format("UPDATE uploads SET updated_ns = {} WHERE id = {}", now_ns() - ago_ns, upload_id));
    }
    // Out of the ingest's way: claim_next() passes it by.
    void defer(Id upload_id) { sql(fmt::format("UPDATE uploads SET next_attempt_ns = {} WHERE id = {}", INT64_MAX, upload_id)); }
    void set_photo_deleted(Id photo_id, int64_t ago_ns) {
        sql(fmt::format("UPDATE photos SET deleted_ns = {} WHERE id = {}", now_ns() - ago_ns, photo_id));
    }
    // Sets a file's mtime `ago_ns` back.
    void age(const std::string& relative, int64_t ago_ns) {
        int64_t t = now_ns() - ago_ns;
        timespec times[2] = {{t / 1'000'000'000, t % 1'000'000'000}, {t / 1'000'000'000, t % 1'000'000'000}};
        REQUIRE(::utimensat(AT_FDCWD, absolute(relative).c_str(), times, 0) == 0);
    }
    // A staged upload in `state`, with `size` bytes on disk.
    Upload staged(const std::string& name, UploadState state, size_t size = 1000) {
        auto u = queue(Bytes(size, 0x42), name);
        if (state == UploadState::Receiving) catalog->reopen(u.id);
        else if (state == UploadState::Deleted) catalog->delete_upload(u.id);
        else if (state == UploadState::Rejected || state == UploadState::Failed) {
            REQUIRE(catalog->claim_next(60'000'000'000)->id == u.id);
            catalog->set_state(u.id, state, state == UploadState::Rejected ? "not an image" : "gave up");
        }
        return *catalog->upload(u.id);
    }
    Photo ingest_photo(const Bytes& bytes, const std::string& name, std::optional<Id> job_id = std::nullopt) {
        auto u = queue(bytes, name, job_id);
        auto outcome = ingest_next();
        REQUIRE_MESSAGE(outcome.result == Result::Ingested, outcome.reason);
        return *catalog->photo(*outcome.photo_id);
    }
    std::set<std::string> paths(const PurgeReport& report) {
        std::set<std::string> out;
        for (const auto& r : report.removed) out.insert(r.path);
        return out;
    }
    std::map<std::string, std::string> kinds(const PurgeReport& report) {
        std::map<std::string, std::string> out;
        for (const auto& r : report.removed) out[r.path] = std::string(to_string(r.kind));
        return out;
    }
    std::string write_leftover(const std::string& relative, size_t size) {
        test::write_bytes(absolute(relative), Bytes(size, 0x11));
        return relative;
    }

    RetentionSettings retention;
};

}  // namespace

TEST_CASE("purge removes exactly what retention lets go, and a dry run removes nothing") {
    Retention f;
    // Staged uploads, old and recent, in each state.
    auto rejected_old = f.staged("rejected-old.jpg", UploadState::Rejected, 1500);
    auto rejected_new = f.staged("rejected-new.jpg", UploadState::Rejected);
    auto cancelled_old = f.staged("cancelled-old.jpg", UploadState::Deleted, 2500);
    auto cancelled_new = f.staged("cancelled-new.jpg", UploadState::Deleted);
    auto abandoned = f.staged("abandoned.jpg", UploadState::Receiving);
    auto still_writing = f.staged("still-writing.jpg", UploadState::Receiving);
    auto failed_old = f.staged("failed-old.jpg", UploadState::Failed);
    auto queued_old = f.staged("queued-old.jpg", UploadState::Queued);
    f.defer(queued_old.id);
    f.set_updated(rejected_old.id, 8 * day_ns);
    f.set_updated(rejected_new.id, 6 * day_ns);
    f.set_updated(cancelled_old.id, 31 * day_ns);
    f.set_updated(cancelled_new.id, 29 * day_ns);
    f.set_updated(abandoned.id, 9 * day_ns);
    f.age(abandoned.data_path, 8 * day_ns);
    f.set_updated(still_writing.id, 9 * day_ns);  // opened long ago, but a byte arrived a minute ago
    f.age(still_writing.data_path, 60'000'000'000);
    f.set_updated(queued_old.id, 60 * day_ns);
    f.set_updated(failed_old.id, 60 * day_ns);

    // Crash leftovers: staging files no upload names, unfinished renditions.
    auto orphan_old = f.write_leftover("demo/staging/upload-Xold01", 700);
    auto orphan_new = f.write_leftover("demo/staging/upload-Xnew01", 700);
    auto tmp_old = f.write_leftover("demo/thumbnails/ab/.abcd.jpg.123-0.tmp", 300);
    auto tmp_new = f.write_leftover("demo/previews/ab/.abcd.jpg.123-1.tmp", 300);
    f.age(orphan_old, 2 * hour_ns);
    f.age(orphan_new, hour_ns / 6);
    f.age(tmp_old, 2 * hour_ns);

    // Photos: one deleted long ago whose bytes nothing else has; one deleted
    // long ago whose bytes a live photo of another job shares; one deleted recently.
    Photo gone = f.ingest_photo(test::encode(test::photo_like(640, 480, 1), ".jpg"), "gone.jpg");
    Bytes shared_bytes = test::encode(test::photo_like(640, 480, 2), ".jpg");
    Photo shared = f.ingest_photo(shared_bytes, "shared.jpg");
    Job autumn = f.catalog->add_job(f.tenant.id, "job00002", "Autumn", Layout::Flat, JobStatus::Planned);
    Photo sharer = f.ingest_photo(shared_bytes, "shared.jpg", autumn.id);
    Photo recent = f.ingest_photo(test::encode(test::photo_like(640, 480, 3), ".jpg"), "recent.jpg");
    for (const Photo& p : {gone, shared, recent}) f.catalog->delete_upload(p.upload_id);
    f.set_photo_deleted(gone.id, 31 * day_ns);
    f.set_updated(gone.upload_id, 31 * day_ns);
    f.set_photo_deleted(shared.id, 31 * day_ns);
    f.set_updated(shared.upload_id, 31 * day_ns);
    f.set_photo_deleted(recent.id, 29 * day_ns);
    CHECK(sharer.original_path == shared.original_path);

    // A duplicate filed before duplicates read from their photo's original:
    // its own copy is still staged.
    auto legacy = f.staged("copy of sharer.jpg", UploadState::Queued, 900);
    REQUIRE(f.catalog->claim_next(60'000'000'000)->id == legacy.id);
    f.catalog->mark_duplicate(legacy.id, sharer.id, sharer.content_hash);
    f.sql(fmt::format("UPDATE uploads SET data_path = '{}' WHERE id = {}", legacy.data_path, legacy.id));

    std::set<std::string> expected{rejected_old.data_path, cancelled_old.data_path, orphan_old,          tmp_old,
                                   gone.original_path,     gone.thumbnail_path,     gone.preview_path, legacy.data_path};

    // A dry run: the plan, and not a file or a row changed.
    auto plan = purge(*f.catalog, f.retention, true);
    CHECK(plan.dry_run);
    CHECK(f.paths(plan) == expected);
    REQUIRE(plan.expired.size() == 1);
    CHECK(plan.expired[0].upload_id == abandoned.id);
    for (const auto& p : expected) CHECK_MESSAGE(fs::exists(f.absolute(p)), p);
    CHECK(f.catalog->upload(abandoned.id)->state == UploadState::Receiving);
    CHECK(f.catalog->upload(rejected_old.id)->data_path == rejected_old.data_path);
    CHECK(f.catalog->upload(legacy.id)->data_path == legacy.data_path);

    auto kinds = f.kinds(plan);
    CHECK(kinds[rejected_old.data_path] == "rejected");
    CHECK(kinds[cancelled_old.data_path] == "deleted");
    CHECK(kinds[orphan_old] == "orphan");
    CHECK(kinds[tmp_old] == "unfinished");
    CHECK(kinds[gone.original_path] == "original");
    CHECK(kinds[gone.thumbnail_path] == "thumbnail");
    CHECK(kinds[gone.preview_path] == "preview");
    CHECK(kinds[legacy.data_path] == "duplicate");
    for (const auto& r : plan.removed)
        if (r.path == rejected_old.data_path) {
            CHECK(r.bytes == 1500);
            CHECK(r.tenant == "demo");
            CHECK(r.why.find("rejected 8d ago") != std::string::npos);
        } else if (r.path == cancelled_old.data_path) {
            CHECK(r.bytes == 2500);
            CHECK(r.why.find("cancelled 31d ago") != std::string::npos);
        }

    // The purge itself removes the same, and records it.
    auto report = purge(*f.catalog, f.retention, false);
    CHECK_FALSE(report.dry_run);
    CHECK(f.paths(report) == expected);
    CHECK(report.problems.empty());
    CHECK(report.total().files == plan.total().files);
    CHECK(report.total().bytes == plan.total().bytes);
    for (const auto& p : expected) CHECK_FALSE_MESSAGE(fs::exists(f.absolute(p)), p);

    CHECK(f.catalog->upload(rejected_old.id)->data_path.empty());
    CHECK(f.catalog->upload(rejected_old.id)->state == UploadState::Rejected);
    CHECK_FALSE(is_visible(*f.catalog->upload(rejected_old.id)));  // gone from the folder with its bytes
    CHECK(f.catalog->upload(cancelled_old.id)->data_path.empty());
    auto expired = f.catalog->upload(abandoned.id);
    CHECK(expired->state == UploadState::Rejected);
    CHECK(expired->reason == "incomplete upload: no byte for 8d");
    CHECK(fs::exists(f.absolute(abandoned.data_path)));  // kept like any rejected upload's, for keep_rejected
    CHECK(f.catalog->upload(legacy.id)->data_path == sharer.original_path);
    CHECK(f.catalog->upload(gone.upload_id)->data_path.empty());

    // Everything else stays.
    for (const auto& u : {rejected_new, cancelled_new, still_writing, queued_old, failed_old}) {
        CAPTURE(u.filename);
        CHECK(fs::exists(f.absolute(u.data_path)));
        CHECK(f.catalog->upload(u.id)->data_path == u.data_path);
        CHECK(f.catalog->upload(u.id)->state == u.state);
    }
    for (const auto& p : {orphan_new, tmp_new}) CHECK(fs::exists(f.absolute(p)));
    for (const Photo& p : {shared, sharer, recent})
        for (const auto& path : {p.original_path, p.thumbnail_path, p.preview_path})
            CHECK_MESSAGE(fs::exists(f.absolute(path)), path);

    // Nothing is left to do, and nothing is removed twice.
    auto again = purge(*f.catalog, f.retention, false);
    CHECK(again.removed.empty());
    CHECK(again.expired.empty());
    CHECK(again.summary() == "removed nothing");
}

TEST_CASE("purge keeps a deleted photo's files while an upload still names its content") {
    Retention f;
    Bytes bytes = test::encode(test::photo_like(500, 400, 7), ".jpg");
    Photo photo = f.ingest_photo(bytes, "a.jpg");
    f.catalog->delete_upload(photo.upload_id);
    f.set_photo_deleted(photo.id, 40 * day_ns);
    f.set_updated(photo.upload_id, 40 * day_ns);

    // The same bytes again, queued: the ingest will file them from the store.
    auto again = f.queue(bytes, "a again.jpg");
    f.catalog->note_content_hash(again.id, photo.content_hash);
    CHECK(purge(*f.catalog, f.retention, false).removed.empty());
    CHECK(fs::exists(f.absolute(photo.original_path)));

    // Once that upload is cancelled long enough ago, the files go.
    f.catalog->delete_upload(again.id);
    f.set_updated(again.id, 40 * day_ns);
    auto report = purge(*f.catalog, f.retention, false);
    CHECK(f.paths(report) == std::set<std::string>{again.data_path, photo.original_path, photo.thumbnail_path,
                                                   photo.preview_path});
}

TEST_CASE("usage adds up: areas and states, live and purgeable") {
    Retention f;
    auto rejected_old = f.staged("rejected-old.jpg", UploadState::Rejected, 1500);
    f.set_updated(rejected_old.id, 8 * day_ns);
    f.defer(f.staged("queued.jpg", UploadState::Queued, 3000).id);
    f.staged("receiving.jpg", UploadState::Receiving, 4000);
    auto orphan = f.write_leftover("demo/staging/upload-Xorph1", 700);
    f.age(orphan, 2 * hour_ns);
    Photo photo = f.ingest_photo(test::encode(test::photo_like(640, 480, 4), ".jpg"), "a.jpg");

    auto tenants = usage(*f.catalog, f.retention);
    REQUIRE(tenants.size() == 1);
    const auto& t = tenants[0];
    CHECK(t.tenant == "demo");
    std::map<std::pair<std::string, std::string>, UsageLine> lines;
    Tally sum, purgeable;
    for (const auto& l : t.lines) {
        lines[{l.area, l.kind}] = l;
        sum.files += l.stored.files;
        sum.bytes += l.stored.bytes;
        purgeable.files += l.purgeable.files;
        purgeable.bytes += l.purgeable.bytes;
    }
    CHECK(sum.files == t.total.files);
    CHECK(sum.bytes == t.total.bytes);
    CHECK(purgeable.bytes == t.purgeable.bytes);
    CHECK(lines[{"staging", "rejected"}].stored.bytes == 1500);
    CHECK(lines[{"staging", "rejected"}].purgeable.bytes == 1500);
    CHECK(lines[{"staging", "queued"}].stored.bytes == 3000);
    CHECK(lines[{"staging", "queued"}].purgeable.files == 0);
    CHECK(lines[{"staging", "receiving"}].stored.bytes == 4000);
    CHECK(lines[{"staging", "orphan"}].stored.bytes == 700);
    CHECK(lines[{"staging", "orphan"}].purgeable.bytes == 700);
    CHECK(lines[{"originals", "stored"}].stored.files == 1);
    CHECK(lines[{"originals", "stored"}].stored.bytes ==
          static_cast<int64_t>(fs::file_size(f.absolute(photo.original_path))));
    CHECK(lines[{"thumbnails", "stored"}].stored.files == 1);
    CHECK(lines[{"previews", "stored"}].stored.files == 1);
    CHECK(t.purgeable.files == 2);
    CHECK(t.purgeable.bytes == 2200);
    CHECK(t.purgeable.bytes == purge(*f.catalog, f.retention, true).total().bytes);
}

TEST_CASE("renditions no photo names are purged once old; a photo's renditions and any original stay") {
    Retention f;
    Photo kept = f.ingest_photo(test::encode(test::photo_like(640, 480, 7), ".jpg"), "kept.jpg");
    auto lost_thumbnail = f.write_leftover("demo/thumbnails/cd/cdef.jpg", 300);
    auto lost_preview = f.write_leftover("demo/previews/cd/cdef.jpg", 3000);
    auto young_preview = f.write_leftover("demo/previews/ef/ef01.jpg", 3000);
    auto unnamed_original = f.write_leftover("demo/originals/cd/cdef.jpg", 5000);
    for (const auto& path : {lost_thumbnail, lost_preview, unnamed_original, kept.thumbnail_path, kept.preview_path,
                             kept.original_path})
        f.age(path, 2 * hour_ns);
    f.age(young_preview, hour_ns / 6);

    auto tenants = usage(*f.catalog, f.retention);
    REQUIRE(tenants.size() == 1);
    std::map<std::string, int64_t> bytes_of;
    for (const auto& line : tenants[0].lines) bytes_of[line.kind] += line.stored.bytes;
    CHECK(bytes_of["orphan"] == 300 + 3000 + 3000);  // the young one is an orphan too, not yet purgeable
    CHECK(bytes_of["unfiled"] == 5000);

    auto report = purge(*f.catalog, f.retention, false);
    CHECK(f.paths(report) == std::set<std::string>{lost_thumbnail, lost_preview});
    CHECK(f.kinds(report)[lost_preview] == "orphan");
    for (const auto& path : {young_preview, unnamed_original, kept.thumbnail_path, kept.preview_path,
                             kept.original_path})
        CHECK(fs::exists(f.absolute(path)));
}
