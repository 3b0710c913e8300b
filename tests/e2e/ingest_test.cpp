// End to end with the ingest service: a file written through the mount, and one
// put with OpenSSH sftp, become photos with a thumbnail and a preview.

#include "tests/support/deployment.hpp"
#include "tests/support/files.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <thread>

using namespace photodrop;
using namespace photodrop::test;

namespace {

// Waits (at most 10 s) until the upload leaves queued/processing; returns it.
Upload settled(Catalog& catalog, Id job, const std::string& name) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
        auto all = uploads_named(catalog, job, name);
        if (!all.empty() && all.back().state != UploadState::Queued && all.back().state != UploadState::Processing &&
            all.back().state != UploadState::Receiving)
            return all.back();
        if (std::chrono::steady_clock::now() > deadline) {
            REQUIRE_MESSAGE(false, "upload " << name << " was not processed within 10 s");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

void check_photo(MountedTenant& t, Id job, const std::string& name) {
    auto u = settled(t.catalog(), job, name);
    CHECK(u.state == UploadState::Ingested);
    REQUIRE(u.photo_id);
    auto photo = t.catalog().photo(*u.photo_id);
    REQUIRE(photo);
    CHECK(photo->width == 2000);
    CHECK(photo->height == 1500);
    CHECK(std::filesystem::exists(t.data_dir() / photo->original_path));
    CHECK(std::filesystem::exists(t.data_dir() / photo->thumbnail_path));
    CHECK(std::filesystem::exists(t.data_dir() / photo->preview_path));
}

}  // namespace

TEST_CASE("a photo written through the mount and one put with sftp are ingested, with thumbnail and preview") {
    REQUIRE_DEPLOYABLE();
    Deployment d({"studio-i"});
    auto user = d.add_user("pdti", "studio-i");
    d.start_sshd();
    d.start_ingest();
    auto& t = d.tenant(0);
    TempDir local;
    auto jpeg = make_jpeg(local.path(), "photo.jpg", 2000, 1500);

    REQUIRE(write_file(t.path("job00002/mounted.jpg"), jpeg) == 0);
    check_photo(t, t.flat_job.id, "mounted.jpg");

    auto second = make_jpeg(local.path(), "over-sftp.jpg", 1500, 2000);  // other bytes: not a duplicate
    REQUIRE(run({"vips", "rot", (local.path() / "over-sftp.jpg").string(), (local.path() / "sftp.jpg").string(), "d90"}) == 0);
    auto [status, out] = d.sftp(user, fmt::format("put {} job00002/sftp.jpg\n", (local.path() / "sftp.jpg").string()));
    CAPTURE(out);
    REQUIRE(status == 0);
    check_photo(t, t.flat_job.id, "sftp.jpg");

    // The photo is still shown where it was put, with its size.
    CHECK(read_file(t.path("job00002/mounted.jpg")) == jpeg);

    // The same bytes again are recorded as a duplicate, not a second photo.
    REQUIRE(write_file(t.path("job00002/again.jpg"), jpeg) == 0);
    auto again = settled(t.catalog(), t.flat_job.id, "again.jpg");
    CHECK(again.duplicate);
    CHECK(t.catalog().photos(t.flat_job.id).size() == 2);
}
