// Events through the real programs: each made by what a photographer or an
// operator does (through the mount, over SFTP, with photodropctl), read back
// with `photodropctl events --json`. Run on SQLite and on PostgreSQL.

#include "tests/support/deployment.hpp"
#include "tests/support/files.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <pwd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <thread>

using namespace photodrop;
using namespace photodrop::test;
using json = nlohmann::json;

namespace {

// The events after `after`, as photodropctl prints them.
json events_after(Deployment& d, Id after) {
    std::string out;
    REQUIRE_MESSAGE(d.ctl({"--json", "events", "--tenant", "studio-e", "--after", std::to_string(after)}, "", &out) == 0,
                    out);
    return json::parse(out);
}

// Waits (at most 20 s) for an event of `type` after `after` whose data's `key` is `value`.
json wait_for_event(Deployment& d, Id after, const std::string& type, const std::string& key, const json& value) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
        for (const auto& e : events_after(d, after))
            if (e["type"] == type && e["data"].contains(key) && e["data"][key] == value) return e;
        if (std::chrono::steady_clock::now() > deadline) {
            FAIL(fmt::format("no {} event with {} = {} within 20 s; events: {}", type, key, value.dump(),
                             events_after(d, after).dump()));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

Id last_id(Deployment& d) {
    auto all = events_after(d, 0);
    return all.empty() ? 0 : all.back()["id"].get<Id>();
}

}  // namespace

TEST_CASE("what photographers and operators do becomes events, through the mount and over SFTP") {
    REQUIRE_DEPLOYABLE();
    Deployment d({"studio-e"});
    auto user = d.add_user("pdte", "studio-e");
    d.start_sshd();
    d.start_ingest();
    auto& t = d.tenant(0);
    TempDir local;
    auto photo = make_jpeg(local.path(), "photo.jpg", 1200, 800);
    auto other = make_jpeg(local.path(), "other.jpg", 800, 1200);
    Id start = last_id(d);

    // Through the mount, as the SFTP user: an album, a photo, the same bytes
    // again, an archive, and text named as a photo.
    const passwd* account = ::getpwnam(user.c_str());
    REQUIRE(account);
    auto as_photographer = [&] { return std::make_unique<AsUser>(account->pw_uid, account->pw_gid); };
    {
        auto as = as_photographer();
        REQUIRE(make_dir(t.path("job00001/Class 1A")) == 0);
        REQUIRE(write_file(t.path("job00001/Class 1A/IMG_0001.jpg"), photo) == 0);
    }
    auto album = wait_for_event(d, start, "album.created", "album", "Class 1A");
    auto ingested = wait_for_event(d, start, "photo.ingested", "path", "Class 1A/IMG_0001.jpg");
    {
        auto as = as_photographer();
        REQUIRE(write_file(t.path("job00001/Class 1A/IMG_0002.jpg"), photo) == 0);  // the same bytes, once filed
        CHECK(write_file(t.path("job00001/Class 1A/backup.zip"), "PK\x03\x04 not a photo") != 0);
        REQUIRE(write_file(t.path("job00001/Class 1A/IMG_0003.jpg"), "these are not the pixels you are looking for") == 0);
    }
    CHECK(ingested["data"]["width"] == 1200);
    CHECK(ingested["data"]["album"] == "Class 1A");
    CHECK(ingested["data"]["user"] == user);
    auto duplicate = wait_for_event(d, start, "photo.duplicate", "path", "Class 1A/IMG_0002.jpg");
    CHECK(duplicate["data"]["duplicate_of"] == ingested["data"]["photo_id"]);
    auto archive = wait_for_event(d, start, "upload.rejected", "file", "backup.zip");
    CHECK_FALSE(archive["data"]["reason"].get<std::string>().empty());
    auto truncated = wait_for_event(d, start, "upload.rejected", "file", "IMG_0003.jpg");
    CHECK_FALSE(truncated["data"]["reason"].get<std::string>().empty());

    // Overwritten once ingested: the new photo replaces the old; deleted by the photographer.
    {
        auto as = as_photographer();
        REQUIRE(write_file(t.path("job00001/Class 1A/IMG_0001.jpg"), other) == 0);
    }
    auto replaced = wait_for_event(d, start, "photo.replaced", "path", "Class 1A/IMG_0001.jpg");
    CHECK(replaced["data"]["replaces"] == ingested["data"]["photo_id"]);
    {
        auto as = as_photographer();
        REQUIRE(::unlink(t.path("job00001/Class 1A/IMG_0001.jpg").c_str()) == 0);
    }
    auto deleted = wait_for_event(d, start, "photo.deleted", "path", "Class 1A/IMG_0001.jpg");
    CHECK(deleted["data"]["photo_id"] == replaced["data"]["photo_id"]);

    // Over SFTP: a photo, the same again, a refused file.
    auto sent = d.sftp(user, fmt::format("put {} job00002/sftp.jpg\n", (local.path() / "photo.jpg").string()));
    CAPTURE(sent.second);
    CHECK(sent.first == 0);
    auto over_sftp = wait_for_event(d, start, "photo.ingested", "path", "sftp.jpg");
    CHECK(over_sftp["data"]["user"] == user);
    sent = d.sftp(user, fmt::format("put {0} job00002/sftp-again.jpg\n-put {0} job00002/notes.txt\n",
                                    (local.path() / "photo.jpg").string()));
    CAPTURE(sent.second);
    CHECK(sent.first == 0);
    wait_for_event(d, start, "photo.duplicate", "path", "sftp-again.jpg");
    wait_for_event(d, start, "upload.rejected", "file", "notes.txt");

    // An operator's change of a job's status.
    REQUIRE(d.ctl({"job", "set-status", "--tenant", "studio-e", "job00002", "selling"}) == 0);
    auto status_changed = wait_for_event(d, start, "job.status_changed", "job", "job00002");
    CHECK(status_changed["data"]["to"] == "selling");

    // Every event once, in order.
    auto all = events_after(d, start);
    for (size_t i = 1; i < all.size(); ++i) CHECK(all[i]["id"].get<Id>() > all[i - 1]["id"].get<Id>());
    CHECK(album["id"].get<Id>() < ingested["id"].get<Id>());
}

// The event is written in the transaction of its change: an ingest service
// killed with SIGKILL in the middle of a batch leaves no photo without its
// event and no event without its photo, and the restarted service writes
// each once.
TEST_CASE("no photo without its event and no event without its photo, across a kill -9 of the ingest service") {
    REQUIRE_DEPLOYABLE();
    Deployment d({"studio-e"});
    auto user = d.add_user("pdtk", "studio-e");
    d.start_ingest({"--lease", "3"});
    auto& t = d.tenant(0);
    TempDir local;
    auto base = make_jpeg(local.path(), "base.jpg", 2400, 1600);
    Id start = last_id(d);
    constexpr int files = 24;
    const passwd* account = ::getpwnam(user.c_str());
    REQUIRE(account);
    {
        AsUser as(account->pw_uid, account->pw_gid);
        for (int i = 0; i < files; ++i)
            REQUIRE(write_file(t.path(fmt::format("job00002/IMG_{:04}.jpg", i)), jpeg_variant(base, i)) == 0);
    }
    // Killed once some are filed and others are still to come.
    bool some = within(60, [&] {
        auto n = t.catalog().uploads(t.flat_job.id, UploadState::Ingested).size();
        return n >= 3;
    });
    REQUIRE(some);
    d.kill_ingest();
    auto at_kill = t.catalog().uploads(t.flat_job.id, UploadState::Ingested).size();
    MESSAGE("killed with " << at_kill << " of " << files << " ingested");
    d.start_ingest({"--lease", "3"});  // the claims the killed one held come back within 3 s
    REQUIRE(within(120, [&] { return t.catalog().uploads(t.flat_job.id, UploadState::Ingested).size() == files; }));

    std::map<Id, int> events_of_upload;
    std::map<Id, Id> photo_of_event;
    for (const auto& e : events_after(d, start)) {
        if (e["type"] != "photo.ingested") continue;
        Id upload = e["data"]["upload_id"].get<Id>();
        ++events_of_upload[upload];
        photo_of_event[upload] = e["data"]["photo_id"].get<Id>();
    }
    for (const auto& u : t.catalog().uploads(t.flat_job.id)) {
        CAPTURE(u.filename);
        CHECK(u.state == UploadState::Ingested);
        CHECK(events_of_upload[u.id] == 1);
        REQUIRE(u.photo_id);
        CHECK(photo_of_event[u.id] == *u.photo_id);
        CHECK(t.catalog().photo(*u.photo_id));
    }
    CHECK(events_of_upload.size() == files);
}

// photodrop-fs writes album.created and the refusals at create in the
// transaction of their change: a kill -9 of photodrop-fs while a photographer
// makes albums and sends refused files leaves no album without its event and
// no event without its album (and the same for the refused files).
TEST_CASE("no album or refusal without its event and no event without it, across a kill -9 of photodrop-fs") {
    REQUIRE_DEPLOYABLE();
    Deployment d({"studio-e"});
    auto user = d.add_user("pdtf", "studio-e");
    auto& t = d.tenant(0);
    Id start = last_id(d);
    const passwd* account = ::getpwnam(user.c_str());
    REQUIRE(account);
    std::atomic<int> made = 0;
    std::thread photographer([&] {
        AsUser as(account->pw_uid, account->pw_gid);
        for (int i = 0; i < 2000; ++i) {
            if (make_dir(t.path(fmt::format("job00001/Album {:04}", i))) != 0) return;
            write_file(t.path(fmt::format("job00002/backup-{:04}.zip", i)), "PK\x03\x04");
            ++made;
        }
    });
    bool some = within(60, [&] { return made >= 20; });
    t.kill_daemon();
    photographer.join();
    REQUIRE(some);
    MESSAGE("killed after " << made << " albums");
    t.mount();

    std::map<Id, int> album_events, refusal_events;
    for (const auto& e : events_after(d, start)) {
        if (e["type"] == "album.created") ++album_events[e["album_id"].is_null() ? 0 : e["album_id"].get<Id>()];
        if (e["type"] == "upload.rejected") ++refusal_events[e["data"]["upload_id"].get<Id>()];
    }
    auto albums = t.catalog().albums(t.albums_job.id);
    CHECK(albums.size() >= static_cast<size_t>(made.load()));
    for (const auto& a : albums) {
        CAPTURE(a.name);
        CHECK(album_events[a.id] == 1);
    }
    CHECK(album_events.size() == albums.size());
    auto refused = t.catalog().uploads(t.flat_job.id, UploadState::Rejected);
    for (const auto& u : refused) {
        CAPTURE(u.filename);
        CHECK(refusal_events[u.id] == 1);
    }
    CHECK(refusal_events.size() == refused.size());
}
