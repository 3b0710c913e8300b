// What photodrop_webhooks makes without a network: secrets and signatures,
// endpoint URLs, the body of an event, the back-off.

#include "api/webhooks/backoff.hpp"
#include "api/webhooks/message.hpp"
#include "api/webhooks/signature.hpp"
#include "api/webhooks/url.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <set>

using namespace photodrop;
using namespace photodrop::webhooks;

TEST_CASE("signatures are the Standard Webhooks ones") {
    // The example of the Standard Webhooks reference implementations.
    CHECK(sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
               R"({"test": 2432232314})") == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    CHECK(sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331,
               R"({"test": 2432232314})") != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    CHECK_THROWS_AS(sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "m", 1, "{}"), SecretError);
    CHECK_THROWS_AS(sign("whsec_not base64!", "m", 1, "{}"), SecretError);
    CHECK_THROWS_AS(sign("whsec_c2hvcnQ=", "m", 1, "{}"), SecretError);  // 5 bytes
}

TEST_CASE("a new secret is whsec_ and base64 of 32 random bytes") {
    auto a = new_secret(), b = new_secret();
    CHECK(a.starts_with("whsec_"));
    CHECK(a != b);
    CHECK(secret_key(a).size() == 32);
    CHECK(sign(a, "m", 1, "{}").starts_with("v1,"));
}

TEST_CASE("endpoint URLs") {
    auto u = parse_url("https://Hooks.Example.com/in/photodrop?x=1#frag");
    CHECK(u.tls);
    CHECK(u.host == "hooks.example.com");
    CHECK(u.port == "443");
    CHECK(u.target == "/in/photodrop?x=1");
    CHECK(u.host_header() == "hooks.example.com");

    u = parse_url("http://127.0.0.1:8080");
    CHECK_FALSE(u.tls);
    CHECK(u.port == "8080");
    CHECK(u.target == "/");
    CHECK(u.host_header() == "127.0.0.1:8080");

    u = parse_url("http://[::1]:9000/h");
    CHECK(u.host == "::1");
    CHECK(u.host_header() == "[::1]:9000");

    CHECK_THROWS_AS(parse_url("ftp://example.com/"), UrlError);
    CHECK_THROWS_AS(parse_url("example.com/hook"), UrlError);
    CHECK_THROWS_AS(parse_url("https:///hook"), UrlError);
    CHECK_THROWS_AS(parse_url("https://example.com:0/"), UrlError);
    CHECK_THROWS_AS(parse_url("https://example.com:99999/"), UrlError);
    CHECK_THROWS_AS(parse_url("https://example.com:http/"), UrlError);
    CHECK_THROWS_AS(parse_url("https://user:pw@example.com/"), UrlError);
    CHECK_THROWS_AS(parse_url("https://exa mple.com/"), UrlError);
    CHECK_THROWS_AS(parse_url("http://[::1/"), UrlError);

    CHECK_NOTHROW(check_endpoint_url("https://example.com/hook"));
    CHECK_NOTHROW(check_endpoint_url("http://127.0.0.1:9000/hook"));
    CHECK_NOTHROW(check_endpoint_url("http://localhost/hook"));
    CHECK_NOTHROW(check_endpoint_url("http://[::1]/hook"));
    CHECK_THROWS_AS(check_endpoint_url("http://example.com/hook"), UrlError);
    CHECK_THROWS_AS(check_endpoint_url("http://127.example.com/hook"), UrlError);
    CHECK_THROWS_AS(check_endpoint_url("http://10.0.0.1/hook"), UrlError);
}

TEST_CASE("an event's message: its id the same every time, its body the event as JSON") {
    Event e;
    e.id = 42;
    e.type = "photo.ingested";
    e.occurred_ns = 1'777'900'272'345'678'901;
    e.tenant_id = 3;
    e.job_id = 7;
    e.photo_id = 9;
    e.data = R"({"job":"job00001","path":"Class 1A/a.jpg"})";
    auto m = event_message(e, "demo");
    CHECK(m.id == "evt_42");
    CHECK(event_message(e, "demo").id == m.id);
    auto body = nlohmann::json::parse(m.body);
    CHECK(body["id"] == 42);
    CHECK(body["type"] == "photo.ingested");
    CHECK(body["timestamp"] == "2026-05-04T13:11:12.345678Z");
    CHECK(body["tenant"] == "demo");
    CHECK(body["job_id"] == 7);
    CHECK(body["photo_id"] == 9);
    CHECK(body["album_id"].is_null());
    CHECK(body["data"]["path"] == "Class 1A/a.jpg");

    auto headers = signed_headers(m, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 1614265330);
    std::map<std::string, std::string> h(headers.begin(), headers.end());
    CHECK(h["webhook-id"] == "evt_42");
    CHECK(h["webhook-timestamp"] == "1614265330");
    CHECK(h["webhook-signature"] == sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "evt_42", 1614265330, m.body));
    CHECK(h["content-type"] == "application/json");
}

TEST_CASE("retries back off: doubling from the first, capped, spread by the jitter") {
    Backoff b;  // 1 s, at most 1 h, ±20 %
    std::mt19937_64 random(7);
    for (int i = 0; i < 50; ++i) {
        auto first = retry_delay(b, 1, random).count();
        CHECK(first >= 800);
        CHECK(first <= 1200);
        auto fourth = retry_delay(b, 4, random).count();
        CHECK(fourth >= 6400);
        CHECK(fourth <= 9600);
        auto late = retry_delay(b, 60, random).count();
        CHECK(late >= 2'880'000);
        CHECK(late <= 4'320'000);
    }
    std::set<int64_t> spread;
    for (int i = 0; i < 20; ++i) spread.insert(retry_delay(b, 3, random).count());
    CHECK(spread.size() > 10);
}
