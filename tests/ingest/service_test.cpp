// The real photodrop-ingest, started as a subprocess on a free loopback port.

#include "ingest/content_hash.hpp"
#include "tests/ingest/fixture.hpp"
#include "tests/ingest/clients.hpp"
#include "tests/support/process.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <csignal>
#include <filesystem>
#include <set>

using namespace photodrop;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// One photodrop-ingest run against the fixture's catalog and data directory.
struct Service {
    Service(test::IngestFixture& f, unsigned short port, int run)
        : port(port),
          socket(f.dir.path() / "ingest.sock"),
          process({test::ingest_binary(), "--catalog", f.catalog_path, "--data", f.data.string(), "--listen",
                   fmt::format("127.0.0.1:{}", port), "--socket", socket.string(), "--workers", "2", "--lease", "2"},
                  (f.dir.path() / fmt::format("ingest-{}.log", run)).string()) {
        bool healthy = test::wait_until(
            [&] { return !process.running() || test::http_get(port, "/healthz").status == 200; }, 30s);
        REQUIRE_MESSAGE(healthy, process.log());
        REQUIRE_MESSAGE(process.running(), process.log());
    }

    // SIGTERM, and the exit status must say it stopped cleanly.
    void stop() {
        process.signal(SIGTERM);
        int status = process.wait_for(60);
        REQUIRE_MESSAGE(status >= 0, process.log());  // it stopped in time
        CHECK_MESSAGE(status == 0, process.log());    // and exited 0, not by a signal
    }

    unsigned short port;
    fs::path socket;
    test::Process process;
};

int64_t count_in(test::IngestFixture& f, UploadState state) {
    return static_cast<int64_t>(f.catalog->uploads(f.job.id, state).size());
}

// Every upload became its own photo, exactly once, with its files on disk.
void check_each_ingested_once(test::IngestFixture& f, const std::vector<Upload>& uploads) {
    std::set<Id> photo_ids;
    for (const Upload& queued : uploads) {
        auto upload = f.catalog->upload(queued.id);
        CAPTURE(upload->id);
        REQUIRE(upload->state == UploadState::Ingested);
        CHECK_FALSE(upload->duplicate);
        REQUIRE(upload->photo_id);
        photo_ids.insert(*upload->photo_id);
        auto photo = f.catalog->photo(*upload->photo_id);
        REQUIRE(photo);
        CHECK(photo->upload_id == upload->id);
        CHECK(fs::is_regular_file(f.absolute(photo->original_path)));
        CHECK(fs::is_regular_file(f.absolute(photo->thumbnail_path)));
        CHECK(fs::is_regular_file(f.absolute(photo->preview_path)));
        CHECK(ingest::sha256_file(f.absolute(photo->original_path).string()) == photo->content_hash);
        CHECK_FALSE(fs::exists(f.absolute(queued.data_path)));
    }
    CHECK(photo_ids.size() == uploads.size());
    CHECK(f.catalog->photos(f.job.id).size() == uploads.size());
}

std::vector<Upload> queue_batch(test::IngestFixture& f, int count, int width, int height) {
    std::vector<Upload> uploads;
    for (int i = 0; i < count; ++i)
        uploads.push_back(
            f.queue(test::encode(test::photo_like(width, height, i + 1), ".jpg"), fmt::format("IMG_{:04d}.JPG", i)));
    return uploads;
}

}  // namespace

TEST_CASE("the service answers /healthz and /metrics, ingests on a wake-up, and stops on SIGTERM") {
    test::IngestFixture f;
    Service service(f, test::free_port(), 1);

    auto health = test::http_get(service.port, "/healthz");
    CHECK(health.status == 200);
    CHECK(health.body == "ok\n");
    auto metrics = test::http_get(service.port, "/metrics");
    CHECK(metrics.status == 200);
    CHECK(metrics.body.find("photodrop_ingest_queue_uploads{state=\"queued\"} 0\n") != std::string::npos);
    CHECK(metrics.body.find("# TYPE photodrop_ingest_processing_seconds histogram\n") != std::string::npos);
    CHECK(test::http_get(service.port, "/nothing-here").status == 404);

    auto upload = f.queue(test::encode(test::photo_like(2000, 1500), ".jpg"), "IMG_0001.JPG");
    CHECK(test::send_wake(service.socket, std::to_string(upload.id)));
    bool ingested = test::wait_until(
        [&] { return f.catalog->upload(upload.id)->state == UploadState::Ingested; }, 60s);
    REQUIRE_MESSAGE(ingested, service.process.log());

    metrics = test::http_get(service.port, "/metrics");
    CHECK(metrics.body.find("photodrop_ingest_uploads_processed_total{result=\"ingested\"} 1\n") != std::string::npos);
    CHECK(metrics.body.find("photodrop_ingest_processing_seconds_count 1\n") != std::string::npos);
    CHECK(metrics.body.find("photodrop_ingest_queue_uploads{state=\"ingested\"} 1\n") != std::string::npos);

    service.stop();
    CHECK_FALSE(fs::exists(service.socket));
    std::string log = service.process.log();
    CHECK(log.find(fmt::format("upload {} tenant=demo job=job00001 file=\"IMG_0001.JPG\" result=ingested", upload.id)) !=
          std::string::npos);
}

TEST_CASE("kill -9 in the middle of a batch, then a restart: every upload is processed exactly once") {
    test::IngestFixture f;
    auto uploads = queue_batch(f, 30, 3000, 2000);
    unsigned short port = test::free_port();

    int64_t ingested_at_kill = 0;
    {
        Service first(f, port, 1);
        bool started = test::wait_until([&] { return count_in(f, UploadState::Ingested) >= 4; }, 120s);
        REQUIRE_MESSAGE(started, first.process.log());
        first.process.signal(SIGKILL);
        int status = first.process.wait_for(30);
        REQUIRE(status >= 0);
        CHECK(status == 128 + SIGKILL);
        ingested_at_kill = count_in(f, UploadState::Ingested);
        MESSAGE("killed with " << ingested_at_kill << " ingested and " << count_in(f, UploadState::Processing)
                               << " claimed");
        CHECK(ingested_at_kill < 30);
    }

    Service second(f, port, 2);  // a stale socket file is replaced; claims return when their lease runs out
    bool caught_up = test::wait_until([&] { return count_in(f, UploadState::Ingested) == 30; }, 300s);
    REQUIRE_MESSAGE(caught_up, second.process.log());
    second.stop();

    check_each_ingested_once(f, uploads);
    CHECK(count_in(f, UploadState::Processing) == 0);
}

TEST_CASE("a service that was down while files were queued catches up with all of them") {
    test::IngestFixture f;
    unsigned short port = test::free_port();
    {
        Service before(f, port, 1);
        before.stop();
    }

    std::vector<Upload> uploads = queue_batch(f, 10, 1600, 1200);
    for (const auto& upload : uploads)
        CHECK_FALSE(test::send_wake(f.dir.path() / "ingest.sock", std::to_string(upload.id)));  // nobody listens

    Service after(f, port, 2);
    bool caught_up = test::wait_until([&] { return count_in(f, UploadState::Ingested) == 10; }, 120s);
    REQUIRE_MESSAGE(caught_up, after.process.log());
    after.stop();
    check_each_ingested_once(f, uploads);
}

TEST_CASE("SIGTERM in the middle of a batch finishes the uploads in progress and leaves no claim behind") {
    test::IngestFixture f;
    auto uploads = queue_batch(f, 8, 3000, 2000);
    unsigned short port = test::free_port();
    {
        Service busy(f, port, 1);
        bool working = test::wait_until([&] { return count_in(f, UploadState::Processing) > 0; }, 60s);
        REQUIRE_MESSAGE(working, busy.process.log());
        busy.stop();
        CHECK(count_in(f, UploadState::Processing) == 0);
        CHECK(count_in(f, UploadState::Ingested) + count_in(f, UploadState::Queued) == 8);
        MESSAGE("stopped with " << count_in(f, UploadState::Ingested) << " of 8 ingested");
    }
    Service again(f, port, 2);
    bool caught_up = test::wait_until([&] { return count_in(f, UploadState::Ingested) == 8; }, 120s);
    REQUIRE_MESSAGE(caught_up, again.process.log());
    again.stop();
    check_each_ingested_once(f, uploads);
}

TEST_CASE("two services given one wake-up socket: the one that stops leaves the other's socket in place") {
    test::IngestFixture f;
    Service first(f, test::free_port(), 1);
    Service second(f, test::free_port(), 2);  // binds the path again: the later service is the one woken
    first.stop();
    CHECK(fs::exists(second.socket));
    auto upload = f.queue(test::encode(test::photo_like(800, 600, 1), ".jpg"), "IMG_0001.JPG");
    CHECK(test::send_wake(second.socket, std::to_string(upload.id)));
    bool ingested = test::wait_until([&] { return count_in(f, UploadState::Ingested) == 1; }, 30s);
    CHECK_MESSAGE(ingested, second.process.log());
    second.stop();
    CHECK_FALSE(fs::exists(second.socket));
}
