// purge, usage, and what queue says about disk space.
#include "catalog/sqlite.hpp"
#include "tests/tools/ctl_fixture.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>

using namespace photodrop;
using photodrop::test::Ctl;
namespace fs = std::filesystem;

namespace {
constexpr int64_t day_ns = int64_t{86400} * 1'000'000'000;

struct Demo {
    Ctl ctl;
    std::unique_ptr<Catalog> cat;
    Job job;
    Demo() {
        ctl.init_demo();
        cat = ctl.catalog();
        job = *cat->job(1);
    }
    // A rejected upload with `size` staged bytes, rejected `days` ago.
    Upload rejected(const std::string& name, size_t size, int days) {
        auto u = test::add_upload(*cat, job.id, std::nullopt, name, UploadState::Rejected, "not an image");
        write(u.data_path, size);
        sql::Database db(ctl.catalog_path);
        db.exec(fmt::format("UPDATE uploads SET updated_ns = {} WHERE id = {}", now_ns() - days * day_ns, u.id));
        return *cat->upload(u.id);
    }
    void write(const std::string& relative, size_t size) {
        fs::path path = fs::path(ctl.data) / relative;
        fs::create_directories(path.parent_path());
        std::ofstream(path) << std::string(size, 'x');
    }
    bool exists(const std::string& relative) { return fs::exists(fs::path(ctl.data) / relative); }
};
}  // namespace

TEST_CASE("purge --dry-run lists what purge then removes, per tenant and kind") {
    Demo d;
    auto old = d.rejected("old.jpg", 3000, 8);
    auto recent = d.rejected("recent.jpg", 1000, 1);

    auto dry = d.ctl.run({"purge", "--dry-run", "--json"});
    REQUIRE(dry.status == 0);
    auto j = dry.json();
    CHECK(j["dry_run"] == true);
    REQUIRE(j["files"].size() == 1);
    CHECK(j["files"][0]["path"] == old.data_path);
    CHECK(j["files"][0]["kind"] == "rejected");
    CHECK(j["files"][0]["tenant"] == "demo");
    CHECK(j["files"][0]["bytes"] == 3000);
    CHECK(j["by_tenant_and_kind"][0] == nlohmann::json{{"tenant", "demo"}, {"kind", "rejected"}, {"files", 1}, {"bytes", 3000}});
    CHECK(j["total"]["bytes"] == 3000);
    CHECK(d.exists(old.data_path));
    CHECK(d.cat->upload(old.id)->data_path == old.data_path);

    auto text = d.ctl.run({"purge", "--dry-run"});
    CHECK(text.status == 0);
    CHECK(text.out.find("would remove demo  rejected  2.9 KiB  " + old.data_path) != std::string::npos);
    CHECK(text.out.find("dry run: would remove 1 file, 2.9 KiB\n") != std::string::npos);
    CHECK(d.exists(old.data_path));

    auto real = d.ctl.run({"purge"});
    CHECK(real.status == 0);
    CHECK(real.out.find("removed demo  rejected  2.9 KiB  " + old.data_path) != std::string::npos);
    CHECK(real.out.find("removed 1 file, 2.9 KiB\n") != std::string::npos);
    CHECK_FALSE(d.exists(old.data_path));
    CHECK(d.exists(recent.data_path));
    CHECK(d.cat->upload(old.id)->data_path.empty());

    auto again = d.ctl.run({"purge"});
    CHECK(again.out == "removed nothing\n");
    CHECK(d.ctl.run({"purge", "--tenant", "nobody"}).status == 1);
}

TEST_CASE("usage shows bytes per area and state, live and purgeable, and adds up") {
    Demo d;
    d.rejected("old.jpg", 3000, 8);
    auto queued = test::add_upload(*d.cat, d.job.id, std::nullopt, "q.jpg", UploadState::Queued);
    d.write(queued.data_path, 5000);
    d.write("demo/originals/ab/abcd.jpg", 7000);
    d.write("demo/thumbnails/ab/abcd.jpg", 100);

    auto r = d.ctl.run({"usage", "--json"});
    REQUIRE(r.status == 0);
    auto t = r.json()["tenants"][0];
    CHECK(t["tenant"] == "demo");
    int64_t bytes = 0, files = 0;
    for (const auto& line : t["lines"]) {
        bytes += line["bytes"].get<int64_t>();
        files += line["files"].get<int64_t>();
        if (line["area"] == "staging" && line["kind"] == "rejected") {
            CHECK(line["bytes"] == 3000);
            CHECK(line["purgeable_bytes"] == 3000);
        }
        if (line["area"] == "staging" && line["kind"] == "queued") CHECK(line["purgeable_bytes"] == 0);
    }
    CHECK(bytes == 15100);
    CHECK(files == 4);
    CHECK(t["total"]["bytes"] == bytes);
    CHECK(t["purgeable"]["bytes"] == 3000);
    CHECK(t["live"]["bytes"] == 12100);

    auto text = d.ctl.run({"usage", "--tenant", "demo"});
    CHECK(text.status == 0);
    CHECK(text.out.find("TENANT  AREA") == 0);
    CHECK(text.out.find("demo: 11.8 KiB live, 2.9 KiB purgeable now") != std::string::npos);
}

TEST_CASE("queue says how much the data directory has free, and which uploads wait for disk space") {
    Demo d;
    auto u = test::add_upload(*d.cat, d.job.id, std::nullopt, "a.jpg", UploadState::Processing);
    d.cat->wait_for_space(u.id, "cannot write demo/thumbnails/ab/x.jpg: No space left on device", 0);

    auto json = d.ctl.run({"queue", "--json"});
    REQUIRE(json.status == 0);
    auto j = json.json();
    CHECK(j["uploads_waiting_for_space"] == 1);
    CHECK(j["waiting_for_space"] == true);
    CHECK(j["data_free_bytes"].get<int64_t>() > 0);
    CHECK(j["ingest_space_floor_bytes"] == int64_t{64} << 20);

    auto text = d.ctl.run({"queue"});
    CHECK(text.out.find("1 upload waiting for disk space") != std::string::npos);
    CHECK(text.out.find(" free\n") != std::string::npos);
    auto after = d.cat->upload(u.id);
    CHECK(after->state == UploadState::Queued);
    CHECK(after->reason == "waiting for disk space: cannot write demo/thumbnails/ab/x.jpg: No space left on device");
    CHECK(after->attempts == 0);
}
