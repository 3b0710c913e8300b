// The deliverer against a receiver this test runs on 127.0.0.1 (receiver.py:
// Python's http.server, which checks the signatures with Python's hmac).
// Run on SQLite and, as test_webhooks_postgresql, on PostgreSQL.

#include "api/webhooks/client.hpp"
#include "api/webhooks/deliverer.hpp"
#include "api/webhooks/signature.hpp"
#include "catalog/catalog.hpp"
#include "tests/support/catalog_location.hpp"
#include "tests/support/process.hpp"
#include "tests/support/tempdir.hpp"
#include "tests/api/receiver.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

using namespace photodrop;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

using test::Clock;
using test::Receiver;
using test::wait_until;

// The deliverer's lines, kept for the checks.
struct Lines {
    std::mutex mutex;
    std::vector<std::string> lines;
    std::function<void(const std::string&)> sink() {
        return [this](const std::string& line) {
            std::lock_guard lock(mutex);
            lines.push_back(line);
        };
    }
    bool any(const std::string& text) {
        std::lock_guard lock(mutex);
        for (const auto& l : lines)
            if (l.find(text) != std::string::npos) return true;
        return false;
    }
};

struct Fixture {
    test::TempDir dir;
    std::string location = test::catalog_location(dir.path());
    std::unique_ptr<Catalog> cat = open_catalog(location);
    Tenant tenant = cat->add_tenant("demo", "Demo Studio");
    Tenant other = cat->add_tenant("other", "Other Studio");
    Job job = cat->add_job(tenant.id, "job00001", "Spring", Layout::Albums, JobStatus::Planned);
    Job job2 = cat->add_job(tenant.id, "job00002", "Autumn", Layout::Albums, JobStatus::Planned);
    Lines lines;

    webhooks::DelivererSettings quick() {
        webhooks::DelivererSettings s;
        s.poll = 50ms;
        s.timeout = 1000ms;
        s.backoff.first = 100ms;
        s.backoff.most = 400ms;
        s.log = lines.sink();
        return s;
    }
    Id status_change(Id job_id) {
        auto j = cat->job(job_id);
        cat->set_job_status(job_id, j->status == JobStatus::Planned ? JobStatus::Selling : JobStatus::Planned);
        return cat->events(std::nullopt, 0, 100000).back().id;
    }
    std::vector<Delivery> deliveries(const Tenant& t, std::optional<DeliveryState> state = std::nullopt) {
        return cat->deliveries(t.id, state, Page{0, 1000});
    }
};

std::vector<json> answered(const std::vector<json>& requests, int status) {
    std::vector<json> out;
    for (const auto& r : requests)
        if (r["status"] == status && !r["hung"].get<bool>()) out.push_back(r);
    return out;
}

}  // namespace

TEST_CASE("a delivery is signed as Standard Webhooks says, retried after 500s with the same webhook-id") {
    Fixture f;
    Receiver receiver(f.dir.path());
    auto secret = webhooks::new_secret();
    receiver.configure({{"/a", {{"secret", secret}, {"fail", 2}}}});
    auto hook = f.cat->add_webhook(f.tenant.id, receiver.url("/a"), secret, {});
    Id event = f.status_change(f.job.id);

    webhooks::Deliverer deliverer(f.location, f.quick());
    REQUIRE(wait_until([&] { return !answered(receiver.requests("/a"), 200).empty(); }, 15s));
    auto requests = receiver.requests("/a");
    REQUIRE(requests.size() == 3);
    CHECK(requests[0]["status"] == 500);
    CHECK(requests[1]["status"] == 500);
    CHECK(requests[2]["status"] == 200);
    int64_t now_s = now_ns() / 1'000'000'000;
    for (const auto& r : requests) {
        CHECK(r["signature_ok"] == true);
        CHECK(r["headers"]["webhook-id"] == "evt_" + std::to_string(event));
        CHECK(r["headers"]["content-type"] == "application/json");
        CHECK(r["headers"]["user-agent"] == "photodrop");
        auto sent_at = std::stoll(r["headers"]["webhook-timestamp"].get<std::string>());
        CHECK(std::abs(sent_at - now_s) < 60);
        auto body = json::parse(r["body"].get<std::string>());
        CHECK(body["id"] == event);
        CHECK(body["type"] == "job.status_changed");
        CHECK(body["tenant"] == "demo");
        CHECK(body["job_id"] == f.job.id);
        CHECK(body["data"]["to"] == "selling");
    }
    // The retries waited: about 100 ms, then about 200 ms.
    CHECK(requests[1]["received"].get<double>() - requests[0]["received"].get<double>() >= 0.07);
    CHECK(requests[2]["received"].get<double>() - requests[1]["received"].get<double>() >= 0.15);

    REQUIRE(wait_until([&] { return f.deliveries(f.tenant, DeliveryState::Delivered).size() == 1; }, 5s));
    auto d = f.deliveries(f.tenant)[0];
    CHECK(d.webhook_id == hook.id);
    CHECK(d.attempts == 3);
    CHECK(d.last_status == 200);
    CHECK(f.lines.any("HTTP 500"));
    CHECK(f.lines.any("delivered"));
}

TEST_CASE("an endpoint that does not answer in time is tried again") {
    Fixture f;
    Receiver receiver(f.dir.path());
    auto secret = webhooks::new_secret();
    receiver.configure({{"/slow", {{"secret", secret}, {"hang", 1}, {"hang_seconds", 4}}}});
    f.cat->add_webhook(f.tenant.id, receiver.url("/slow"), secret, {});
    f.status_change(f.job.id);

    auto settings = f.quick();
    settings.timeout = 500ms;
    webhooks::Deliverer deliverer(f.location, settings);
    REQUIRE(wait_until([&] { return f.deliveries(f.tenant, DeliveryState::Delivered).size() == 1; }, 10s));
    auto requests = receiver.requests("/slow");
    REQUIRE(requests.size() == 2);
    CHECK(requests[0]["hung"] == true);
    CHECK(requests[1]["status"] == 200);
    CHECK(requests[0]["headers"]["webhook-id"] == requests[1]["headers"]["webhook-id"]);
    CHECK(requests[1]["signature_ok"] == true);
    CHECK(f.deliveries(f.tenant)[0].attempts == 2);
    CHECK(f.lines.any("no answer within 500 ms"));
}

TEST_CASE("a job's events arrive in their order across retries, and another job's are not held up") {
    Fixture f;
    Receiver receiver(f.dir.path());
    auto secret = webhooks::new_secret();
    f.cat->add_webhook(f.tenant.id, receiver.url("/ordered"), secret, {});
    Id first = f.status_change(f.job.id);
    Id second = f.status_change(f.job.id);
    Id third = f.status_change(f.job.id);
    Id elsewhere = f.status_change(f.job2.id);
    auto id_of = [](Id event) { return "evt_" + std::to_string(event); };
    receiver.configure({{"/ordered", {{"secret", secret}, {"fail", 3}, {"fail_ids", {id_of(first)}}}}});

    webhooks::Deliverer deliverer(f.location, f.quick());
    REQUIRE(wait_until([&] { return f.deliveries(f.tenant, DeliveryState::Delivered).size() == 4; }, 15s));
    auto requests = receiver.requests("/ordered");
    std::vector<std::string> ids;
    for (const auto& r : requests) {
        CHECK(r["signature_ok"] == true);
        ids.push_back(r["headers"]["webhook-id"]);
    }
    // job00001: its first three times (500s) and a fourth (delivered), then the second, then the third.
    std::vector<std::string> job1;
    for (const auto& id : ids)
        if (id != id_of(elsewhere)) job1.push_back(id);
    CHECK(job1 == std::vector<std::string>{id_of(first), id_of(first), id_of(first), id_of(first), id_of(second),
                                           id_of(third)});
    // job00002's went out at once, before job00001's first was through.
    REQUIRE(std::count(ids.begin(), ids.end(), id_of(elsewhere)) == 1);
    auto at = std::find(ids.begin(), ids.end(), id_of(elsewhere)) - ids.begin();
    CHECK(at < 3);
}

TEST_CASE("dead endpoints of one tenant do not delay a live endpoint of another") {
    Fixture f;
    Receiver receiver(f.dir.path());
    auto secret = webhooks::new_secret();
    receiver.configure(
        {{"/hang", {{"secret", secret}, {"hang", 1000}, {"hang_seconds", 30}}}, {"/live", {{"secret", secret}}}});
    // The other tenant's endpoints: one nobody listens on, one that never answers.
    auto refused =
        f.cat->add_webhook(f.other.id, "http://127.0.0.1:" + std::to_string(test::free_port()) + "/", secret, {});
    auto hanging = f.cat->add_webhook(f.other.id, receiver.url("/hang"), secret, {});
    std::vector<Job> other_jobs;
    // More of its jobs with events to send than there are slots.
    for (int i = 1; i <= 12; ++i) {
        auto j = f.cat->add_job(f.other.id, fmt::format("job{:05}", i), "", Layout::Albums, JobStatus::Planned);
        f.status_change(j.id);
        f.status_change(j.id);
        f.cat->add_album(j.id, "Class 1A");
    }
    f.cat->add_webhook(f.tenant.id, receiver.url("/live"), secret, {});

    auto settings = f.quick();
    settings.timeout = 2000ms;
    settings.concurrency = 8;
    settings.per_webhook = 3;
    webhooks::Deliverer deliverer(f.location, settings);
    // The dead ones are being tried (and hang) ...
    REQUIRE(wait_until([&] { return receiver.requests("/hang").size() >= 3; }, 10s));
    // ... while the live one gets each of its events within a second or two.
    for (int i = 0; i < 3; ++i) {
        Id event = f.status_change(i % 2 ? f.job.id : f.job2.id);
        auto made = Clock::now();
        bool got = wait_until(
            [&] {
                for (const auto& r : receiver.requests("/live"))
                    if (r["headers"]["webhook-id"] == "evt_" + std::to_string(event)) return true;
                return false;
            },
            5s);
        REQUIRE(got);
        CHECK(Clock::now() - made < 2s);
    }
    for (const auto& r : receiver.requests("/live")) CHECK(r["signature_ok"] == true);

    // The dead ones keep failing, and are still to be delivered.
    REQUIRE(wait_until(
        [&] {
            for (const auto& d : f.deliveries(f.other))
                if (d.webhook_id == refused.id && d.attempts >= 2) return true;
            return false;
        },
        10s));
    for (const auto& d : f.deliveries(f.other)) {
        CHECK(d.state == DeliveryState::Pending);
        if (d.webhook_id == refused.id && d.attempts > 0 && d.last_error != "stopped during the attempt")
            CHECK(d.last_error.find("refused") != std::string::npos);
        if (d.webhook_id == hanging.id && d.attempts > 0 && d.next_attempt_ns > 0 && !d.last_error.empty())
            CHECK(d.last_error == "no answer within 2000 ms");
    }
}

TEST_CASE("https endpoints are verified against the system's certificates") {
    test::TempDir dir;
    auto cert = (dir.path() / "cert.pem").string(), key = (dir.path() / "key.pem").string();
    REQUIRE(test::run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days",
                       "1", "-keyout", key, "-out", cert},
                      (dir.path() / "openssl.out").string()) == 0);
    Receiver receiver(dir.path(), {"--tls-cert", cert, "--tls-key", key});
    webhooks::HttpClient client;
    auto url = webhooks::parse_url("https://localhost:" + std::to_string(receiver.port()) + "/tls");
    auto outcome = client.post_now(url, {{"content-type", "application/json"}}, "{}", 5000ms);
    CHECK_FALSE(outcome.delivered());
    CHECK_FALSE(outcome.status.has_value());
    CHECK(outcome.error.find("certificate verify failed") != std::string::npos);
    CHECK(receiver.requests().empty());
}

TEST_CASE("the client reports what went wrong, never waits past its timeout") {
    webhooks::HttpClient client;
    auto refused = client.post_now(webhooks::parse_url("http://127.0.0.1:" + std::to_string(test::free_port()) + "/"),
                                   {}, "{}", 2000ms);
    CHECK_FALSE(refused.delivered());
    CHECK(refused.error.find("refused") != std::string::npos);

    test::TempDir dir;
    Receiver receiver(dir.path());
    receiver.configure({{"/hang", {{"hang", 10}, {"hang_seconds", 10}}}, {"/missing", {{"fail", 1}}}});
    auto started = Clock::now();
    auto hung = client.post_now(webhooks::parse_url(receiver.url("/hang")), {}, "{}", 300ms);
    CHECK(Clock::now() - started < 2s);
    CHECK(hung.error == "no answer within 300 ms");
    auto failed = client.post_now(webhooks::parse_url(receiver.url("/missing")), {}, "{}", 2000ms);
    CHECK(failed.status == 500);
    CHECK(failed.error == "HTTP 500");
    auto ok = client.post_now(webhooks::parse_url(receiver.url("/ok")), {}, "{}", 2000ms);
    CHECK(ok.delivered());
    CHECK(ok.status == 200);
}

TEST_CASE("stopping gives back what was on its way: due again at once, not a lease later") {
    Fixture f;
    Receiver receiver(f.dir.path());
    auto secret = webhooks::new_secret();
    receiver.configure({{"/hang", {{"secret", secret}, {"hang", 1}, {"hang_seconds", 30}}}});
    f.cat->add_webhook(f.tenant.id, receiver.url("/hang"), secret, {});
    f.status_change(f.job.id);
    {
        auto settings = f.quick();
        settings.timeout = 20'000ms;
        webhooks::Deliverer deliverer(f.location, settings);
        REQUIRE(wait_until([&] { return receiver.requests("/hang").size() == 1; }, 10s));
        auto started = Clock::now();
        deliverer.stop();
        CHECK(Clock::now() - started < 2s);
    }
    auto d = f.deliveries(f.tenant);
    REQUIRE(d.size() == 1);
    CHECK(d[0].state == DeliveryState::Pending);
    CHECK(d[0].last_error == "stopped during the attempt");
    CHECK(d[0].next_attempt_ns <= now_ns());

    // The next deliverer sends it again, with the same webhook-id.
    webhooks::Deliverer again(f.location, f.quick());
    REQUIRE(wait_until([&] { return f.deliveries(f.tenant, DeliveryState::Delivered).size() == 1; }, 10s));
    auto requests = receiver.requests("/hang");
    REQUIRE(requests.size() == 2);
    CHECK(requests[0]["headers"]["webhook-id"] == requests[1]["headers"]["webhook-id"]);
}

TEST_CASE("a catalog that cannot be opened is logged and tried again, and the deliverer still stops") {
    test::TempDir dir;
    Lines lines;
    webhooks::DelivererSettings settings;
    settings.log = lines.sink();
    webhooks::Deliverer deliverer((dir.path() / "no such directory" / "catalog.db").string(), settings);
    CHECK(wait_until([&] { return lines.any("looking for deliveries"); }, 5s));
    auto started = Clock::now();
    deliverer.stop();
    CHECK(Clock::now() - started < 2s);
}
