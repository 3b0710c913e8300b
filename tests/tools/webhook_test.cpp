// webhook add|list|remove|test|deliveries: what an operator sees. `webhook
// test` posts to receiver.py (tests/api), which checks the signature.
#include "tests/api/receiver.hpp"
#include "tests/tools/ctl_fixture.hpp"

#include <doctest/doctest.h>

using namespace photodrop;
using photodrop::test::Ctl;

TEST_CASE("webhook add checks the URL and the event types, and shows the secret once") {
    Ctl ctl;
    ctl.init_demo();
    auto plain = ctl.run({"webhook", "add", "--tenant", "demo", "http://hooks.example.com/in"});
    CHECK(plain.status == 1);
    CHECK(plain.err.find("plain http is allowed only to this machine") != std::string::npos);
    CHECK(ctl.run({"webhook", "add", "--tenant", "demo", "ftp://hooks.example.com/in"}).status == 1);
    auto bad_type = ctl.run({"webhook", "add", "--tenant", "demo", "https://hooks.example.com/in", "--events",
                             "album.created,photo.eaten"});
    CHECK(bad_type.status == 1);
    CHECK(bad_type.err.find("unknown event type 'photo.eaten'") != std::string::npos);
    CHECK(ctl.run({"webhook", "list"}).out == "no webhooks\n");

    auto added = ctl.run({"webhook", "add", "--tenant", "demo", "https://hooks.example.com/in", "--events",
                          "album.created,job.status_changed"});
    REQUIRE(added.status == 0);
    CHECK(added.out.find("webhook 1 added to tenant demo") != std::string::npos);
    CHECK(added.out.find("secret: whsec_") != std::string::npos);
    auto as_json = ctl.run({"--json", "webhook", "add", "--tenant", "demo", "http://127.0.0.1:9/in"});
    REQUIRE(as_json.status == 0);
    CHECK(as_json.json()["id"] == 2);
    CHECK(as_json.json()["secret"].get<std::string>().starts_with("whsec_"));
    CHECK(as_json.json()["events"].empty());

    auto list = ctl.run({"webhook", "list", "--tenant", "demo"});
    CHECK(list.status == 0);
    CHECK(list.out.find("album.created,job.status_changed") != std::string::npos);
    CHECK(list.out.find("http://127.0.0.1:9/in") != std::string::npos);
    CHECK(list.out.find("whsec_") == std::string::npos);
    auto list_json = ctl.run({"--json", "webhook", "list"});
    REQUIRE(list_json.json().size() == 2);
    for (const auto& w : list_json.json()) CHECK_FALSE(w.contains("secret"));
    CHECK(list_json.json()[0]["tenant"] == "demo");

    CHECK(ctl.run({"webhook", "remove", "1"}).out == "webhook 1 removed (https://hooks.example.com/in)\n");
    auto again = ctl.run({"webhook", "remove", "1"});
    CHECK(again.status == 1);
    CHECK(again.err == "photodropctl: no webhook 1\n");
    CHECK(ctl.run({"--json", "webhook", "list"}).json().size() == 1);
}

TEST_CASE("webhook test sends one signed POST now and says what the endpoint answered") {
    Ctl ctl;
    ctl.init_demo();
    test::Receiver receiver(ctl.dir.path());
    auto added = ctl.run({"--json", "webhook", "add", "--tenant", "demo", receiver.url("/hook")});
    REQUIRE(added.status == 0);
    auto secret = added.json()["secret"].get<std::string>();
    receiver.configure({{"/hook", {{"secret", secret}}}, {"/down", {{"secret", secret}, {"fail", 5}}}});

    auto ok = ctl.run({"webhook", "test", "1"});
    CHECK(ok.status == 0);
    CHECK(ok.out.find("HTTP 200") != std::string::npos);
    auto requests = receiver.requests("/hook");
    REQUIRE(requests.size() == 1);
    CHECK(requests[0]["signature_ok"] == true);
    auto body = nlohmann::json::parse(requests[0]["body"].get<std::string>());
    CHECK(body["type"] == "webhook.test");
    CHECK(body["tenant"] == "demo");

    REQUIRE(ctl.run({"webhook", "add", "--tenant", "demo", receiver.url("/down")}).status == 0);
    auto refused = ctl.run({"webhook", "test", "2"});
    CHECK(refused.status == 1);
    CHECK(refused.err.find("HTTP 500") != std::string::npos);
    auto refused_json = ctl.run({"--json", "webhook", "test", "2"});
    CHECK(refused_json.status == 1);
    CHECK(refused_json.json()["status"] == 500);
    CHECK(refused_json.json()["delivered"] == false);

    REQUIRE(
        ctl.run({"webhook", "add", "--tenant", "demo", "http://127.0.0.1:" + std::to_string(test::free_port()) + "/"})
            .status == 0);
    auto nobody = ctl.run({"webhook", "test", "3", "--timeout", "2"});
    CHECK(nobody.status == 1);
    CHECK(nobody.err.find("refused") != std::string::npos);
}

TEST_CASE("webhook deliveries lists a tenant's deliveries newest first, the failed ones alone if asked") {
    Ctl ctl;
    ctl.init_demo();
    CHECK(ctl.run({"webhook", "deliveries"}).out == "no deliveries in tenant demo\n");
    REQUIRE(ctl.run({"webhook", "add", "--tenant", "demo", "https://hooks.example.com/in"}).status == 0);
    {
        auto cat = ctl.catalog();
        auto tenant = cat->tenant("demo");
        auto job = cat->job(tenant->id, "job00001");
        cat->set_job_status(job->id, JobStatus::Selling);
        cat->set_job_status(job->id, JobStatus::Archived);
        cat->enqueue_deliveries();
        auto first = cat->claim_deliveries(60'000'000'000, 10);
        REQUIRE(first.size() == 1);
        cat->delivery_failed(first[0].delivery.id, 410, "HTTP 410", std::nullopt);
    }
    auto all = ctl.run({"webhook", "deliveries"});
    CHECK(all.status == 0);
    CHECK(all.out.find("job.status_changed") != std::string::npos);
    CHECK(all.out.find("HTTP 410") != std::string::npos);
    auto rows = ctl.run({"--json", "webhook", "deliveries", "--tenant", "demo"}).json();
    REQUIRE(rows.size() == 2);
    CHECK(rows[0]["state"] == "pending");
    CHECK(rows[0]["attempts"] == 0);
    CHECK(rows[0]["job"] == "job00001");
    CHECK(rows[1]["state"] == "failed");
    CHECK(rows[1]["last_status"] == 410);
    CHECK(rows[1]["type"] == "job.status_changed");
    CHECK_FALSE(rows[1]["done"].is_null());
    auto failed = ctl.run({"--json", "webhook", "deliveries", "--failed"}).json();
    REQUIRE(failed.size() == 1);
    CHECK(failed[0]["id"] == rows[1]["id"]);
    CHECK(ctl.run({"--json", "webhook", "deliveries", "--limit", "1"}).json().size() == 1);
}
