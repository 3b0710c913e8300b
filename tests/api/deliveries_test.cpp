// The catalog's side of webhook deliveries (ApiCatalog): which events become
// deliveries, and which deliveries may be attempted when. Run on SQLite and,
// as test_webhooks_postgresql, on PostgreSQL.

#include "catalog/catalog.hpp"
#include "tests/support/catalog_location.hpp"
#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>

#include <thread>

using namespace photodrop;

namespace {

constexpr int64_t minute_ns = 60'000'000'000;

struct Fixture {
    test::TempDir dir;
    std::unique_ptr<Catalog> cat = open_catalog(test::catalog_location(dir.path()));
    Tenant tenant = cat->add_tenant("demo", "Demo Studio");
    Tenant other = cat->add_tenant("other", "Other Studio");
    Job job = cat->add_job(tenant.id, "job00001", "Spring", Layout::Albums, JobStatus::Planned);
    Job job2 = cat->add_job(tenant.id, "job00002", "Autumn", Layout::Albums, JobStatus::Planned);
    Job other_job = cat->add_job(other.id, "job00001", "Other", Layout::Albums, JobStatus::Planned);
    const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    // A job.status_changed event of the job; returns its id.
    Id status_change(Id job_id) {
        auto j = cat->job(job_id);
        cat->set_job_status(job_id, j->status == JobStatus::Planned ? JobStatus::Selling : JobStatus::Planned);
        return cat->events(std::nullopt, 0, 100000).back().id;
    }
    Id album_created(Id job_id, const std::string& name) {
        cat->add_album(job_id, name);
        return cat->events(std::nullopt, 0, 100000).back().id;
    }
    std::vector<DeliveryAttempt> claim(int64_t lease_ns = minute_ns) { return cat->claim_deliveries(lease_ns, 100); }
};

std::vector<Id> event_ids(const std::vector<DeliveryAttempt>& attempts) {
    std::vector<Id> out;
    for (const auto& a : attempts) out.push_back(a.event.id);
    return out;
}

}  // namespace

TEST_CASE("deliveries are made for the webhooks of the event's tenant that take its type") {
    Fixture f;
    auto albums_only = f.cat->add_webhook(f.tenant.id, "https://a.example/hook", f.secret, {"album.created"});
    auto every = f.cat->add_webhook(f.tenant.id, "https://b.example/hook", f.secret, {});
    auto others = f.cat->add_webhook(f.other.id, "https://c.example/hook", f.secret, {});
    Id album = f.album_created(f.job.id, "Class 1A");
    Id status = f.status_change(f.job.id);
    Id other_status = f.status_change(f.other_job.id);

    CHECK(f.cat->enqueue_deliveries() == 4);
    CHECK(f.cat->enqueue_deliveries() == 0);  // each event once

    std::map<Id, std::vector<Id>> by_webhook;
    for (const auto& d : f.cat->deliveries(f.tenant.id, std::nullopt, Page{}))
        by_webhook[d.webhook_id].push_back(d.event_id);
    for (const auto& d : f.cat->deliveries(f.other.id, std::nullopt, Page{}))
        by_webhook[d.webhook_id].push_back(d.event_id);
    CHECK(by_webhook[albums_only.id] == std::vector<Id>{album});
    CHECK(by_webhook[every.id] == std::vector<Id>{status, album});  // newest first
    CHECK(by_webhook[others.id] == std::vector<Id>{other_status});

    auto d = f.cat->deliveries(f.tenant.id, DeliveryState::Pending, Page{});
    REQUIRE(d.size() == 3);
    CHECK(d[0].attempts == 0);
    CHECK(d[0].job_id == f.job.id);
    CHECK(f.cat->deliveries(f.tenant.id, DeliveryState::Failed, Page{}).empty());
}

TEST_CASE("a webhook added later is not sent the events before it") {
    Fixture f;
    f.status_change(f.job.id);
    f.album_created(f.job.id, "Class 1A");
    auto hook = f.cat->add_webhook(f.tenant.id, "https://a.example/hook", f.secret, {});
    CHECK(f.cat->enqueue_deliveries() == 0);
    CHECK(f.claim().empty());
    Id later = f.status_change(f.job.id);
    CHECK(f.cat->enqueue_deliveries() == 1);
    auto claimed = f.claim();
    REQUIRE(claimed.size() == 1);
    CHECK(claimed[0].event.id == later);
    CHECK(claimed[0].webhook.id == hook.id);
    CHECK(claimed[0].webhook.secret == f.secret);
    CHECK(claimed[0].delivery.attempts == 1);
}

TEST_CASE("a job's next delivery waits for the one before it; other jobs and webhooks do not") {
    Fixture f;
    auto a = f.cat->add_webhook(f.tenant.id, "https://a.example/hook", f.secret, {});
    auto b = f.cat->add_webhook(f.tenant.id, "https://b.example/hook", f.secret, {});
    Id first = f.status_change(f.job.id);
    Id second = f.status_change(f.job.id);
    Id elsewhere = f.status_change(f.job2.id);
    f.cat->enqueue_deliveries();

    auto claimed = f.claim();
    // The first of each webhook and job: job00001's first and job00002's, for both webhooks.
    REQUIRE(claimed.size() == 4);
    for (const auto& c : claimed) CHECK(c.event.id != second);
    CHECK(f.claim().empty());  // all leased; the second waits

    auto of = [&](Id webhook, Id event) {
        for (const auto& c : claimed)
            if (c.webhook.id == webhook && c.event.id == event) return c.delivery.id;
        FAIL("not claimed");
        return Id{0};
    };
    // A failed attempt to be retried later keeps the second waiting behind it.
    f.cat->delivery_failed(of(a.id, first), 500, "HTTP 500", now_ns() + minute_ns);
    f.cat->delivery_done(of(b.id, first), 204);
    f.cat->delivery_done(of(a.id, elsewhere), 200);
    auto next = f.claim();
    REQUIRE(next.size() == 1);
    CHECK(next[0].webhook.id == b.id);
    CHECK(next[0].event.id == second);

    auto done = f.cat->deliveries(f.tenant.id, DeliveryState::Delivered, Page{});
    REQUIRE(done.size() == 2);
    CHECK(done[0].last_status == 200);
    CHECK(done[0].done_ns.has_value());
}

TEST_CASE("a claim whose lease ran out is claimed again; a retry is claimed when it is due") {
    Fixture f;
    f.cat->add_webhook(f.tenant.id, "https://a.example/hook", f.secret, {});
    Id event = f.status_change(f.job.id);
    f.cat->enqueue_deliveries();
    auto claimed = f.claim(5'000'000);  // 5 ms
    REQUIRE(claimed.size() == 1);
    CHECK(f.claim().empty());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto again = f.claim();
    REQUIRE(again.size() == 1);
    CHECK(again[0].event.id == event);
    CHECK(again[0].delivery.id == claimed[0].delivery.id);
    CHECK(again[0].delivery.attempts == 2);

    f.cat->delivery_failed(again[0].delivery.id, std::nullopt, "connection refused", now_ns() + 50'000'000);
    CHECK(f.claim().empty());
    auto pending = f.cat->deliveries(f.tenant.id, DeliveryState::Pending, Page{});
    REQUIRE(pending.size() == 1);
    CHECK(pending[0].last_error == "connection refused");
    CHECK_FALSE(pending[0].last_status.has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(80));
    auto due = f.claim();
    REQUIRE(due.size() == 1);
    CHECK(due[0].delivery.attempts == 3);
}

TEST_CASE("a delivery given up is failed, and lets the next of its job go") {
    Fixture f;
    f.cat->add_webhook(f.tenant.id, "https://a.example/hook", f.secret, {});
    f.status_change(f.job.id);
    Id second = f.status_change(f.job.id);
    f.cat->enqueue_deliveries();
    auto claimed = f.claim();
    REQUIRE(claimed.size() == 1);
    f.cat->delivery_failed(claimed[0].delivery.id, 503, "HTTP 503", std::nullopt);

    auto failed = f.cat->deliveries(f.tenant.id, DeliveryState::Failed, Page{});
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].last_status == 503);
    CHECK(failed[0].done_ns.has_value());
    CHECK(event_ids(f.claim()) == std::vector<Id>{second});
}

TEST_CASE("removing a webhook drops what was still to be sent to it") {
    Fixture f;
    auto hook = f.cat->add_webhook(f.tenant.id, "https://a.example/hook", f.secret, {});
    f.status_change(f.job.id);
    f.cat->enqueue_deliveries();
    f.cat->remove_webhook(hook.id);
    CHECK(f.cat->deliveries(f.tenant.id, std::nullopt, Page{}).empty());
    CHECK(f.claim().empty());
    CHECK_THROWS_AS(f.cat->remove_webhook(hook.id), CatalogError);
}

TEST_CASE("a claim can pass over the webhooks that are busy") {
    Fixture f;
    auto a = f.cat->add_webhook(f.tenant.id, "https://a.example/hook", f.secret, {});
    auto b = f.cat->add_webhook(f.tenant.id, "https://b.example/hook", f.secret, {});
    Id event = f.status_change(f.job.id);
    f.cat->enqueue_deliveries();
    auto claimed = f.cat->claim_deliveries(minute_ns, 10, {a.id});
    REQUIRE(claimed.size() == 1);
    CHECK(claimed[0].webhook.id == b.id);
    CHECK(f.cat->claim_deliveries(minute_ns, 10, {a.id, b.id}).empty());
    auto rest = f.cat->claim_deliveries(minute_ns, 10, {b.id});
    REQUIRE(rest.size() == 1);
    CHECK(rest[0].webhook.id == a.id);
    CHECK(rest[0].event.id == event);
}
