// Events: written in the transaction of the change they report, read on from
// an id. Run on SQLite and, as test_catalog_postgresql, on PostgreSQL.

#include "catalog/catalog.hpp"
#include "tests/support/catalog_location.hpp"
#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

using namespace photodrop;
using json = nlohmann::json;

namespace {

struct Fixture {
    test::TempDir dir;
    std::string location = test::catalog_location(dir.path());
    std::unique_ptr<Catalog> cat = open_catalog(location);
    Tenant tenant = cat->add_tenant("demo", "Demo Studio");
    Tenant other = cat->add_tenant("other", "Other Studio");
    Job job = cat->add_job(tenant.id, "job00001", "Spring pictures", Layout::Albums, JobStatus::Planned);
    SftpUser anna = cat->add_user(tenant.id, "anna", 2001, {});
    Id seen = last_id();

    Id last_id() {
        auto all = cat->events(std::nullopt, 0, 100000);
        return all.empty() ? 0 : all.back().id;
    }
    // The events written since the last call.
    std::vector<Event> since() {
        auto fresh = cat->events(std::nullopt, seen, 1000);
        if (!fresh.empty()) seen = fresh.back().id;
        return fresh;
    }
    std::vector<std::string> types(const std::vector<Event>& events) {
        std::vector<std::string> out;
        for (const auto& e : events) out.push_back(e.type);
        return out;
    }
    Upload queued(const std::string& name, std::optional<Id> album = std::nullopt, Section section = Section::Individuals) {
        NewUpload n;
        n.job_id = job.id;
        n.folder = Folder{album, section, section == Section::Group};
        n.filename = name;
        n.uid = anna.uid;
        n.data_path = "demo/staging/" + name;
        auto u = cat->add_upload(n);
        cat->close_upload(u.id, 1234, 1, queue_always);
        return u;
    }
    IngestResult result(const std::string& hash) {
        IngestResult r;
        r.width = 4000;
        r.height = 3000;
        r.captured_at = "2026-05-04T10:11:12";
        r.camera_make = "Canon";
        r.camera_model = "EOS R6";
        r.camera_serial = "0123";
        r.content_hash = hash;
        r.original_path = "demo/originals/" + hash + ".jpg";
        return r;
    }
};

}  // namespace

TEST_CASE("each change a platform cares about is an event, with what it needs to know") {
    Fixture f;
    auto album = f.cat->add_album(f.job.id, "Class 1A");
    auto e = f.since();
    REQUIRE(f.types(e) == std::vector<std::string>{"album.created"});
    CHECK(e[0].tenant_id == f.tenant.id);
    CHECK(e[0].job_id == f.job.id);
    CHECK(e[0].album_id == album.id);
    CHECK(json::parse(e[0].data)["album"] == "Class 1A");

    // An upload ingested, by whom, where, and the picture.
    auto u = f.queued("IMG_0001.jpg", album.id, Section::Group);
    CHECK(f.since().empty());  // receiving and queued are not told
    REQUIRE(f.cat->claim_next(30'000'000'000));
    auto photo = f.cat->file_ingest(u.id, f.result("aaa")).photo;
    e = f.since();
    REQUIRE(f.types(e) == std::vector<std::string>{"photo.ingested"});
    CHECK(e[0].upload_id == u.id);
    CHECK(e[0].photo_id == photo.id);
    auto d = json::parse(e[0].data);
    CHECK(d["job"] == "job00001");
    CHECK(d["album"] == "Class 1A");
    CHECK(d["section"] == "group");
    CHECK(d["path"] == "Class 1A/group/IMG_0001.jpg");
    CHECK(d["file"] == "IMG_0001.jpg");
    CHECK(d["size"] == 1234);
    CHECK(d["user"] == "anna");
    CHECK(d["width"] == 4000);
    CHECK(d["camera"]["model"] == "EOS R6");
    CHECK(d["captured_at"] == "2026-05-04T10:11:12");

    // The same bytes again: a duplicate of that photo.
    auto again = f.queued("IMG_0002.jpg", album.id);
    REQUIRE(f.cat->claim_next(30'000'000'000));
    f.cat->file_ingest(again.id, f.result("aaa"));
    e = f.since();
    REQUIRE(f.types(e) == std::vector<std::string>{"photo.duplicate"});
    CHECK(json::parse(e[0].data)["duplicate_of"] == photo.id);
    CHECK(e[0].photo_id == photo.id);

    // Refused by the ingest service, and failed.
    auto bad = f.queued("IMG_0003.jpg", album.id);
    REQUIRE(f.cat->claim_next(30'000'000'000));
    f.cat->set_state(bad.id, UploadState::Rejected, "the image is truncated");
    auto broken = f.queued("IMG_0004.jpg", album.id);
    REQUIRE(f.cat->claim_next(30'000'000'000));
    f.cat->set_state(broken.id, UploadState::Failed, "out of memory");
    e = f.since();
    REQUIRE(f.types(e) == std::vector<std::string>{"upload.rejected", "upload.failed"});
    CHECK(json::parse(e[0].data)["reason"] == "the image is truncated");
    CHECK(json::parse(e[1].data)["reason"] == "out of memory");

    // Refused by the filesystem when it was made.
    NewUpload refused;
    refused.job_id = f.job.id;
    refused.folder = Folder{album.id, Section::Individuals, false};
    refused.filename = "notes.zip";
    refused.uid = f.anna.uid;
    refused.state = UploadState::Rejected;
    refused.reason = "archives are not accepted";
    f.cat->add_upload(refused);
    e = f.since();
    REQUIRE(f.types(e) == std::vector<std::string>{"upload.rejected"});
    CHECK(json::parse(e[0].data)["reason"] == "archives are not accepted");
    CHECK(json::parse(e[0].data)["file"] == "notes.zip");

    // Overwritten: the new photo replaces the old one.
    auto over = f.cat->replace_upload(u.id, "replaced by a new upload of the same name",
                                      NewUpload{f.job.id, u.folder, u.filename, f.anna.uid, 0644, UploadState::Receiving,
                                                {}, "demo/staging/over", photo.id, {}});
    f.cat->close_upload(over.id, 999, 2, queue_always);
    REQUIRE(f.cat->claim_next(30'000'000'000));
    auto newer = f.cat->file_ingest(over.id, f.result("bbb")).photo;
    e = f.since();
    REQUIRE(f.types(e) == std::vector<std::string>{"photo.ingested", "photo.replaced"});
    CHECK(json::parse(e[1].data)["replaces"] == photo.id);
    CHECK(e[1].photo_id == newer.id);

    // Deleted by the photographer.
    f.cat->delete_upload(over.id);
    e = f.since();
    REQUIRE(f.types(e) == std::vector<std::string>{"photo.deleted"});
    CHECK(e[0].photo_id == newer.id);

    // A job's status, each change once, and back.
    f.cat->set_job_status(f.job.id, JobStatus::Selling);
    f.cat->set_job_status(f.job.id, JobStatus::Selling);
    f.cat->set_job_status(f.job.id, JobStatus::Planned);
    e = f.since();
    REQUIRE(f.types(e) == std::vector<std::string>{"job.status_changed", "job.status_changed"});
    CHECK(json::parse(e[0].data)["from"] == "planned");
    CHECK(json::parse(e[0].data)["to"] == "selling");
    CHECK(json::parse(e[1].data)["to"] == "planned");

    // Another tenant sees none of them.
    CHECK(f.cat->events(f.other.id, 0, 1000).empty());
    CHECK(f.cat->events(f.tenant.id, 0, 1000).size() == f.cat->events(std::nullopt, 0, 1000).size());
}

TEST_CASE("a change the catalog refuses writes no event") {
    Fixture f;
    auto album = f.cat->add_album(f.job.id, "A");
    f.since();
    CHECK_THROWS_AS(f.cat->add_album(f.job.id, "A"), CatalogError);  // exists
    auto u = f.queued("x.jpg", album.id);
    REQUIRE(f.cat->claim_next(30'000'000'000));
    f.cat->file_ingest(u.id, f.result("ccc"));
    f.since();
    CHECK_THROWS_AS(f.cat->set_state(u.id, UploadState::Rejected, "too late"), CatalogError);  // ingested: no way back
    CHECK_THROWS_AS(f.cat->set_job_status(999999, JobStatus::Selling), CatalogError);
    CHECK(f.since().empty());
    // Filing twice has the effect, and the event, of once.
    f.cat->file_ingest(u.id, f.result("ccc"));
    CHECK(f.since().empty());
}

TEST_CASE("a reader that goes on from the last event it saw misses none, however many write at once") {
    Fixture f;
    auto second = open_catalog(f.location);
    constexpr int per_writer = 60;
    std::atomic<bool> done{false};
    std::vector<Id> read;
    std::thread reader([&] {
        auto own = open_catalog(f.location);
        Id after = f.seen;
        for (int rounds = 0; rounds < 100000; ++rounds) {
            bool last = done.load();
            auto batch = own->events(f.tenant.id, after, 50);
            for (const auto& e : batch) {
                read.push_back(e.id);
                after = e.id;
            }
            if (last && batch.empty()) break;
        }
    });
    auto write = [&](Catalog& c, const std::string& prefix) {
        for (int i = 0; i < per_writer; ++i) c.add_album(f.job.id, prefix + std::to_string(i));
    };
    std::thread other(write, std::ref(*second), "b");
    write(*f.cat, "a");
    other.join();
    done = true;
    reader.join();
    // Every event once, in increasing order, as the writers committed them.
    CHECK(read.size() == 2 * per_writer);
    CHECK(std::set<Id>(read.begin(), read.end()).size() == read.size());
    CHECK(std::is_sorted(read.begin(), read.end()));
    CHECK(f.cat->events(f.tenant.id, f.seen, 1000).size() == 2 * per_writer);
}

TEST_CASE("album.idle: an album that took no upload for the idle time, once, with what its uploads became and who sent them") {
    Fixture f;
    auto bob = f.cat->add_user(f.tenant.id, "bob", 2002, {});
    auto album = f.cat->add_album(f.job.id, "Class 1A");
    auto quiet = f.cat->add_album(f.job.id, "Class 1B");  // no upload: never idle
    auto ingest = [&](const Upload& u, const std::string& hash) {
        REQUIRE(f.cat->claim_next(30'000'000'000));
        return f.cat->file_ingest(u.id, f.result(hash));
    };
    ingest(f.queued("IMG_0001.jpg", album.id), "aaa");
    ingest(f.queued("IMG_0002.jpg", album.id), "bbb");
    ingest(f.queued("IMG_0003.jpg", album.id), "aaa");  // a duplicate
    NewUpload archive;
    archive.job_id = f.job.id;
    archive.folder = Folder{album.id, Section::Individuals, false};
    archive.filename = "backup.zip";
    archive.uid = bob.uid;
    archive.state = UploadState::Rejected;
    archive.reason = "archives are not taken";
    f.cat->add_upload(archive);
    NewUpload receiving = archive;  // still on its way
    receiving.filename = "IMG_0004.jpg";
    receiving.uid = f.anna.uid;
    receiving.state = UploadState::Receiving;
    receiving.reason = "";
    f.cat->add_upload(receiving);
    f.since();

    constexpr int64_t hour = 3600'000'000'000;
    CHECK(f.cat->report_idle_albums(hour, hour) == 0);  // not idle for an hour yet
    CHECK(f.since().empty());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(f.cat->report_idle_albums(10'000'000, hour) == 1);  // idle for 10 ms
    auto e = f.since();
    REQUIRE(f.types(e) == std::vector<std::string>{"album.idle"});
    CHECK(e[0].album_id == album.id);
    auto d = json::parse(e[0].data);
    CHECK(d["album"] == "Class 1A");
    CHECK(d["accepted"] == 2);
    CHECK(d["duplicates"] == 1);
    CHECK(d["refused"] == 1);
    CHECK(d["on_their_way"] == 1);
    REQUIRE(d["by_user"].size() == 2);
    for (const auto& who : d["by_user"]) {
        if (who["user"] == "anna") CHECK(who["accepted"] == 2);
        if (who["user"] == "bob") CHECK(who["refused"] == 1);
    }

    // Once: a second look (from another host, say) writes nothing.
    auto other_host = open_catalog(f.location);
    CHECK(other_host->report_idle_albums(10'000'000, hour) == 0);
    CHECK(f.cat->report_idle_albums(10'000'000, hour) == 0);
    CHECK(f.since().empty());

    // More uploads later: the next album.idle counts only those.
    ingest(f.queued("IMG_0005.jpg", album.id), "ccc");
    f.since();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(f.cat->report_idle_albums(10'000'000, hour) == 1);
    e = f.since();
    REQUIRE(e.size() == 1);
    d = json::parse(e[0].data);
    CHECK(d["accepted"] == 1);
    CHECK(d["duplicates"] == 0);
    CHECK(d["refused"] == 0);
    CHECK(e[0].album_id != quiet.id);
}
