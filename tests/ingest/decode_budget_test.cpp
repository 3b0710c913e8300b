// How much memory a decode holds at once, and the budget that keeps the service within its memory.

#include "ingest/decode_budget.hpp"
#include "ingest/image.hpp"
#include "ingest/refusal.hpp"
#include "tests/ingest/fixture.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

using namespace photodrop;
using namespace photodrop::ingest;

TEST_CASE("a progressive JPEG and an interlaced PNG are known to be decoded whole; baseline ones stream") {
    test::TempDir dir;
    auto header_of = [&](const std::string& name, const std::string& suffix) {
        auto path = dir.path() / name;
        test::write_bytes(path, test::encode(test::photo_like(400, 300), suffix));
        return read_header(path.string(), 100'000'000);
    };
    CHECK(header_of("progressive.jpg", ".jpg[interlace]").decode_bytes == int64_t{400} * 300 * 3 * 2);
    CHECK(header_of("baseline.jpg", ".jpg").decode_bytes == 0);
    CHECK(header_of("interlaced.png", ".png[interlace]").decode_bytes == int64_t{400} * 300 * 3);
    CHECK(header_of("plain.png", ".png").decode_bytes == 0);
}

TEST_CASE("decodes that would not fit together wait for each other; one larger than the budget is refused") {
    DecodeBudget budget;
    constexpr int64_t limit = 100;
    CHECK_THROWS_AS((void)budget.admit(101, limit), Refusal);
    std::atomic<bool> second_in{false};
    std::thread second;
    {
        auto first = budget.admit(70, limit);
        auto small = budget.admit(30, limit);  // fits beside it
        CHECK(budget.in_use() == 100);
        second = std::thread([&] {
            auto admitted = budget.admit(60, limit);
            second_in = true;
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        CHECK_FALSE(second_in);
    }
    second.join();
    CHECK(second_in);
    CHECK(budget.in_use() == 0);
    auto streaming = budget.admit(0, limit);  // a decode that streams takes nothing
    CHECK(budget.in_use() == 0);
}
