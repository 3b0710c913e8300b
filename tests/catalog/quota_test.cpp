// A tenant's quota and the bytes it uses, as photodrop-fs and photodropctl read them.
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
    Job job = cat->add_job(tenant.id, "job00001", "", Layout::Flat, JobStatus::Planned);

    // An upload of `size` bytes, closed by its writer and queued.
    Upload queued(const std::string& name, int64_t size, Id job_id = 0) {
        NewUpload n;
        n.job_id = job_id ? job_id : job.id;
        n.filename = name;
        n.uid = 1000;
        n.data_path = "demo/staging/" + name;
        auto u = cat->add_upload(n);
        cat->close_upload(u.id, size, now_ns(), queue_always);
        return *cat->upload(u.id);
    }
    // Claims the next queued upload and files it as a photo whose original is `original`.
    Photo ingest(const std::string& original) {
        auto u = cat->claim_next(60'000'000'000);
        REQUIRE(u);
        IngestResult r;
        r.width = 10;
        r.height = 10;
        r.content_hash = std::string(64, 'b');
        r.original_path = original;
        r.thumbnail_path = "demo/thumbnails/t";
        r.preview_path = "demo/previews/p";
        return cat->file_ingest(u->id, r).photo;
    }
};
}  // namespace

TEST_CASE("a tenant has no quota until one is set; it can be changed and cleared") {
    Fixture f;
    CHECK_FALSE(f.cat->tenant("demo")->quota);
    f.cat->set_tenant_quota(f.tenant.id, int64_t{50} << 30);
    CHECK(f.cat->tenant("demo")->quota == int64_t{50} << 30);
    CHECK(f.cat->tenant(f.tenant.id)->quota == int64_t{50} << 30);
    CHECK(f.cat->tenants().at(0).quota == int64_t{50} << 30);
    f.cat->set_tenant_quota(f.tenant.id, 1000);
    CHECK(f.cat->tenant("demo")->quota == 1000);
    f.cat->set_tenant_quota(f.tenant.id, std::nullopt);
    CHECK_FALSE(f.cat->tenant("demo")->quota);
    CHECK_THROWS_AS(f.cat->set_tenant_quota(9999, 1000), CatalogError);
}

TEST_CASE("a tenant uses the bytes of its uploads that are kept, a duplicate's once") {
    Fixture f;
    CHECK(f.cat->tenant_use(f.tenant.id) == 0);
    auto a = f.queued("a.jpg", 1000);
    f.queued("b.jpg", 300);
    CHECK(f.cat->tenant_use(f.tenant.id) == 1300);

    // Ingested: its bytes are the original's now.
    auto photo = f.ingest("demo/originals/bb/a");
    CHECK(f.cat->tenant_use(f.tenant.id) == 1300);
    // b.jpg turns out to have a.jpg's bytes: it reads from a.jpg's original, counted once.
    auto b = f.cat->claim_next(60'000'000'000);
    REQUIRE(b);
    f.cat->set_attributes(b->id, 1000, std::nullopt, std::nullopt);
    f.cat->mark_duplicate(b->id, photo.id, std::string(64, 'b'));
    CHECK(f.cat->upload(b->id)->data_path == "demo/originals/bb/a");
    CHECK(f.cat->tenant_use(f.tenant.id) == 1000);

    // Rejected by the ingest service with its bytes kept: counted; without them: not.
    auto c = f.queued("c.jpg", 40);
    f.cat->set_state(c.id, UploadState::Rejected, "not an image");
    CHECK(f.cat->tenant_use(f.tenant.id) == 1040);
    auto d = f.queued("d.jpg", 7);
    f.cat->reject_without_bytes(d.id, "an archive");
    CHECK(f.cat->tenant_use(f.tenant.id) == 1040);

    // Deleted by the photographer: no longer its use (retention removes the bytes later).
    auto e = f.queued("e.jpg", 500);
    CHECK(f.cat->tenant_use(f.tenant.id) == 1540);
    f.cat->delete_upload(e.id);
    CHECK(f.cat->tenant_use(f.tenant.id) == 1040);
    // Deleting a.jpg's photo leaves its original to b.jpg, which still reads it.
    f.cat->delete_upload(a.id);
    CHECK(f.cat->tenant_use(f.tenant.id) == 1040);
    f.cat->delete_upload(b->id);
    CHECK(f.cat->tenant_use(f.tenant.id) == 40);

    // Another tenant's uploads are its own.
    auto other = f.cat->add_tenant("other", "Other");
    auto other_job = f.cat->add_job(other.id, "job00001", "", Layout::Flat, JobStatus::Planned);
    f.queued("x.jpg", 123456, other_job.id);
    CHECK(f.cat->tenant_use(f.tenant.id) == 40);
    CHECK(f.cat->tenant_use(other.id) == 123456);
}

TEST_CASE("a tenant's use of ten thousand uploads is one quick query") {
    Fixture f;
    for (int i = 0; i < 10000; ++i) {
        NewUpload n;
        n.job_id = f.job.id;
        n.filename = "f" + std::to_string(i) + ".jpg";
        n.uid = 1000;
        n.data_path = "demo/staging/" + n.filename;
        n.state = i % 10 == 0 ? UploadState::Discarded : UploadState::Receiving;
        if (i % 10 == 0) n.data_path.clear();
        f.cat->add_upload(n);
    }
    auto start = std::chrono::steady_clock::now();
    int64_t use = 0;
    for (int i = 0; i < 10; ++i) use = f.cat->tenant_use(f.tenant.id);
    auto each = (std::chrono::steady_clock::now() - start) / 10;
    MESSAGE("tenant_use over 10000 uploads: " << std::chrono::duration_cast<std::chrono::microseconds>(each).count()
                                              << " us");
    CHECK(use == 0);
    CHECK(each < std::chrono::milliseconds(50));
}
