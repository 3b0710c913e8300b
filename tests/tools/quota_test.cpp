// tenant set --quota, and the quota and use that tenant list shows.
#include "tests/tools/ctl_fixture.hpp"

#include <doctest/doctest.h>

using namespace photodrop;
using photodrop::test::Ctl;

TEST_CASE("tenant set --quota sets, shows and clears a tenant's quota; tenant list shows quota and use") {
    Ctl ctl;
    ctl.init_demo();
    {
        auto cat = ctl.catalog();
        auto job = cat->job(cat->tenant("demo")->id, "job00001");
        test::add_upload(*cat, job->id, std::nullopt, "a.jpg", UploadState::Queued);  // 2048 bytes
        test::add_upload(*cat, job->id, std::nullopt, "b.jpg", UploadState::Queued);
    }

    auto none = ctl.run({"tenant", "list"});
    REQUIRE(none.status == 0);
    CHECK(none.out.find("QUOTA") != std::string::npos);
    CHECK(none.out.find("none") != std::string::npos);
    CHECK(none.out.find("4.0 KiB") != std::string::npos);
    auto none_json = ctl.run({"tenant", "list", "--json"});
    REQUIRE(none_json.status == 0);
    CHECK(none_json.json()[0]["quota_bytes"].is_null());
    CHECK(none_json.json()[0]["used_bytes"] == 4096);

    auto set = ctl.run({"tenant", "set", "demo", "--quota", "50G"});
    CHECK(set.status == 0);
    CHECK(set.err.empty());
    CHECK(set.out == "tenant demo: quota 50.0 GiB, 4.0 KiB used\n");
    CHECK(ctl.catalog()->tenant("demo")->quota == int64_t{50} << 30);

    auto list = ctl.run({"tenant", "list"});
    REQUIRE(list.status == 0);
    CHECK(list.out.find("QUOTA") != std::string::npos);
    CHECK(list.out.find("50.0 GiB") != std::string::npos);
    CHECK(list.out.find("4.0 KiB") != std::string::npos);
    auto json = ctl.run({"tenant", "list", "--json"});
    REQUIRE(json.status == 0);
    CHECK(json.json()[0]["quota_bytes"] == int64_t{50} << 30);
    CHECK(json.json()[0]["used_bytes"] == 4096);

    auto set_json = ctl.run({"tenant", "set", "demo", "--quota", "1500k", "--json"});
    REQUIRE(set_json.status == 0);
    CHECK(set_json.json()["quota_bytes"] == 1500 * 1024);
    CHECK(set_json.json()["used_bytes"] == 4096);

    auto cleared = ctl.run({"tenant", "set", "demo", "--quota", "none"});
    CHECK(cleared.status == 0);
    CHECK(cleared.out == "tenant demo: no quota, 4.0 KiB used\n");
    CHECK_FALSE(ctl.catalog()->tenant("demo")->quota);
}

TEST_CASE("tenant set --quota refuses what is not a size, with a reason, and changes nothing") {
    Ctl ctl;
    ctl.init_demo();
    REQUIRE(ctl.run({"tenant", "set", "demo", "--quota", "20G"}).status == 0);
    struct Bad {
        std::string value, reason;
    };
    for (const auto& [value, reason] : std::vector<Bad>{
             {"lots", "invalid quota 'lots': give a size (a number of bytes, or with K, M, G or T, e.g. 50G), or "
                      "'none' for no quota"},
             {"12X", "invalid quota '12X': give a size (a number of bytes, or with K, M, G or T, e.g. 50G), or "
                     "'none' for no quota"},
             {"-5G", "invalid quota '-5G': give a size (a number of bytes, or with K, M, G or T, e.g. 50G), or "
                     "'none' for no quota"},
             {"", "invalid quota '': give a size (a number of bytes, or with K, M, G or T, e.g. 50G), or "
                  "'none' for no quota"},
             {"0", "invalid quota '0': a quota of 0 would refuse every upload; 'none' removes the quota"},
             {"0G", "invalid quota '0G': a quota of 0 would refuse every upload; 'none' removes the quota"},
         }) {
        CAPTURE(value);
        auto r = ctl.run({"tenant", "set", "demo", "--quota", value});
        CHECK(r.status == 1);
        CHECK(r.out.empty());
        CHECK(r.err == "photodropctl: " + reason + "\n");
    }
    CHECK(ctl.catalog()->tenant("demo")->quota == int64_t{20} << 30);

    auto unknown = ctl.run({"tenant", "set", "nobody", "--quota", "1G"});
    CHECK(unknown.status == 1);
    CHECK(unknown.err == "photodropctl: unknown tenant 'nobody'\n");

    auto missing = ctl.run({"tenant", "set", "demo"});
    CHECK(missing.status == 2);

    auto help = ctl.run({"tenant", "set", "--help"});
    CHECK(help.status == 0);
    CHECK(help.out.find("Usage: photodropctl tenant set") != std::string::npos);
    CHECK(help.out.find("'none' for no quota") != std::string::npos);
}
