// Webhooks through the real programs: uploads over SFTP and through the
// mount, filed by photodrop-ingest, delivered by photodrop-api to a receiver
// on loopback that checks each signature with Python's hmac. A kill -9 of
// photodrop-api in the middle of the deliveries loses none. Run on SQLite
// and on PostgreSQL.

#include "tests/api/receiver.hpp"
#include "tests/support/deployment.hpp"
#include "tests/support/files.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <pwd.h>
#include <signal.h>

#include <map>
#include <set>

using namespace photodrop;
using namespace photodrop::test;

namespace {

// The events delivered to `path` (each delivery's body), in the order they came.
std::vector<json> delivered(const Receiver& receiver, const std::string& path) {
    std::vector<json> out;
    for (const auto& r : receiver.requests(path))
        if (r["status"] == 200) out.push_back(json::parse(r["body"].get<std::string>()));
    return out;
}

// A webhook of `tenant` to the receiver's `path`; its secret, which the receiver checks with.
std::string add_webhook(Deployment& d, Receiver& receiver, const std::string& tenant, const std::string& path,
                        json& config) {
    std::string out;
    REQUIRE_MESSAGE(d.ctl({"--json", "webhook", "add", "--tenant", tenant, receiver.url(path)}, "", &out) == 0, out);
    std::string secret = json::parse(out)["secret"];
    config[path] = {{"secret", secret}};
    receiver.configure(config);
    return secret;
}

}  // namespace

TEST_CASE("uploads, refusals, duplicates and a quiet album reach the platform's webhook, signed") {
    REQUIRE_DEPLOYABLE();
    Deployment d({"studio-w"});
    auto user = d.add_user("pdtw", "studio-w");
    d.start_sshd();
    d.start_ingest();
    TempDir dir;
    Receiver receiver(dir.path());
    json config = json::object();
    add_webhook(d, receiver, "studio-w", "/hook", config);
    d.start_api({"--album-idle", "2s"});

    TempDir local;
    make_jpeg(local.path(), "photo.jpg", 1200, 800);
    std::ofstream(local.path() / "notes.txt") << "not a photo";
    auto sent = d.sftp(user, fmt::format("mkdir \"job00001/Class 1A\"\n"
                                         "put {0}/photo.jpg \"job00001/Class 1A/IMG_0001.jpg\"\n"
                                         "put {0}/photo.jpg \"job00001/Class 1A/IMG_0002.jpg\"\n"
                                         "-put {0}/notes.txt \"job00001/Class 1A/notes.txt\"\n",
                                         local.path().string()));
    INFO(sent.second);
    CHECK(sent.first == 0);

    auto types_seen = [&] {
        std::multiset<std::string> types;
        for (const auto& e : delivered(receiver, "/hook")) types.insert(e["type"].get<std::string>());
        return types;
    };
    bool all = within(30, [&] {
        auto t = types_seen();
        return t.count("album.created") && t.count("photo.ingested") && t.count("photo.duplicate") &&
               t.count("upload.rejected") && t.count("album.idle");
    });
    REQUIRE_MESSAGE(all, d.api().log());
    for (const auto& r : receiver.requests("/hook")) {
        CHECK(r["signature_ok"] == true);
        CHECK(r["headers"]["webhook-id"].get<std::string>().starts_with("evt_"));
        CHECK(r["headers"]["content-type"] == "application/json");
    }
    auto events = delivered(receiver, "/hook");
    for (const auto& e : events) {
        CAPTURE(e.dump());
        CHECK(e["tenant"] == "studio-w");
        // The same bytes twice: whichever the ingest service took first is the photo.
        std::set<std::string> same_bytes{"IMG_0001.jpg", "IMG_0002.jpg"};
        if (e["type"] == "photo.ingested") {
            CHECK(same_bytes.contains(e["data"]["file"].get<std::string>()));
            CHECK(e["data"]["user"] == user);
            CHECK(e["data"]["width"] == 1200);
        }
        if (e["type"] == "photo.duplicate") CHECK(same_bytes.contains(e["data"]["file"].get<std::string>()));
        if (e["type"] == "upload.rejected") {
            CHECK(e["data"]["file"] == "notes.txt");
            CHECK_FALSE(e["data"]["reason"].get<std::string>().empty());
        }
        if (e["type"] == "album.idle") {
            CHECK(e["data"]["album"] == "Class 1A");
            CHECK(e["data"]["accepted"] == 1);
            CHECK(e["data"]["duplicates"] == 1);
            CHECK(e["data"]["refused"] == 1);
            REQUIRE(e["data"]["by_user"].size() == 1);
            CHECK(e["data"]["by_user"][0]["user"] == user);
        }
    }
    std::set<std::string> files;
    for (const auto& e : events)
        if (e["type"] == "photo.ingested" || e["type"] == "photo.duplicate") files.insert(e["data"]["file"].get<std::string>());
    CHECK(files == std::set<std::string>{"IMG_0001.jpg", "IMG_0002.jpg"});
    // In the order they were written, each once (no failures here to retry).
    for (size_t i = 1; i < events.size(); ++i) CHECK(events[i]["id"].get<Id>() > events[i - 1]["id"].get<Id>());
}

TEST_CASE("kill -9 of photodrop-api in the middle of the deliveries: every event delivered at least once, in order per job") {
    REQUIRE_DEPLOYABLE();
    Deployment d({"studio-k"});
    auto user = d.add_user("pdtk", "studio-k");
    d.start_ingest();
    TempDir dir;
    Receiver receiver(dir.path());
    json config = json::object();
    add_webhook(d, receiver, "studio-k", "/hook", config);
    // Each delivery takes a while, so that the kill finds some in flight.
    config["/hook"]["hang"] = 1;
    config["/hook"]["hang_seconds"] = 0.3;
    receiver.configure(config);
    // A short attempt timeout, so that a delivery the kill left claimed is due again soon (its lease).
    const std::vector<std::string> flags{"--album-idle", "1h", "--webhook-timeout", "2s"};
    d.start_api(flags);

    TempDir local;
    auto photo = make_jpeg(local.path(), "photo.jpg", 800, 600);
    const passwd* account = ::getpwnam(user.c_str());
    REQUIRE(account);
    auto& t = d.tenant(0);
    constexpr int photos = 24;
    {
        AsUser as(account->pw_uid, account->pw_gid);
        for (int i = 0; i < photos; ++i) {
            std::string job = i % 2 ? "job00001/Class 1A" : "job00002";
            if (i == 1) REQUIRE(make_dir(t.path("job00001/Class 1A")) == 0);
            REQUIRE(write_file(t.path(fmt::format("{}/IMG_{:04}.jpg", job, i)), jpeg_variant(photo, i)) == 0);
        }
    }
    REQUIRE(within(30, [&] { return delivered(receiver, "/hook").size() >= 4; }));
    d.kill_api();
    size_t before_kill = delivered(receiver, "/hook").size();
    d.start_api(flags);

    // Every event of the tenant, as photodropctl lists them: each photo, and the album.
    std::set<Id> written;
    REQUIRE(within(60, [&] {
        std::string out;
        REQUIRE(d.ctl({"--json", "events", "--tenant", "studio-k", "--limit", "1000"}, "", &out) == 0);
        written.clear();
        for (const auto& e : json::parse(out)) written.insert(e["id"].get<Id>());
        return written.size() == photos + 1;
    }));
    bool all = within(60, [&] {
        std::set<Id> got;
        for (const auto& e : delivered(receiver, "/hook")) got.insert(e["id"].get<Id>());
        return got == written;
    });
    CHECK_MESSAGE(all, d.api().log());
    MESSAGE(fmt::format("{} delivered before the kill, {} requests in all for {} events", before_kill,
                        receiver.requests("/hook").size(), written.size()));

    // In order per job: a job's events arrive first in the order they were written.
    std::map<Id, std::vector<Id>> first_arrivals;
    std::set<Id> seen;
    for (const auto& e : delivered(receiver, "/hook")) {
        Id id = e["id"].get<Id>();
        if (seen.insert(id).second) first_arrivals[e["job_id"].get<Id>()].push_back(id);
    }
    for (const auto& [job, ids] : first_arrivals) {
        CAPTURE(job);
        CHECK(std::is_sorted(ids.begin(), ids.end()));
    }
    // A repeat carries the same webhook-id, so that the receiver can drop it.
    std::map<Id, std::set<std::string>> ids_of;
    for (const auto& r : receiver.requests("/hook"))
        ids_of[json::parse(r["body"].get<std::string>())["id"].get<Id>()].insert(
            r["headers"]["webhook-id"].get<std::string>());
    for (const auto& [event, webhook_ids] : ids_of) CHECK(webhook_ids.size() == 1);
}
