#include "catalog/catalog.hpp"
#include "tests/support/catalog_location.hpp"
#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>

using namespace photodrop;

namespace {
struct Fixture {
    test::TempDir dir;
    std::unique_ptr<Catalog> cat = open_catalog(test::catalog_location(dir.path()));
    Tenant tenant = cat->add_tenant("demo", "Demo Studio");
    Job job = cat->add_job(tenant.id, "job00001", "Spring pictures", Layout::Albums, JobStatus::Planned);
    Album album = cat->add_album(job.id, "Class 1A");

    Upload new_upload(const std::string& name) {
        NewUpload n;
        n.job_id = job.id;
        n.folder = Folder{album.id, Section::Individuals, false};
        n.filename = name;
        n.uid = 1000;
        n.data_path = "demo/staging/" + name;
        return cat->add_upload(n);
    }
};
}  // namespace

TEST_CASE("tenants and jobs refuse duplicates with a reason") {
    Fixture f;
    CHECK_THROWS_WITH_AS(f.cat->add_tenant("demo", "Again"), "tenant demo exists already", CatalogError);
    CHECK_THROWS_WITH_AS(f.cat->add_job(f.tenant.id, "job00001", "", Layout::Flat, JobStatus::Planned),
                         "job job00001 exists already", CatalogError);
    CHECK(f.cat->tenant("demo")->name == "Demo Studio");
    CHECK_FALSE(f.cat->tenant("nobody"));
}

TEST_CASE("jobs are listed by status") {
    Fixture f;
    f.cat->add_job(f.tenant.id, "job00002", "", Layout::Flat, JobStatus::Selling);
    CHECK(f.cat->jobs(f.tenant.id).size() == 2);
    auto planned = f.cat->jobs(f.tenant.id, JobStatus::Planned);
    REQUIRE(planned.size() == 1);
    CHECK(planned[0].name == "job00001");
    f.cat->set_job_status(f.job.id, JobStatus::Archived);
    CHECK(f.cat->jobs(f.tenant.id, JobStatus::Planned).empty());
    CHECK(f.cat->job(f.job.id)->status == JobStatus::Archived);
}

TEST_CASE("an upload goes receiving -> queued -> processing -> ingested") {
    Fixture f;
    auto u = f.new_upload("a.jpg");
    CHECK(u.state == UploadState::Receiving);
    f.cat->close_upload(u.id, 1234, 42, queue_always);
    CHECK(f.cat->upload(u.id)->state == UploadState::Queued);
    CHECK(f.cat->upload(u.id)->size == 1234);

    auto claimed = f.cat->claim_next(30'000'000'000);
    REQUIRE(claimed);
    CHECK(claimed->id == u.id);
    CHECK(claimed->state == UploadState::Processing);
    CHECK(claimed->attempts == 1);
    CHECK_FALSE(f.cat->claim_next(30'000'000'000));

    IngestResult r;
    r.width = 10;
    r.height = 20;
    r.content_hash = "abc";
    r.original_path = "demo/originals/ab/abc.jpg";
    auto photo = f.cat->file_ingest(u.id, r).photo;
    CHECK(f.cat->upload(u.id)->state == UploadState::Ingested);
    CHECK(f.cat->upload(u.id)->data_path == "demo/originals/ab/abc.jpg");
    // Twice has the effect of once.
    CHECK(f.cat->file_ingest(u.id, r).photo.id == photo.id);
    CHECK(f.cat->photos(f.job.id).size() == 1);
}

TEST_CASE("the lifecycle refuses impossible transitions") {
    Fixture f;
    auto u = f.new_upload("a.jpg");
    CHECK_THROWS_AS(f.cat->set_state(u.id, UploadState::Ingested), CatalogError);
    f.cat->set_state(u.id, UploadState::Deleted, "cancelled");
    CHECK_THROWS_AS(f.cat->set_state(u.id, UploadState::Queued), CatalogError);
    CHECK(can_transition(UploadState::Queued, UploadState::Receiving));
    CHECK_FALSE(can_transition(UploadState::Discarded, UploadState::Queued));
    CHECK_FALSE(can_transition(UploadState::Ingested, UploadState::Queued));
}

TEST_CASE("a reopened queued upload is receiving again; an ingested one cannot be reopened") {
    Fixture f;
    auto u = f.new_upload("a.jpg");
    f.cat->close_upload(u.id, 10, 1, queue_always);
    CHECK(f.cat->reopen(u.id));
    CHECK(f.cat->upload(u.id)->state == UploadState::Receiving);
    f.cat->close_upload(u.id, 20, 1, queue_always);
    f.cat->claim_next(1'000'000'000);
    CHECK_FALSE(f.cat->reopen(u.id));  // the ingest service has it
    CHECK(f.cat->upload(u.id)->state == UploadState::Processing);
    IngestResult r;
    r.content_hash = "h";
    f.cat->file_ingest(u.id, r);
    CHECK_FALSE(f.cat->reopen(u.id));
    CHECK(f.cat->upload(u.id)->state == UploadState::Ingested);
}

TEST_CASE("an expired lease returns the upload to the queue") {
    Fixture f;
    auto u = f.new_upload("a.jpg");
    f.cat->close_upload(u.id, 10, 1, queue_always);
    REQUIRE(f.cat->claim_next(-1));  // a lease that has already run out
    CHECK(f.cat->release_expired_leases() == 1);
    CHECK(f.cat->upload(u.id)->state == UploadState::Queued);
    CHECK(f.cat->claim_next(60'000'000'000)->attempts == 2);
    CHECK(f.cat->release_expired_leases() == 0);
}

TEST_CASE("folders list their visible uploads only") {
    Fixture f;
    auto a = f.new_upload("a.jpg");
    auto b = f.new_upload("b.jpg");
    f.cat->reject_without_bytes(b.id, "not an image");
    auto c = f.new_upload("c.jpg");
    f.cat->set_state(c.id, UploadState::Deleted, "cancelled");
    Folder album_root{f.album.id, Section::Individuals, false};
    auto listed = f.cat->uploads_in(f.job.id, album_root);
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].filename == "a.jpg");
    CHECK(f.cat->upload_at(f.job.id, album_root, "a.jpg")->id == a.id);
    CHECK_FALSE(f.cat->upload_at(f.job.id, album_root, "b.jpg"));
    CHECK_FALSE(f.cat->upload_at(f.job.id, Folder{f.album.id, Section::Individuals, true}, "a.jpg"));
    auto rejected = f.cat->uploads(f.job.id, UploadState::Rejected);
    REQUIRE(rejected.size() == 1);
    CHECK(rejected[0].reason == "not an image");
}

TEST_CASE("an upload the ingest service rejected stays visible while its bytes are kept, and can be resumed") {
    Fixture f;
    auto u = f.new_upload("cut.jpg");
    f.cat->close_upload(u.id, 10, 1, queue_always);
    f.cat->claim_next(1'000'000'000);
    f.cat->set_state(u.id, UploadState::Rejected, "the file is truncated");
    Folder album_root{f.album.id, Section::Individuals, false};
    REQUIRE(f.cat->upload_at(f.job.id, album_root, "cut.jpg"));
    f.cat->reopen(u.id);
    CHECK(f.cat->upload(u.id)->state == UploadState::Receiving);
}

TEST_CASE("deleting an ingested upload marks its photo deleted") {
    Fixture f;
    auto u = f.new_upload("a.jpg");
    f.cat->close_upload(u.id, 10, 1, queue_always);
    f.cat->claim_next(1'000'000'000);
    IngestResult r;
    r.content_hash = "h";
    auto p = f.cat->file_ingest(u.id, r).photo;
    f.cat->delete_upload(u.id);
    CHECK(f.cat->photo(p.id)->deleted);
    CHECK(f.cat->upload(u.id)->state == UploadState::Deleted);
}

TEST_CASE("users map uids and may be restricted to jobs") {
    Fixture f;
    auto user = f.cat->add_user(f.tenant.id, "alice", 2001, {f.job.id});
    CHECK(f.cat->user_by_uid(2001)->username == "alice");
    CHECK(f.cat->user("alice")->job_ids == std::vector<Id>{f.job.id});
    auto u = f.new_upload("x.jpg");
    CHECK_FALSE(u.user_id);
    NewUpload n;
    n.job_id = f.job.id;
    n.filename = "y.jpg";
    n.uid = 2001;
    CHECK(f.cat->add_upload(n).user_id == user.id);
    f.cat->remove_user(user.id);
    CHECK_FALSE(f.cat->user("alice"));
}

TEST_CASE("retention: staged bytes are marked purged only while the row is as it was read") {
    Fixture f;
    auto u = f.new_upload("a.jpg");
    f.cat->close_upload(u.id, 10, now_ns(), queue_always);
    REQUIRE(f.cat->claim_next(60'000'000'000));
    f.cat->set_state(u.id, UploadState::Rejected, "not an image");
    auto seen = *f.cat->upload(u.id);
    CHECK(f.cat->staged_uploads(f.tenant.id).size() == 1);

    // An operator retried it meanwhile: its bytes must stay.
    f.cat->retry_uploads(u.id, std::nullopt);
    CHECK_FALSE(f.cat->mark_bytes_purged(seen));
    CHECK(f.cat->upload(u.id)->data_path == "demo/staging/a.jpg");

    REQUIRE(f.cat->claim_next(60'000'000'000));
    f.cat->set_state(u.id, UploadState::Rejected, "not an image");
    CHECK(f.cat->mark_bytes_purged(*f.cat->upload(u.id)));
    CHECK(f.cat->upload(u.id)->data_path.empty());
    CHECK(f.cat->staged_uploads(f.tenant.id).empty());

    auto r = f.new_upload("b.jpg");
    CHECK(f.cat->expire_receiving(r.id, "incomplete upload: no byte for 8d"));
    CHECK(f.cat->upload(r.id)->state == UploadState::Rejected);
    CHECK(f.cat->upload(r.id)->reason == "incomplete upload: no byte for 8d");
    CHECK_FALSE(f.cat->expire_receiving(r.id, "again"));
}

TEST_CASE("retention: a deleted photo is purgeable once no kept photo or upload shares its content") {
    Fixture f;
    auto ingest = [&](const std::string& name, Id job_id) {
        NewUpload n;
        n.job_id = job_id;
        n.filename = name;
        n.uid = 1000;
        n.data_path = "demo/staging/" + name;
        auto u = f.cat->add_upload(n);
        f.cat->close_upload(u.id, 10, now_ns(), queue_always);
        auto claimed = f.cat->claim_next(60'000'000'000);
        REQUIRE(claimed->id == u.id);
        IngestResult r;
        r.content_hash = std::string(64, 'c');
        r.original_path = "demo/originals/cc/" + r.content_hash + ".jpg";
        r.thumbnail_path = "demo/thumbnails/cc/" + r.content_hash + ".jpg";
        r.preview_path = "demo/previews/cc/" + r.content_hash + ".jpg";
        return f.cat->file_ingest(u.id, r).photo;
    };
    Job other = f.cat->add_job(f.tenant.id, "job00002", "", Layout::Flat, JobStatus::Planned);
    auto first = ingest("a.jpg", f.job.id);
    auto second = ingest("a.jpg", other.id);
    int64_t later = now_ns() + 1'000'000'000;  // a cut-off after both deletions

    f.cat->delete_upload(first.upload_id);
    CHECK(f.cat->photo(first.id)->deleted);
    CHECK(f.cat->purgeable_photos(f.tenant.id, later).empty());  // the other job's photo has the same bytes

    f.cat->delete_upload(second.upload_id);
    CHECK(f.cat->purgeable_photos(f.tenant.id, now_ns() - 1'000'000'000).empty());  // deleted after the cut-off
    auto purgeable = f.cat->purgeable_photos(f.tenant.id, later);
    REQUIRE(purgeable.size() == 2);
    CHECK(purgeable[0].tenant == "demo");
    CHECK(purgeable[0].deleted_ns > 0);
    CHECK(f.cat->mark_photo_purged(first.id, later));
    CHECK_FALSE(f.cat->mark_photo_purged(first.id, later));  // once
    CHECK(f.cat->upload(first.upload_id)->data_path.empty());
    CHECK(f.cat->purgeable_photos(f.tenant.id, later).size() == 1);
}
