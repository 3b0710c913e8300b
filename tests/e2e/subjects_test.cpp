// Subjects end to end: a school album photographed card, subject, card, ...
// uploaded over SFTP (OpenSSH sftp, out of order) through the real mount,
// ingested by photodrop-ingest, and listed by photodropctl subjects.

#include "tests/support/cards.hpp"
#include "tests/support/deployment.hpp"
#include "tests/support/files.hpp"
#include "tests/support/http.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <thread>

using namespace photodrop;
using namespace photodrop::test;

TEST_CASE("an album of 3 subjects x 5 photos and their cards, uploaded over SFTP, shows exactly the 3 groups") {
    REQUIRE_DEPLOYABLE();
    Deployment d({"studio-q"});
    auto user = d.add_user("pdtq", "studio-q");
    d.start_sshd();
    d.start_ingest({"--workers", "2"});
    auto& t = d.tenant(0);

    // The session as the camera took it: a card, five photos of its subject, the next card, ...
    TempDir local;
    std::vector<std::string> files;
    std::map<std::string, std::vector<std::string>> expected;  // code -> the subject's photos (not the card)
    int n = 0;
    for (std::string code : {"GP-1001", "GP-1002", "GP-1003"})
        for (int shot = 0; shot < 6; ++shot) {
            auto name = fmt::format("IMG_{:04}.jpg", ++n);
            auto frame = photo_like(2000, 1500, n);
            auto image = shot == 0 ? with_card(frame, Card{code, Symbology::Qr, 260, 12.0 * (n % 3)}, 900, 700, 1.0,
                                               local.path())
                                   : frame;
            write_photo(image, local.path() / name,
                        Shot{fmt::format("2024:05:17 09:{:02}:{:02}", n / 60, n % 60), "07", "031022001234"});
            if (shot > 0) expected[code].push_back(name);
            files.push_back(name);
        }

    // Out of order, as parallel transfers and retries deliver them.
    std::shuffle(files.begin(), files.end(), std::mt19937(7));
    std::string batch = "mkdir job00001/Class1A\n";
    for (const auto& f : files) batch += fmt::format("put {} job00001/Class1A/{}\n", (local.path() / f).string(), f);
    auto [status, out] = d.sftp(user, batch);
    CAPTURE(out);
    REQUIRE(status == 0);

    // Every photo ingested (the ingest groups as it files them).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
        auto uploads = t.catalog().uploads(t.albums_job.id);
        auto done = std::count_if(uploads.begin(), uploads.end(),
                                  [](const Upload& u) { return u.state == UploadState::Ingested; });
        if (done == static_cast<long>(files.size())) break;
        REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, done << " of " << files.size() << " ingested in 60 s");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }

    std::string listed;
    REQUIRE(d.ctl({"subjects", "--tenant", "studio-q", "--job", "job00001", "--json"}, "", &listed) == 0);
    auto report = nlohmann::json::parse(listed);
    auto photos = t.catalog().photos(t.albums_job.id);
    std::map<Id, std::string> names;
    for (const auto& p : photos) names[p.id] = p.filename;

    REQUIRE(report["subjects"].size() == 3);
    for (const auto& subject : report["subjects"]) {
        std::string code = subject["code"];
        CAPTURE(code);
        REQUIRE(expected.count(code));
        REQUIRE(subject["cards"].size() == 1);
        std::vector<std::string> got;
        for (Id id : subject["photos"]) got.push_back(names[id]);
        std::sort(got.begin(), got.end());
        CHECK(got == expected[code]);
    }
    CHECK(report["unassigned"].empty());
    CHECK(report["only_a_card"].empty());

    // And photos shows each photo's subject.
    std::string table;
    REQUIRE(d.ctl({"photos", "--tenant", "studio-q", "--job", "job00001"}, "", &table) == 0);
    CAPTURE(table);
    CHECK(table.find("Class1A/individuals/IMG_0001.jpg") != std::string::npos);
    CHECK(table.find("card GP-1002") != std::string::npos);

    // The API names each photo's subject from the roster as it is when the photo is read: a code
    // not on it has no name, and a roster imported again renames at once.
    auto import_roster = [&](const std::string& csv) {
        auto roster = local_file(local.path(), "roster.csv", csv);
        std::string said;
        REQUIRE_MESSAGE(d.ctl({"roster", "import", "--tenant", "studio-q", "--job", "job00001", roster.string()}, "",
                              &said) == 0,
                        said);
    };
    import_roster("code,name,class,external_id\nGP-1001,Ada Lovelace,1A,ext-1\nGP-1002,\"Zo\u00eb \u00d8rsted\",1A,\n");
    auto port = d.start_api();
    std::string made;
    REQUIRE(d.ctl({"--json", "token", "add", "--tenant", "studio-q"}, "", &made) == 0);
    auto token = nlohmann::json::parse(made)["token"].get<std::string>();
    auto get = [&](const std::string& target) {
        auto answer = http_request(port, {"GET", target, {{"Authorization", "Bearer " + token}}, ""});
        INFO(target, " answered ", answer.status, ": ", answer.body);
        REQUIRE(answer.status == 200);
        return nlohmann::json::parse(answer.body);
    };
    auto subjects_by_file = [&] {
        std::map<std::string, nlohmann::json> by_file;
        auto page = get("/v1/jobs/job00001/photos?limit=100");  // kept: the loop reads into it
        for (const auto& item : page["items"]) by_file[item["file"]] = item["subject"];
        return by_file;
    };
    auto by_file = subjects_by_file();
    REQUIRE(by_file.size() == files.size());
    for (const auto& [file, subject] : by_file) {
        CAPTURE(file);
        REQUIRE(subject.is_object());
        std::string code = subject["code"];
        bool card = std::none_of(expected[code].begin(), expected[code].end(), [&](const auto& f) { return f == file; });
        CHECK(subject["card"] == card);
        CHECK(subject["manual"] == false);
        CHECK(subject["on_roster"] == (code != "GP-1003"));
        if (code == "GP-1001") {
            CHECK(subject["name"] == "Ada Lovelace");
            CHECK(subject["class"] == "1A");
            CHECK(subject["external_id"] == "ext-1");
        } else if (code == "GP-1002") {
            CHECK(subject["name"] == "Zo\u00eb \u00d8rsted");
            CHECK(subject["external_id"] == "");
        } else {
            CHECK(subject["name"].is_null());
            CHECK(subject["class"].is_null());
            CHECK(subject["external_id"].is_null());
        }
    }
    import_roster("GP-1001,Ada King,1B,ext-1\nGP-1003,Grace Hopper,1A,ext-3\n");
    by_file = subjects_by_file();
    CHECK(by_file[expected["GP-1001"][0]]["name"] == "Ada King");
    CHECK(by_file[expected["GP-1001"][0]]["class"] == "1B");
    CHECK(by_file[expected["GP-1003"][0]]["name"] == "Grace Hopper");
    CHECK(by_file[expected["GP-1003"][0]]["on_roster"] == true);
    Id one = 0;
    for (const auto& p : photos)
        if (p.filename == expected["GP-1003"][1]) one = p.id;
    auto single = get(fmt::format("/v1/photos/{}", one));
    CHECK(single["subject"]["name"] == "Grace Hopper");
    CHECK(single["subject"]["external_id"] == "ext-3");
}
