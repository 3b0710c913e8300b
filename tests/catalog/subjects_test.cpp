// Subjects: photos grouped by the cards photographed before them, per camera
// body in capture order, regrouped when photos arrive late or out of order,
// with operators' choices kept and a roster's names. Run on SQLite and, as
// test_catalog_postgresql, on PostgreSQL.

#include "catalog/catalog.hpp"
#include "catalog/subjects.hpp"
#include "tests/support/catalog_location.hpp"
#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <random>

using namespace photodrop;
using json = nlohmann::json;

namespace {

// A photo as a camera took it.
struct Shot {
    std::string file;
    std::string serial;
    std::string taken;  // "YYYY-MM-DD HH:MM:SS"
    int us = 0;
    std::optional<std::string> card;
};

struct Fixture {
    test::TempDir dir;
    std::string location = test::catalog_location(dir.path());
    std::unique_ptr<Catalog> cat = open_catalog(location);
    Tenant tenant = cat->add_tenant("demo", "Demo Studio");
    Job job = cat->add_job(tenant.id, "job00001", "School", Layout::Albums, JobStatus::Planned);
    Album album = cat->add_album(job.id, "Class 1A");
    Id seen = 0;
    std::map<std::string, Id> ids;  // file -> photo

    // Uploads, ingests and files one photo, as photodrop-fs and the ingest service do.
    Id file(const Shot& s, std::optional<Id> album_id = std::nullopt, Section section = Section::Individuals) {
        NewUpload n;
        n.job_id = job.id;
        n.folder = Folder{album_id ? album_id : std::optional<Id>(album.id), section, section == Section::Group};
        n.filename = s.file;
        n.data_path = "demo/staging/" + s.file;
        auto u = cat->add_upload(n);
        cat->close_upload(u.id, 1000, 1, queue_always);
        REQUIRE(cat->claim_next(30'000'000'000));
        IngestResult r;
        r.width = 6000;
        r.height = 4000;
        r.captured_at = s.taken;
        r.captured_us = s.us;
        r.camera_make = "Canon";
        r.camera_model = "EOS R5";
        r.camera_serial = s.serial;
        r.content_hash = s.file + "/" + std::to_string(album_id.value_or(album.id)) + "/" + std::to_string(int(section));
        r.original_path = "demo/originals/" + r.content_hash;
        r.code = s.card;
        return ids[s.file] = cat->file_ingest(u.id, r).photo.id;
    }
    // Each photo's subject ("-" for none), by file.
    std::map<std::string, std::string> subjects(std::optional<Id> album_id = std::nullopt) {
        std::map<std::string, std::string> out;
        for (const auto& p : cat->photos(job.id, album_id ? album_id : std::optional<Id>(album.id)))
            if (!p.deleted) out[p.filename] = p.subject.value_or("-");
        return out;
    }
    // The codes of the subject.updated events since the last call, and their photos.
    std::map<std::string, json> updated() {
        std::map<std::string, json> out;
        for (const auto& e : cat->events(tenant.id, seen, 1000)) {
            seen = e.id;
            if (e.type == "subject.updated") out[json::parse(e.data)["code"]] = json::parse(e.data);
        }
        return out;
    }
};

// Camera A's clock is right; camera B's is an hour and a half ahead.
const std::vector<Shot> session = {
    {"A_0001.jpg", "A1", "2024-05-17 10:00:00", 0, "S1"},
    {"A_0002.jpg", "A1", "2024-05-17 10:00:01", 0, {}},
    {"A_0003.jpg", "A1", "2024-05-17 10:00:02", 0, {}},
    {"A_0004.jpg", "A1", "2024-05-17 10:00:06", 0, {}},
    {"A_0005.jpg", "A1", "2024-05-17 10:00:07", 0, {}},
    {"A_0006.jpg", "A1", "2024-05-17 10:00:10", 500'000, "S2"},
    {"A_0007.jpg", "A1", "2024-05-17 10:00:10", 250'000, {}},  // the same second, before the card
    {"A_0008.jpg", "A1", "2024-05-17 10:00:10", 750'000, {}},
    {"B_0001.jpg", "B2", "2024-05-17 11:29:58", 0, {}},  // before B's first card
    {"B_0002.jpg", "B2", "2024-05-17 11:30:01", 0, "S3"},
    {"B_0003.jpg", "B2", "2024-05-17 11:30:02", 0, {}},
    {"B_0004.jpg", "B2", "2024-05-17 11:30:03", 0, {}},
    {"B_0005.jpg", "B2", "2024-05-17 11:30:04", 0, "S1"},  // a subject photographed by both cameras
    {"B_0006.jpg", "B2", "2024-05-17 11:30:05", 0, {}},
};

const std::map<std::string, std::string> grouped = {
    {"A_0001.jpg", "S1"}, {"A_0002.jpg", "S1"}, {"A_0003.jpg", "S1"}, {"A_0004.jpg", "S1"}, {"A_0005.jpg", "S1"},
    {"A_0006.jpg", "S2"}, {"A_0007.jpg", "S1"}, {"A_0008.jpg", "S2"}, {"B_0001.jpg", "-"},  {"B_0002.jpg", "S3"},
    {"B_0003.jpg", "S3"}, {"B_0004.jpg", "S3"}, {"B_0005.jpg", "S1"}, {"B_0006.jpg", "S1"},
};

}  // namespace

TEST_CASE("two cameras with different clocks, interleaved: each photo belongs to the card before it on its camera") {
    Fixture f;
    // Uploaded interleaved: A, B, A, B, ...
    std::vector<Shot> a, b;
    for (const auto& s : session) (s.serial == "A1" ? a : b).push_back(s);
    for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
        if (i < a.size()) f.file(a[i]);
        if (i < b.size()) f.file(b[i]);
    }
    CHECK(f.subjects() == grouped);
    auto card = f.cat->photo(f.ids["A_0001.jpg"]);
    CHECK(card->card_code == "S1");
    CHECK(card->subject == "S1");
    CHECK_FALSE(f.cat->photo(f.ids["A_0002.jpg"])->card_code);

    // subject.updated, with the subject's photos as they are now.
    auto s3 = f.updated().at("S3");
    CHECK(s3["album"] == "Class 1A");
    CHECK(s3["cards"] == json::array({f.ids["B_0002.jpg"]}));
    CHECK(s3["photos"] == json::array({f.ids["B_0003.jpg"], f.ids["B_0004.jpg"]}));
    CHECK(s3["on_roster"] == false);
}

TEST_CASE("uploads in any order give the same groups") {
    for (unsigned seed : {1u, 2u, 3u}) {
        Fixture f;
        auto shuffled = session;
        std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(seed));
        for (const auto& s : shuffled) f.file(s);
        INFO("seed ", seed);
        CHECK(f.subjects() == grouped);
    }
}

TEST_CASE("a late card changes only the subjects around it") {
    Fixture f;
    for (const auto& s : session) f.file(s);
    f.updated();
    f.file({"A_0099.jpg", "A1", "2024-05-17 10:00:05", 0, "S4"});
    auto expected = grouped;
    expected["A_0099.jpg"] = expected["A_0004.jpg"] = expected["A_0005.jpg"] = expected["A_0007.jpg"] = "S4";
    CHECK(f.subjects() == expected);
    auto events = f.updated();
    REQUIRE(events.size() == 2);
    CHECK(events.at("S1")["photos"] == json::array({f.ids["A_0002.jpg"], f.ids["A_0003.jpg"], f.ids["B_0006.jpg"]}));
    CHECK(events.at("S4")["photos"] == json::array({f.ids["A_0004.jpg"], f.ids["A_0005.jpg"], f.ids["A_0007.jpg"]}));

    // A late photo that is no card joins the subject before it, and only that one is told.
    f.file({"B_0100.jpg", "B2", "2024-05-17 11:30:02", 500'000, {}});
    CHECK(f.subjects().at("B_0100.jpg") == "S3");
    events = f.updated();
    REQUIRE(events.size() == 1);
    CHECK(events.count("S3"));

    // The card deleted: its photos go back to the subject before it.
    f.cat->delete_upload(f.cat->photo(f.ids["A_0099.jpg"])->upload_id);
    CHECK(f.subjects() == [&] {
        auto back = grouped;
        back["B_0100.jpg"] = "S3";
        return back;
    }());
}

TEST_CASE("an operator's assignment survives regrouping, until released") {
    Fixture f;
    for (const auto& s : session) f.file(s);
    f.updated();
    f.cat->assign_subject(f.ids["A_0002.jpg"], "S2");
    f.cat->assign_subject(f.ids["B_0001.jpg"], "S3");
    auto events = f.updated();
    CHECK(events.size() == 3);  // S1 lost a photo, S2 and S3 won one
    CHECK(f.cat->photo(f.ids["A_0002.jpg"])->subject_manual);

    // A late card before it: the operator's choice stays.
    f.file({"A_0098.jpg", "A1", "2024-05-17 10:00:00", 500'000, "S5"});
    auto now = f.subjects();
    CHECK(now.at("A_0002.jpg") == "S2");
    CHECK(now.at("A_0003.jpg") == "S5");
    CHECK(now.at("B_0001.jpg") == "S3");

    // Unassigned by hand, and back to the cards.
    f.cat->assign_subject(f.ids["A_0003.jpg"], std::nullopt);
    CHECK(f.subjects().at("A_0003.jpg") == "-");
    f.cat->release_subject(f.ids["A_0002.jpg"]);
    f.cat->release_subject(f.ids["A_0003.jpg"]);
    now = f.subjects();
    CHECK(now.at("A_0002.jpg") == "S5");
    CHECK(now.at("A_0003.jpg") == "S5");
    CHECK_FALSE(f.cat->photo(f.ids["A_0002.jpg"])->subject_manual);
}

TEST_CASE("the roster names subjects; unknown cards, subjects without photos and with only a card are listed") {
    Fixture f;
    CHECK(f.cat->import_roster(f.job.id, {{"S1", "Anna Berg", "1A", "ext-1"},
                                          {"S2", "Ben Cole", "1A", ""},
                                          {"S3", "Cleo Dunn", "1B", ""},
                                          {"S7", "Dora Ek", "1B", "ext-7"}}) == 4);
    for (const auto& s : session) f.file(s);
    f.file({"A_0200.jpg", "A1", "2024-05-17 10:05:00", 0, "S9"});  // a card not on the roster, nothing after it
    // Another import updates an entry.
    f.cat->import_roster(f.job.id, {{"S2", "Ben Cole-Smith", "1A", "ext-2"}});
    auto roster = f.cat->roster(f.job.id);
    REQUIRE(roster.size() == 4);
    CHECK(roster[1] == RosterEntry{"S2", "Ben Cole-Smith", "1A", "ext-2"});

    auto report = subjects_report(f.cat->photos(f.job.id), roster);
    std::map<std::string, Subject> by_code;
    for (const auto& s : report.subjects) by_code[s.code] = s;
    CHECK(by_code.at("S1").roster->name == "Anna Berg");
    CHECK(by_code.at("S1").cards.size() == 2);
    CHECK(by_code.at("S1").photos.size() == 6);
    CHECK(by_code.at("S3").roster->class_name == "1B");
    CHECK_FALSE(by_code.at("S9").roster);
    CHECK(report.unassigned == std::vector<Id>{f.ids["B_0001.jpg"]});
    CHECK(report.not_on_roster == std::vector<std::string>{"S9"});
    CHECK(report.without_photos == std::vector<std::string>{"S7"});
    CHECK(report.only_a_card == std::vector<std::string>{"S9"});

    auto events = f.updated();
    CHECK(events.at("S1")["name"] == "Anna Berg");
    CHECK(events.at("S9")["on_roster"] == false);
}

TEST_CASE("group sections and other albums are grouped apart; a flat job's photos are grouped") {
    Fixture f;
    auto other = f.cat->add_album(f.job.id, "Class 1B");
    f.file({"A_0001.jpg", "A1", "2024-05-17 10:00:00", 0, "S1"});
    f.file({"G_0001.jpg", "A1", "2024-05-17 10:00:01", 0, {}}, f.album.id, Section::Group);
    f.file({"O_0001.jpg", "A1", "2024-05-17 10:00:02", 0, {}}, other.id);
    f.file({"A_0002.jpg", "A1", "2024-05-17 10:00:03", 0, {}});
    CHECK(f.subjects() == std::map<std::string, std::string>{{"A_0001.jpg", "S1"}, {"A_0002.jpg", "S1"}, {"G_0001.jpg", "-"}});
    CHECK(f.subjects(other.id) == std::map<std::string, std::string>{{"O_0001.jpg", "-"}});
    CHECK_THROWS_AS(f.cat->assign_subject(f.ids["G_0001.jpg"], "S1"), CatalogError);

    auto flat = f.cat->add_job(f.tenant.id, "job00002", "Flat", Layout::Flat, JobStatus::Planned);
    f.job = flat;
    NewUpload n;
    for (const auto& s : std::vector<Shot>{{"F_0001.jpg", "A1", "2024-05-17 10:00:00", 0, "S1"},
                                           {"F_0002.jpg", "A1", "2024-05-17 10:00:01", 0, {}}}) {
        n.job_id = flat.id;
        n.folder = Folder{};
        n.filename = s.file;
        n.data_path = "demo/staging/" + s.file;
        auto u = f.cat->add_upload(n);
        f.cat->close_upload(u.id, 1000, 1, queue_always);
        REQUIRE(f.cat->claim_next(30'000'000'000));
        IngestResult r;
        r.captured_at = s.taken;
        r.camera_serial = s.serial;
        r.content_hash = "flat/" + s.file;
        r.code = s.card;
        f.cat->file_ingest(u.id, r);
    }
    for (const auto& p : f.cat->photos(flat.id)) CHECK(p.subject == "S1");
}
