#include "ingest/listen_address.hpp"
#include "ingest/retry_policy.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace photodrop::ingest;
using namespace std::chrono_literals;

TEST_CASE("the listen address must be loopback") {
    auto ep = parse_listen_address("127.0.0.1:8470");
    CHECK(ep.address().to_string() == "127.0.0.1");
    CHECK(ep.port() == 8470);
    CHECK(parse_listen_address("[::1]:9000").address().is_loopback());
    CHECK(parse_listen_address("127.0.0.2:0").port() == 0);
    CHECK_THROWS_AS(parse_listen_address("0.0.0.0:8470"), std::invalid_argument);
    CHECK_THROWS_AS(parse_listen_address("192.168.1.4:8470"), std::invalid_argument);
    CHECK_THROWS_AS(parse_listen_address("localhost:8470"), std::invalid_argument);
    CHECK_THROWS_AS(parse_listen_address("127.0.0.1"), std::invalid_argument);
    CHECK_THROWS_AS(parse_listen_address("127.0.0.1:http"), std::invalid_argument);
    CHECK_THROWS_AS(parse_listen_address("127.0.0.1:70000"), std::invalid_argument);
}

TEST_CASE("retries back off exponentially, capped, and stop after the last attempt") {
    RetryPolicy policy;
    CHECK(policy.delay_after(1) == 2s);
    CHECK(policy.delay_after(2) == 4s);
    CHECK(policy.delay_after(4) == 16s);
    CHECK(policy.delay_after(40) == policy.max_delay);
    CHECK_FALSE(policy.gives_up_after(4));
    CHECK(policy.gives_up_after(5));
}
