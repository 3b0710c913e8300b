// The Ingester in process, against a real SQLite catalog and data directory.

#include "ingest/content_hash.hpp"
#include "ingest/store.hpp"
#include "tests/ingest/fixture.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include <sys/stat.h>

using namespace photodrop;
using namespace photodrop::ingest;
using photodrop::test::Bytes;
using vips::VImage;
namespace fs = std::filesystem;

namespace {
int long_edge(const VImage& image) { return std::max(image.width(), image.height()); }

VImage open_image(const fs::path& path) { return VImage::new_from_file(path.c_str()); }

// The photo an ingested upload became, with every file it names on disk.
Photo photo_of(test::IngestFixture& f, Id upload_id) {
    auto upload = f.catalog->upload(upload_id);
    REQUIRE(upload);
    REQUIRE(upload->state == UploadState::Ingested);
    REQUIRE(upload->photo_id);
    auto photo = f.catalog->photo(*upload->photo_id);
    REQUIRE(photo);
    CHECK(fs::is_regular_file(f.absolute(photo->original_path)));
    CHECK(fs::is_regular_file(f.absolute(photo->thumbnail_path)));
    CHECK(fs::is_regular_file(f.absolute(photo->preview_path)));
    return *photo;
}
}  // namespace

TEST_CASE("a JPEG with EXIF becomes a photo with capture time, camera, serial and upright size") {
    test::IngestFixture f;
    auto source = f.dir.path() / "IMG_0001.JPG";
    test::write_bytes(source, test::encode(test::photo_like(2400, 1600), ".jpg"));
    REQUIRE(test::run_command(fmt::format("exiftool -q -overwrite_original '-DateTimeOriginal=2024:05:17 10:20:30' "
                                          "-Make=Canon '-Model=EOS R5' -SerialNumber=012345678 -Orientation#=6 '{}'",
                                          source.string())) == 0);
    Bytes bytes = test::read_bytes(source);
    auto upload = f.queue(bytes, "IMG_0001.JPG");

    auto outcome = f.ingest_next();
    CHECK(outcome.result == Result::Ingested);
    CHECK(outcome.tenant == "demo");
    CHECK(outcome.job == "job00001");
    CHECK(outcome.file == "IMG_0001.JPG");

    Photo photo = photo_of(f, upload.id);
    CHECK(photo.captured_at == "2024-05-17 10:20:30");
    CHECK(photo.camera_make == "Canon");
    CHECK(photo.camera_model == "EOS R5");
    CHECK(photo.camera_serial == "012345678");
    CHECK(photo.orientation == 6);
    CHECK(photo.width == 1600);  // turned upright: a portrait
    CHECK(photo.height == 2400);
    CHECK(photo.filename == "IMG_0001.JPG");

    // The original moved, byte for byte, into the content-addressed store.
    std::string hash = sha256_file(source.string());
    CHECK(photo.content_hash == hash);
    CHECK(photo.original_path == fmt::format("demo/originals/{}/{}.jpg", hash.substr(0, 2), hash));
    CHECK(test::read_bytes(f.absolute(photo.original_path)) == bytes);
    CHECK_FALSE(fs::exists(f.absolute(upload.data_path)));
    CHECK(f.catalog->upload(upload.id)->data_path == photo.original_path);

    CHECK(photo.preview_path == fmt::format("demo/previews/{}/{}.jpg", hash.substr(0, 2), hash));
    CHECK(photo.thumbnail_path == fmt::format("demo/thumbnails/{}/{}.jpg", hash.substr(0, 2), hash));
    VImage preview = open_image(f.absolute(photo.preview_path));
    VImage thumbnail = open_image(f.absolute(photo.thumbnail_path));
    CHECK(preview.height() == 1600);
    CHECK(preview.width() == doctest::Approx(1067).epsilon(0.002));
    CHECK(thumbnail.height() == 400);
    CHECK(thumbnail.width() == doctest::Approx(267).epsilon(0.005));
    for (const VImage& image : {preview, thumbnail}) {
        CHECK(image.interpretation() == VIPS_INTERPRETATION_sRGB);
        CHECK(image.get_typeof("exif-data") == 0);  // stripped: no orientation left to apply twice
        CHECK(image.get_typeof("orientation") == 0);
    }
}

TEST_CASE("PNG, TIFF and WebP are ingested") {
    test::IngestFixture f;
    auto image = test::photo_like(1200, 900);
    for (auto [name, extension] : {std::pair{"scan.png", "png"}, std::pair{"scan.tif", "tif"},
                                   std::pair{"scan.webp", "webp"}}) {
        CAPTURE(name);
        auto upload = f.queue(test::encode(image, fs::path(name).extension().string()), name);
        CHECK(f.ingest_next().result == Result::Ingested);
        Photo photo = photo_of(f, upload.id);
        CHECK(photo.width == 1200);
        CHECK(photo.height == 900);
        CHECK(photo.original_path.ends_with(std::string(".") + extension));
        VImage preview = open_image(f.absolute(photo.preview_path));
        CHECK(preview.width() == 1200);  // smaller than a preview: kept as it is
        CHECK(long_edge(open_image(f.absolute(photo.thumbnail_path))) == 400);
    }
    CHECK(f.catalog->photos(f.job.id).size() == 3);
}

TEST_CASE("HEIC is ingested where libvips can write and read it") {
    test::IngestFixture f;
    Bytes heic;
    try {
        heic = test::encode(test::photo_like(1024, 768), ".heic");
    } catch (const vips::VError& e) {
        MESSAGE("skipped: this libvips cannot write HEIC: " << e.what());
        return;
    }
    auto upload = f.queue(heic, "IMG_4242.HEIC");
    auto outcome = f.ingest_next();
    REQUIRE_MESSAGE(outcome.result == Result::Ingested, outcome.reason);
    Photo photo = photo_of(f, upload.id);
    CHECK(photo.width == 1024);
    CHECK(photo.height == 768);
    CHECK(photo.original_path.ends_with(".heic"));
}

TEST_CASE("damaged and non-image files are rejected, each with its reason") {
    test::IngestFixture f;
    Bytes jpeg = test::encode(test::photo_like(1600, 1200), ".jpg");
    Bytes truncated(jpeg.begin(), jpeg.begin() + static_cast<long>(jpeg.size() / 2));
    Bytes noise(200'000);
    std::mt19937 random(42);
    std::generate(noise.begin(), noise.end(), [&] { return static_cast<unsigned char>(random()); });
    std::string text = "Dear photographer,\nthese are the notes for the spring pictures.\n";
    Bytes letter(text.begin(), text.end());

    struct Case {
        const char* name;
        Bytes bytes;
        const char* reason;
    };
    for (const auto& c : {Case{"truncated.jpg", truncated, "the image is truncated or corrupt"},
                          Case{"noise.jpg", noise, "not an image in an accepted format"},
                          Case{"notes.jpg", letter, "the file is text, not an image"},
                          Case{"empty.jpg", {}, "the file is empty"}}) {
        CAPTURE(c.name);
        auto upload = f.queue(c.bytes, c.name);
        auto outcome = f.ingest_next();
        CHECK(outcome.result == Result::Rejected);
        CHECK(outcome.reason.find(c.reason) != std::string::npos);
        auto after = f.catalog->upload(upload.id);
        CHECK(after->state == UploadState::Rejected);
        CHECK(after->reason == outcome.reason);
        CHECK_FALSE(after->photo_id);
        CHECK(fs::exists(f.absolute(upload.data_path)));  // kept for `queue retry`
    }
    CHECK(f.catalog->photos(f.job.id).empty());
}

TEST_CASE("a header claiming 20000x20000 pixels is refused without decoding") {
    test::IngestFixture f;
    Bytes bytes = test::encode(test::photo_like(64, 48), ".jpg");
    for (size_t i = 0; i + 9 < bytes.size(); ++i)
        if (bytes[i] == 0xFF && bytes[i + 1] == 0xC0) {
            bytes[i + 5] = bytes[i + 7] = 0x4E;  // 0x4E20 = 20000
            bytes[i + 6] = bytes[i + 8] = 0x20;
            break;
        }
    auto upload = f.queue(bytes, "huge.jpg");
    auto outcome = f.ingest_next();
    CHECK(outcome.result == Result::Rejected);
    CHECK(outcome.reason.find("20000x20000") != std::string::npos);
    CHECK(outcome.reason.find("over the limit of 100 megapixels") != std::string::npos);
    CHECK(f.catalog->upload(upload.id)->state == UploadState::Rejected);
}

TEST_CASE("the same file uploaded twice into a job is a duplicate, in another job a photo") {
    test::IngestFixture f;
    Bytes bytes = test::encode(test::photo_like(900, 600), ".jpg");
    auto first = f.queue(bytes, "a.jpg");
    auto second = f.queue(bytes, "copy of a.jpg");
    CHECK(f.ingest_next().result == Result::Ingested);
    auto outcome = f.ingest_next();
    CHECK(outcome.result == Result::Duplicate);

    Photo photo = photo_of(f, first.id);
    auto twin = f.catalog->upload(second.id);
    CHECK(twin->state == UploadState::Ingested);
    CHECK(twin->duplicate);
    CHECK(twin->photo_id == photo.id);
    CHECK(outcome.photo_id == photo.id);
    CHECK(twin->content_hash == photo.content_hash);
    CHECK(f.catalog->photos(f.job.id).size() == 1);
    // Its own copy is gone: it reads from the original of the photo it duplicates.
    CHECK_FALSE(fs::exists(f.absolute(second.data_path)));
    CHECK(twin->data_path == photo.original_path);
    CHECK(test::read_bytes(f.absolute(twin->data_path)) == bytes);
    CHECK(is_visible(*twin));
    CHECK(twin->size == static_cast<int64_t>(bytes.size()));

    Job other = f.catalog->add_job(f.tenant.id, "job00002", "Autumn", Layout::Flat, JobStatus::Planned);
    auto elsewhere = f.queue(bytes, "a.jpg", other.id);
    CHECK(f.ingest_next().result == Result::Ingested);
    Photo other_photo = photo_of(f, elsewhere.id);
    CHECK(other_photo.id != photo.id);
    CHECK(other_photo.original_path == photo.original_path);  // one copy in the tenant's store
}

TEST_CASE("a retry after a crash between moving the original and filing it has the effect of once") {
    test::IngestFixture f;
    Bytes bytes = test::encode(test::photo_like(1000, 800), ".jpg");
    auto upload = f.queue(bytes, "a.jpg");

    // The first attempt: claimed, hash noted, original moved ... and the process died.
    auto claim = f.catalog->claim_next(1);  // a lease that has run out already
    REQUIRE(claim);
    std::string hash = sha256_file(f.absolute(upload.data_path).string());
    f.catalog->note_content_hash(upload.id, hash);
    Store store(f.data);
    store.move_original(f.absolute(upload.data_path), store.original_path("demo", hash, "jpg"));
    CHECK(f.catalog->release_expired_leases() == 1);

    auto outcome = f.ingest_next();
    CHECK(outcome.result == Result::Ingested);
    Photo photo = photo_of(f, upload.id);
    CHECK(photo.content_hash == hash);
    CHECK(test::read_bytes(f.absolute(photo.original_path)) == bytes);
    CHECK(f.catalog->photos(f.job.id).size() == 1);
    CHECK(f.catalog->upload(upload.id)->attempts == 2);
}

TEST_CASE("an upload whose claim ran out while it was processed is abandoned, then done once") {
    test::IngestFixture f;
    auto upload = f.queue(test::encode(test::photo_like(800, 600), ".jpg"), "a.jpg");
    auto slow = f.catalog->claim_next(1);
    REQUIRE(slow);
    CHECK(f.catalog->release_expired_leases() == 1);  // the lease ran out while it worked

    Ingester ingester(*f.catalog, f.settings);
    auto late = ingester.process(*slow);  // the catalog says queued: it may not file it
    CHECK(late.result == Result::Abandoned);
    CHECK(f.catalog->photos(f.job.id).empty());
    // Nor move it: photodrop-fs may have given it back to a client, who writes to the staged file.
    CHECK(fs::exists(f.absolute(upload.data_path)));

    CHECK(f.ingest_next().result == Result::Ingested);
    photo_of(f, upload.id);
    CHECK(f.catalog->photos(f.job.id).size() == 1);
}

TEST_CASE("missing bytes are retried with back-off, then the upload fails") {
    test::IngestFixture f;
    auto upload = f.queue(test::encode(test::photo_like(64, 64), ".jpg"), "a.jpg");
    fs::remove(f.absolute(upload.data_path));

    int64_t before = now_ns();
    auto outcome = f.ingest_next();
    CHECK(outcome.result == Result::Retrying);
    auto after = f.catalog->upload(upload.id);
    CHECK(after->state == UploadState::Queued);
    CHECK(after->reason.find("the uploaded bytes are missing") != std::string::npos);
    CHECK(after->next_attempt_ns >= before + 1'900'000'000);
    CHECK_FALSE(f.catalog->claim_next(1'000'000'000));  // not before its back-off

    auto gone = f.queue(test::encode(test::photo_like(64, 64), ".jpg"), "b.jpg");
    fs::remove(f.absolute(gone.data_path));
    f.settings.retry.max_attempts = 1;
    outcome = f.ingest_next();
    CHECK(outcome.upload_id == gone.id);
    CHECK(outcome.result == Result::Failed);
    after = f.catalog->upload(gone.id);
    CHECK(after->state == UploadState::Failed);
    CHECK(after->reason.find("gave up after 1 attempts") != std::string::npos);
    CHECK(after->reason.find("the uploaded bytes are missing") != std::string::npos);
}

TEST_CASE("an upload whose every attempt ended without a result (a crashing decoder) fails instead of looping") {
    test::IngestFixture f;
    auto upload = f.queue(test::encode(test::photo_like(64, 64), ".jpg"), "a.jpg");
    for (int i = 0; i < f.settings.retry.max_attempts; ++i) {
        REQUIRE(f.catalog->claim_next(1));  // claimed, then the service died
        REQUIRE(f.catalog->release_expired_leases() == 1);
    }
    auto outcome = f.ingest_next();
    CHECK(outcome.result == Result::Failed);
    auto after = f.catalog->upload(upload.id);
    CHECK(after->state == UploadState::Failed);
    CHECK(after->reason == "5 attempts ended without a result; not trying again");
    CHECK(fs::exists(f.absolute(upload.data_path)));
}

TEST_CASE("originals are read-only, and one already in the store is never replaced") {
    test::IngestFixture f;
    Bytes bytes = test::encode(test::photo_like(700, 500), ".jpg");
    auto first = f.queue(bytes, "a.jpg");
    CHECK(f.ingest_next().result == Result::Ingested);
    Photo photo = photo_of(f, first.id);
    auto original = f.absolute(photo.original_path);
    struct stat before {};
    REQUIRE(::stat(original.c_str(), &before) == 0);
    CHECK((before.st_mode & 07777) == 0444);

    // The same bytes in another job: a photo of its own, sharing the original,
    // which stays the very file it was; the staged copy is removed.
    Job other = f.catalog->add_job(f.tenant.id, "job00002", "Autumn", Layout::Flat, JobStatus::Planned);
    auto again = f.queue(bytes, "a.jpg", other.id);
    CHECK(f.ingest_next().result == Result::Ingested);
    struct stat after {};
    REQUIRE(::stat(original.c_str(), &after) == 0);
    CHECK(after.st_ino == before.st_ino);
    CHECK(after.st_mtim.tv_sec == before.st_mtim.tv_sec);
    CHECK(after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
    CHECK(after.st_nlink == 1);
    CHECK_FALSE(fs::exists(f.absolute(again.data_path)));
    CHECK(photo_of(f, again.id).original_path == photo.original_path);

    // Moving into the store never overwrites, even bytes that claim the same name.
    Store store(f.data);
    auto impostor = f.dir.path() / "impostor";
    test::write_bytes(impostor, Bytes{1, 2, 3});
    CHECK_FALSE(store.move_original(impostor, photo.original_path));
    CHECK_FALSE(fs::exists(impostor));
    CHECK(test::read_bytes(original) == bytes);
}

TEST_CASE("a file over max_upload_size is refused before a byte of it is read") {
    test::IngestFixture f;
    f.settings.max_upload_size = 10'000;
    Bytes bytes = test::encode(test::photo_like(800, 600), ".jpg");
    REQUIRE(bytes.size() > 10'000);
    auto upload = f.queue(bytes, "big.jpg");
    auto outcome = f.ingest_next();
    CHECK(outcome.result == Result::Rejected);
    CHECK(outcome.reason.find(fmt::format("({} bytes), over the upload limit of 9.8 KiB (max_upload_size)",
                                          bytes.size())) != std::string::npos);
    auto after = f.catalog->upload(upload.id);
    CHECK(after->state == UploadState::Rejected);
    CHECK(after->content_hash.empty());  // not hashed
    CHECK(f.catalog->photos(f.job.id).empty());
}

TEST_CASE("a sparse file is refused rather than hashed in full") {
    test::IngestFixture f;
    Bytes head = test::encode(test::photo_like(64, 48), ".jpg");
    auto upload = f.queue(head, "holes.jpg");
    fs::resize_file(f.absolute(upload.data_path), 64 << 20);  // 64 MiB, nearly all of it a hole
    struct stat st {};
    REQUIRE(::stat(f.absolute(upload.data_path).c_str(), &st) == 0);
    if (st.st_blocks * 512 * 2 >= st.st_size) {
        MESSAGE("skipped: this file system does not make holes");
        return;
    }
    auto outcome = f.ingest_next();
    CHECK(outcome.result == Result::Rejected);
    CHECK(outcome.reason.find("64.0 MiB long but only") != std::string::npos);
    CHECK(outcome.reason.find("a sparse file with holes") != std::string::npos);
    CHECK(f.catalog->upload(upload.id)->content_hash.empty());
}

TEST_CASE("an upload deleted while it was processed puts nothing into the store") {
    test::IngestFixture f;
    auto upload = f.queue(test::encode(test::photo_like(800, 600, 5), ".jpg"), "a.jpg");
    auto claim = f.catalog->claim_next(60'000'000'000);
    REQUIRE(claim);
    f.catalog->delete_upload(upload.id);  // the photographer deletes it while the ingest decodes it

    Ingester ingester(*f.catalog, f.settings);
    auto outcome = ingester.process(*claim);
    CHECK(outcome.result == Result::Abandoned);
    CHECK(f.catalog->photos(f.job.id).empty());
    CHECK(f.catalog->upload(upload.id)->reason == "cancelled: deleted before it was ingested");
    for (auto area : {"originals", "thumbnails", "previews"}) {
        CAPTURE(area);
        CHECK_FALSE(fs::exists(f.data / "demo" / area));
    }
    CHECK(fs::exists(f.absolute(upload.data_path)));  // the bytes stay, for retention to let go
}
