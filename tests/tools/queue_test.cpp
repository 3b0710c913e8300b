// queue, queue retry, queue watch.
#include "tests/tools/ctl_fixture.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <thread>

using namespace photodrop;
using photodrop::test::Ctl;

namespace {
struct Demo {
    Ctl ctl;
    std::unique_ptr<Catalog> cat;
    Job job;
    Album album;
    Demo() {
        ctl.init_demo();
        cat = ctl.catalog();
        job = *cat->job(1);
        album = cat->add_album(job.id, "Class 1A");
    }
};
}  // namespace

TEST_CASE("queue shows counts by state and the age of the oldest queued upload") {
    Demo d;
    test::add_upload(*d.cat, d.job.id, d.album.id, "a.jpg", UploadState::Ingested);
    test::add_upload(*d.cat, d.job.id, d.album.id, "b.jpg", UploadState::Failed, "disk full");
    test::add_upload(*d.cat, d.job.id, d.album.id, "c.jpg", UploadState::Queued);
    test::add_upload(*d.cat, d.job.id, d.album.id, "d.jpg", UploadState::Queued);

    auto text = d.ctl.run({"queue"});
    CHECK(text.status == 0);
    CHECK(text.out.find("STATE       UPLOADS\n") == 0);
    CHECK(text.out.find("queued      2\n") != std::string::npos);
    CHECK(text.out.find("failed      1\n") != std::string::npos);
    CHECK(text.out.find("ingested    1\n") != std::string::npos);
    CHECK(text.out.find("backlog: 2 (queued + processing)\n") != std::string::npos);
    CHECK(text.out.find("oldest queued upload: waiting ") != std::string::npos);

    auto json = d.ctl.run({"queue", "--json"});
    REQUIRE(json.status == 0);
    auto j = json.json();
    CHECK(j["by_state"]["queued"] == 2);
    CHECK(j["by_state"]["processing"] == 0);
    CHECK(j["backlog"] == 2);
    CHECK(j["oldest_queued_age_seconds"].get<int64_t>() >= 0);
}

TEST_CASE("queue retry re-queues one upload, a job's, and refuses what cannot be retried") {
    Demo d;
    auto ingested = test::add_upload(*d.cat, d.job.id, d.album.id, "a.jpg", UploadState::Ingested);
    auto failed = test::add_upload(*d.cat, d.job.id, d.album.id, "b.jpg", UploadState::Failed, "disk full");
    auto rejected = test::add_upload(*d.cat, d.job.id, d.album.id, "c.jpg", UploadState::Rejected, "corrupt");
    auto by_name = test::add_upload(*d.cat, d.job.id, d.album.id, "x.zip", UploadState::Rejected,
                                    "refused by name: archives");

    auto one = d.ctl.run({"queue", "retry", "--upload", std::to_string(failed.id)});
    CHECK(one.status == 0);
    CHECK(one.out == "upload " + std::to_string(failed.id) + " queued again\n");
    CHECK(d.cat->upload(failed.id)->state == UploadState::Queued);

    auto not_failed = d.ctl.run({"queue", "retry", "--upload", std::to_string(ingested.id)});
    CHECK(not_failed.status == 1);
    CHECK(not_failed.err == "photodropctl: upload " + std::to_string(ingested.id) +
                                " is ingested: only failed or rejected uploads can be retried\n");

    auto no_bytes = d.ctl.run({"queue", "retry", "--upload", std::to_string(by_name.id)});
    CHECK(no_bytes.status == 1);
    CHECK(no_bytes.err.find("refused before any of its bytes were kept") != std::string::npos);

    auto missing = d.ctl.run({"queue", "retry", "--upload", "999"});
    CHECK(missing.status == 1);
    CHECK(missing.err == "photodropctl: no upload 999\n");

    auto both = d.ctl.run({"queue", "retry", "--upload", "1", "--job", "job00001"});
    CHECK(both.status == 2);
    auto tenant_alone = d.ctl.run({"queue", "retry", "--tenant", "demo"});
    CHECK(tenant_alone.status == 2);

    auto job = d.ctl.run({"queue", "retry", "--job", "job00001", "--tenant", "demo", "--json"});
    CHECK(job.status == 0);
    CHECK(job.json()["requeued"] == 1);
    CHECK(d.cat->upload(rejected.id)->state == UploadState::Queued);
    CHECK(d.cat->upload(by_name.id)->state == UploadState::Rejected);

    auto nothing = d.ctl.run({"queue", "retry"});
    CHECK(nothing.status == 0);
    CHECK(nothing.out == "0 failed or rejected uploads queued again\n");

    auto stats = d.ctl.run({"queue", "--json"}).json();
    CHECK(stats["by_state"]["queued"] == 2);
    CHECK(stats["by_state"]["failed"] == 0);
}

TEST_CASE("queue watch returns at once when nothing is waiting") {
    Demo d;
    auto r = d.ctl.run({"queue", "watch", "--interval", "0.05"});
    CHECK(r.status == 0);
    CHECK(r.out.find("backlog drained: 0 uploads done") != std::string::npos);
}

TEST_CASE("queue watch gives up at its timeout with a one-line error") {
    Demo d;
    test::add_upload(*d.cat, d.job.id, d.album.id, "a.jpg", UploadState::Queued);
    auto start = std::chrono::steady_clock::now();
    auto r = d.ctl.run({"queue", "watch", "--interval", "0.05", "--timeout", "0.3"});
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(r.status == 1);
    CHECK(r.err == "photodropctl: timed out after 1s: 1 upload still queued or processing\n");
    CHECK(r.out.find("backlog 1 (1 queued, 0 processing)") != std::string::npos);
    CHECK(took < std::chrono::seconds(2));
}

TEST_CASE("queue watch follows the backlog until it drains: plain lines, or a bar on a terminal") {
    for (bool terminal : {false, true}) {
        CAPTURE(terminal);
        Demo d;
        for (auto name : {"a.jpg", "b.jpg", "c.jpg"}) test::add_upload(*d.cat, d.job.id, d.album.id, name, UploadState::Queued);
        // The ingest service, played by another connection to the same catalog.
        std::thread ingest([path = d.ctl.catalog_path] {
            auto cat = open_catalog(path);
            while (auto u = cat->claim_next(60'000'000'000)) {
                std::this_thread::sleep_for(std::chrono::milliseconds(120));
                cat->set_state(u->id, UploadState::Rejected, "not an image");
            }
        });
        auto r = d.ctl.run({"queue", "watch", "--interval", "0.05", "--timeout", "20"}, "", terminal);
        ingest.join();
        CHECK(r.status == 0);
        CHECK(r.err.empty());
        CHECK(r.out.find("backlog drained: 3 uploads done") != std::string::npos);
        if (terminal) {
            CHECK(r.out.find('\r') != std::string::npos);
            CHECK(r.out.find("[##############################] 3/3 done, 0 left") != std::string::npos);
        } else {
            CHECK(r.out.find('\r') == std::string::npos);
            CHECK(r.out.find("backlog 3 (") != std::string::npos);
            CHECK(r.out.find("backlog 0 (0 queued, 0 processing), 3 done") != std::string::npos);
        }
    }
}
