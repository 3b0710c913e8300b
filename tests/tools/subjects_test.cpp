// roster import, subjects, subjects assign, and photos' subjects: what an operator sees.

#include "tests/tools/ctl_fixture.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <fstream>

using namespace photodrop;
using namespace photodrop::test;

namespace {

// Files photos into album "Class 1A"'s individuals as the ingest does: a card
// (a code) or not, taken a second apart by one camera, in this order.
std::map<std::string, Id> file_photos(Catalog& cat, const std::vector<std::pair<std::string, std::string>>& shots) {
    auto job = *cat.job(1);
    auto album = cat.album(job.id, "Class 1A") ? *cat.album(job.id, "Class 1A") : cat.add_album(job.id, "Class 1A");
    std::map<std::string, Id> ids;
    int second = 0;
    for (const auto& [file, code] : shots) {
        NewUpload n;
        n.job_id = job.id;
        n.folder = Folder{album.id, Section::Individuals, false};
        n.filename = file;
        n.data_path = "demo/staging/" + file;
        auto u = cat.add_upload(n);
        cat.close_upload(u.id, 2048, now_ns(), queue_always);
        REQUIRE(cat.claim_next(60'000'000'000));
        IngestResult r;
        r.width = 4000;
        r.height = 3000;
        r.captured_at = fmt::format("2024-05-01 10:00:{:02}", ++second);
        r.camera_serial = "0815";
        r.content_hash = fmt::format("{:a>64}", file);
        r.original_path = "demo/originals/" + file;
        if (!code.empty()) r.code = code;
        ids[file] = cat.file_ingest(u.id, r).photo.id;
    }
    return ids;
}

std::string write_file(Ctl& ctl, const std::string& name, const std::string& text) {
    auto path = ctl.dir.path() / name;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
}

}  // namespace

TEST_CASE("roster import takes CSV with or without a header, and refuses a bad line naming it") {
    Ctl ctl;
    ctl.init_demo();
    auto with_header = write_file(ctl, "roster.csv",
                                  "\xEF\xBB\xBF" "Code,Name,Class,External ID\r\n"
                                  "S1,Anna Berg,1A,ext-1\r\n"
                                  "S2,\"Cole, Ben\",1A,\r\n"
                                  "\r\n");
    auto r = ctl.run({"roster", "import", "--tenant", "demo", "--job", "job00001", with_header});
    CHECK(r.status == 0);
    CHECK(r.out == "imported 2 roster entries into job job00001\n");
    auto semicolons = write_file(ctl, "semi.csv", "S3;Cleo Dunn;1B\nS4;Dora Ek;1B\n");
    CHECK(ctl.run({"roster", "import", "--job", "job00001", semicolons}).status == 0);
    auto roster = ctl.catalog()->roster(1);
    REQUIRE(roster.size() == 4);
    CHECK(roster[0] == RosterEntry{"S1", "Anna Berg", "1A", "ext-1"});
    CHECK(roster[1] == RosterEntry{"S2", "Cole, Ben", "1A", ""});
    CHECK(roster[3] == RosterEntry{"S4", "Dora Ek", "1B", ""});

    struct Bad {
        std::string csv, error;
    };
    for (const auto& bad : std::vector<Bad>{
             {"S1,Anna,1A\n,Ben,1A\n", "photodropctl: roster line 2: no code\n"},
             {"S1,Anna,1A\nS2,,1A\n", "photodropctl: roster line 2: code S2 has no name\n"},
             {"S1,Anna,1A\nS1,Ben,1A\n", "photodropctl: roster line 2: code S1 is on line 1 already\n"},
             {"S1,Anna,1A,x,y\n", "photodropctl: roster line 1: 5 fields, more than the 4 columns (code, name, class, external_id)\n"},
             {"code,name,age\n", "photodropctl: roster line 1: unknown column 'age' (the columns are code, name, class, external_id)\n"},
             {"S1,\"Anna,1A\n", "photodropctl: roster line 1: a quoted field is not closed\n"},
             {"S1,Ann\xe9,1A\n", "photodropctl: roster line 1: the text is not UTF-8 (save the file as CSV UTF-8)\n"},
         }) {
        CAPTURE(bad.csv);
        auto refused = ctl.run({"roster", "import", "--job", "job00001", write_file(ctl, "bad.csv", bad.csv)});
        CHECK(refused.status == 1);
        CHECK(refused.err == bad.error);
    }
    CHECK(ctl.catalog()->roster(1).size() == 4);  // a bad file changes nothing
}

TEST_CASE("subjects lists each card's subject with its roster name, and what needs a look") {
    Ctl ctl;
    ctl.init_demo();
    auto cat = ctl.catalog();
    cat->import_roster(1, {{"S1", "Anna Berg", "1A", "ext-1"}, {"S2", "Ben Cole", "1A", ""}, {"S7", "Dora Ek", "1B", ""}});
    auto ids = file_photos(*cat, {{"IMG_0001.jpg", ""},
                                  {"IMG_0002.jpg", "S1"},
                                  {"IMG_0003.jpg", ""},
                                  {"IMG_0004.jpg", ""},
                                  {"IMG_0005.jpg", "S2"},
                                  {"IMG_0006.jpg", ""},
                                  {"IMG_0007.jpg", "S9"}});

    auto table = ctl.run({"subjects", "--tenant", "demo", "--job", "job00001"});
    CHECK(table.status == 0);
    CHECK(table.out == fmt::format("CODE  NAME       CLASS  CARDS  PHOTOS  FLAG\n"
                                   "S1    Anna Berg  1A     1      2\n"
                                   "S2    Ben Cole   1A     1      1\n"
                                   "S7    Dora Ek    1B     0      0       no photos\n"
                                   "S9    -          -      1      0       card not on the roster; only a card\n"
                                   "unassigned (before the first card of their camera): 1 photo, ids {}\n",
                                   ids["IMG_0001.jpg"]));
    auto json = ctl.run({"subjects", "--job", "job00001", "--album", "Class 1A", "--json"}).json();
    REQUIRE(json["subjects"].size() == 4);
    CHECK(json["subjects"][0]["code"] == "S1");
    CHECK(json["subjects"][0]["name"] == "Anna Berg");
    CHECK(json["subjects"][0]["external_id"] == "ext-1");
    CHECK(json["subjects"][0]["cards"] == nlohmann::json::array({ids["IMG_0002.jpg"]}));
    CHECK(json["subjects"][0]["photos"] == nlohmann::json::array({ids["IMG_0003.jpg"], ids["IMG_0004.jpg"]}));
    CHECK(json["subjects"][3]["on_roster"] == false);
    CHECK(json["unassigned"] == nlohmann::json::array({ids["IMG_0001.jpg"]}));
    CHECK(json["not_on_roster"] == nlohmann::json::array({"S9"}));
    CHECK(json["without_photos"] == nlohmann::json::array({"S7"}));
    CHECK(json["only_a_card"] == nlohmann::json::array({"S9"}));

    // photos shows each photo's subject.
    auto photos = ctl.run({"photos", "--job", "job00001"});
    INFO(photos.out);
    CHECK(photos.out.find("Class 1A/individuals/IMG_0002.jpg  4000x3000  2024-05-01 10:00:02  -       card S1") != std::string::npos);
    CHECK(photos.out.find("Class 1A/individuals/IMG_0003.jpg  4000x3000  2024-05-01 10:00:03  -       S1") != std::string::npos);
    auto photos_json = ctl.run({"photos", "--job", "job00001", "--json"}).json();
    CHECK(photos_json[1]["card_code"] == "S1");
    CHECK(photos_json[2]["subject"] == "S1");
    CHECK(photos_json[0]["subject"] == nullptr);

    auto no_job = ctl.run({"subjects", "--tenant", "demo"});
    CHECK(no_job.status == 2);
}

TEST_CASE("subjects assign moves a photo by hand, and regrouping keeps it") {
    Ctl ctl;
    ctl.init_demo();
    auto cat = ctl.catalog();
    auto ids = file_photos(*cat, {{"IMG_0001.jpg", "S1"}, {"IMG_0002.jpg", ""}, {"IMG_0003.jpg", "S2"}, {"IMG_0004.jpg", ""}});
    auto photo = std::to_string(ids["IMG_0002.jpg"]);
    auto moved = ctl.run({"subjects", "assign", "--job", "job00001", photo, "--to", "S2"});
    CHECK(moved.status == 0);
    CHECK(moved.out == "photo " + photo + ": subject S2 (by hand, kept when regrouping)\n");
    // More photos arrive; the choice stays.
    file_photos(*cat, {{"IMG_0005.jpg", ""}});
    CHECK(cat->photo(ids["IMG_0002.jpg"])->subject == "S2");
    auto table = ctl.run({"photos", "--job", "job00001"});
    CHECK(table.out.find("IMG_0002.jpg  4000x3000  2024-05-01 10:00:02  -       S2 (by hand)") != std::string::npos);

    CHECK(ctl.run({"subjects", "assign", "--job", "job00001", photo, "--unassigned"}).out ==
          "photo " + photo + ": unassigned (by hand, kept when regrouping)\n");
    CHECK(ctl.run({"subjects", "assign", "--job", "job00001", photo, "--cards"}).out ==
          "photo " + photo + ": subject S1 (by the cards)\n");
    CHECK(ctl.run({"subjects", "assign", "--job", "job00001", photo}).status == 2);
    auto typo = ctl.run({"subjects", "assign", "--job", "job00001", photo, "--to", "S12"});
    CHECK(typo.status == 1);
    CHECK(typo.err == "photodropctl: no subject S12 in the job: no card shows it and the roster has no such code\n");
    auto missing = ctl.run({"subjects", "assign", "--job", "job00001", "999", "--to", "S1"});
    CHECK(missing.status == 1);
    CHECK(missing.err == "photodropctl: job job00001 has no photo 999\n");
}
