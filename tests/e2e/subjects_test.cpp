// Subjects end to end: a school album photographed card, subject, card, ...
// uploaded over SFTP (OpenSSH sftp, out of order) through the real mount,
// ingested by photodrop-ingest, and listed by photodropctl subjects.

#include "tests/support/cards.hpp"
#include "tests/support/deployment.hpp"
#include "tests/support/files.hpp"

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
}
