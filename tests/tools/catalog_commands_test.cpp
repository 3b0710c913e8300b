// init, tenant, job, albums, uploads, photos: what an operator sees.
#include "tests/tools/ctl_fixture.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

using namespace photodrop;
using photodrop::test::Ctl;

TEST_CASE("every command but init refuses a catalog that does not exist, and creates none") {
    Ctl ctl;
    for (std::vector<std::string> args : {std::vector<std::string>{"tenant", "list"},
                                          {"job", "list", "--tenant", "demo"},
                                          {"queue"},
                                          {"user", "list"},
                                          {"uploads", "show", "1"}}) {
        CAPTURE(args[0]);
        auto r = ctl.run(args);
        CHECK(r.status == 1);
        CHECK(r.out.empty());
        CHECK(r.err == "photodropctl: catalog " + ctl.catalog_path +
                           " does not exist (create it with `photodropctl init`)\n");
    }
    CHECK_FALSE(std::filesystem::exists(ctl.catalog_path));
}

TEST_CASE("init creates the catalog and the data directory, and is safe to run again") {
    Ctl ctl;
    auto r = ctl.run({"init"});
    CHECK(r.status == 0);
    CHECK(r.err.empty());
    CHECK(r.out.find("catalog " + ctl.catalog_path + ": created") != std::string::npos);
    CHECK(std::filesystem::is_regular_file(ctl.catalog_path));
    CHECK(std::filesystem::is_directory(ctl.data));

    auto again = ctl.run({"init", "--json"});
    CHECK(again.status == 0);
    CHECK(again.json()["catalog_created"] == false);
    CHECK(again.json()["schema_version"].get<int>() >= 3);
}

TEST_CASE("tenants: add, list as text and JSON, duplicates and bad slugs refused in one line") {
    Ctl ctl;
    REQUIRE(ctl.run({"init"}).status == 0);
    auto added = ctl.run({"tenant", "add", "demo", "--name", "Demo Studio"});
    CHECK(added.status == 0);
    CHECK(added.out == "tenant demo added; its mount point is " + ctl.mounts + "/demo\n");

    auto dup = ctl.run({"tenant", "add", "demo"});
    CHECK(dup.status == 1);
    CHECK(dup.err == "photodropctl: tenant demo exists already\n");

    auto bad = ctl.run({"tenant", "add", "Bad/Slug"});
    CHECK(bad.status == 1);
    CHECK(bad.err == "photodropctl: invalid tenant slug 'Bad/Slug': use lowercase letters, digits and '-'\n");

    auto list = ctl.run({"tenant", "list"});
    CHECK(list.status == 0);
    CHECK(list.out.find("SLUG  NAME") == 0);
    CHECK(list.out.find("demo  Demo Studio") != std::string::npos);

    // Global flags may follow the command.
    auto json = ctl.run({"tenant", "list", "--json"});
    REQUIRE(json.status == 0);
    auto rows = json.json();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0]["slug"] == "demo");
    CHECK(rows[0]["name"] == "Demo Studio");
    CHECK(rows[0]["mount_point"] == ctl.mounts + "/demo");
    CHECK(rows[0]["jobs"] == 0);
}

TEST_CASE("an unknown tenant is a one-line error") {
    Ctl ctl;
    ctl.init_demo();
    for (std::vector<std::string> args : {std::vector<std::string>{"job", "list", "--tenant", "nobody"},
                                          {"job", "add", "--tenant", "nobody", "job9"},
                                          {"uploads", "--tenant", "nobody", "--job", "job00001"}}) {
        auto r = ctl.run(args);
        CHECK(r.status == 1);
        CHECK(r.err == "photodropctl: unknown tenant 'nobody'\n");
    }
}

TEST_CASE("jobs: add, duplicate, invalid status and layout, list, show, set-status") {
    Ctl ctl;
    ctl.init_demo();

    auto dup = ctl.run({"job", "add", "--tenant", "demo", "job00001"});
    CHECK(dup.status == 1);
    CHECK(dup.err == "photodropctl: job job00001 exists already\n");

    auto bad_status = ctl.run({"job", "add", "--tenant", "demo", "job00002", "--status", "open"});
    CHECK(bad_status.status == 1);
    CHECK(bad_status.err == "photodropctl: invalid status 'open' (planned, selling or archived)\n");

    auto bad_layout = ctl.run({"job", "add", "--tenant", "demo", "job00002", "--layout", "tree"});
    CHECK(bad_layout.status == 1);
    CHECK(bad_layout.err == "photodropctl: invalid layout 'tree' (albums or flat)\n");

    auto bad_name = ctl.run({"job", "add", "--tenant", "demo", "a/b"});
    CHECK(bad_name.status == 1);
    CHECK(bad_name.err.starts_with("photodropctl: invalid job name 'a/b'"));

    // With a single tenant, --tenant may be left out.
    auto flat = ctl.run({"job", "add", "job00002", "--layout", "flat", "--status", "selling"});
    CHECK(flat.status == 0);
    CHECK(flat.out == "job job00002 added to tenant demo (selling, flat layout)\n");

    auto list = ctl.run({"job", "list", "--tenant", "demo"});
    CHECK(list.status == 0);
    CHECK(list.out ==
          "NAME      STATUS   LAYOUT  TITLE\n"
          "job00001  planned  albums  Spring pictures\n"
          "job00002  selling  flat\n");

    auto selling = ctl.run({"job", "list", "--tenant", "demo", "--status", "selling", "--json"});
    REQUIRE(selling.status == 0);
    auto rows = selling.json();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0]["name"] == "job00002");
    CHECK(rows[0]["layout"] == "flat");
    CHECK(rows[0]["status"] == "selling");

    auto bad_filter = ctl.run({"job", "list", "--status", "sold"});
    CHECK(bad_filter.status == 1);
    CHECK(bad_filter.err == "photodropctl: invalid status 'sold' (planned, selling or archived)\n");

    auto set = ctl.run({"job", "set-status", "--tenant", "demo", "job00001", "selling"});
    CHECK(set.status == 0);
    CHECK(set.out == "job job00001: planned -> selling\n");
    CHECK(ctl.catalog()->job(1)->status == JobStatus::Selling);

    auto bad_set = ctl.run({"job", "set-status", "--tenant", "demo", "job00001", "done"});
    CHECK(bad_set.status == 1);
    CHECK(bad_set.err == "photodropctl: invalid status 'done' (planned, selling or archived)\n");

    auto missing = ctl.run({"job", "show", "--tenant", "demo", "job404"});
    CHECK(missing.status == 1);
    CHECK(missing.err == "photodropctl: tenant demo has no job 'job404'\n");
}

TEST_CASE("job show counts uploads by state") {
    Ctl ctl;
    ctl.init_demo();
    auto cat = ctl.catalog();
    auto job = *cat->job(1);
    auto album = cat->add_album(job.id, "Class 1A");
    test::add_upload(*cat, job.id, album.id, "a.jpg", UploadState::Ingested);
    test::add_upload(*cat, job.id, album.id, "x.zip", UploadState::Rejected, "refused by name: archives");
    test::add_upload(*cat, job.id, album.id, "b.jpg", UploadState::Queued);
    test::add_upload(*cat, job.id, album.id, "c.jpg", UploadState::Queued);

    auto text = ctl.run({"job", "show", "--tenant", "demo", "job00001"});
    CHECK(text.status == 0);
    CHECK(text.out.find("status   planned\n") != std::string::npos);
    CHECK(text.out.find("albums   1\n") != std::string::npos);
    CHECK(text.out.find("photos   1\n") != std::string::npos);
    CHECK(text.out.find("  queued      2\n") != std::string::npos);
    CHECK(text.out.find("  rejected    1\n") != std::string::npos);
    CHECK(text.out.find("  ingested    1\n") != std::string::npos);

    auto json = ctl.run({"--json", "job", "show", "--tenant", "demo", "job00001"});
    REQUIRE(json.status == 0);
    auto j = json.json();
    CHECK(j["title"] == "Spring pictures");
    CHECK(j["uploads"]["queued"] == 2);
    CHECK(j["uploads"]["rejected"] == 1);
    CHECK(j["uploads"]["failed"] == 0);
    CHECK(j["photos"] == 1);
}

TEST_CASE("uploads --state rejected lists each refused file with its reason") {
    Ctl ctl;
    ctl.init_demo();
    auto cat = ctl.catalog();
    auto job = *cat->job(1);
    auto album = cat->add_album(job.id, "Class 1A");
    test::add_upload(*cat, job.id, album.id, "a.jpg", UploadState::Ingested);
    auto zip = test::add_upload(*cat, job.id, album.id, "x.zip", UploadState::Rejected,
                                "refused by name: archives are not accepted (.zip)");
    auto corrupt = test::add_upload(*cat, job.id, album.id, "broken.jpg", UploadState::Rejected,
                                    "not a readable image: JPEG data ends early");

    auto text = ctl.run({"uploads", "--tenant", "demo", "--job", "job00001", "--state", "rejected"});
    CHECK(text.status == 0);
    CHECK(text.out.find("ID  PATH") == 0);
    CHECK(text.out.find("Class 1A/group/x.zip") != std::string::npos);
    CHECK(text.out.find("refused by name: archives are not accepted (.zip)") != std::string::npos);
    CHECK(text.out.find("not a readable image: JPEG data ends early") != std::string::npos);
    CHECK(text.out.find("a.jpg") == std::string::npos);
    CHECK(text.out.find("uid 1000") != std::string::npos);

    auto json = ctl.run({"uploads", "--tenant", "demo", "--job", "job00001", "--state", "rejected", "--json"});
    REQUIRE(json.status == 0);
    auto rows = json.json();
    REQUIRE(rows.size() == 2);
    CHECK(rows[0]["id"] == zip.id);
    CHECK(rows[0]["path"] == "Class 1A/group/x.zip");
    CHECK(rows[0]["album"] == "Class 1A");
    CHECK(rows[0]["section"] == "group");
    CHECK(rows[0]["state"] == "rejected");
    CHECK(rows[0]["reason"] == "refused by name: archives are not accepted (.zip)");
    CHECK(rows[0]["user"] == "uid 1000");
    CHECK(rows[1]["id"] == corrupt.id);
    CHECK(rows[1]["size"] == 2048);

    auto all = ctl.run({"uploads", "--tenant", "demo", "--job", "job00001", "--json"});
    CHECK(all.json().size() == 3);

    auto none = ctl.run({"uploads", "--tenant", "demo", "--job", "job00001", "--state", "failed"});
    CHECK(none.status == 0);
    CHECK(none.out == "no failed uploads in job job00001\n");

    auto bad = ctl.run({"uploads", "--tenant", "demo", "--job", "job00001", "--state", "lost"});
    CHECK(bad.status == 1);
    CHECK(bad.err.starts_with("photodropctl: invalid state 'lost'"));
}

TEST_CASE("names as clients sent them (invalid UTF-8, terminal escapes, newlines) are shown escaped, as text and JSON") {
    Ctl ctl;
    ctl.init_demo();
    auto cat = ctl.catalog();
    auto job = *cat->job(1);
    auto album = cat->add_album(job.id, "Class\x1b]0;owned\x07 1A");  // from a catalog written before names were checked
    auto refuse = [&](const std::string& name, const std::string& reason) {
        return test::add_upload(*cat, job.id, album.id, name, UploadState::Rejected, "refused by name: " + reason);
    };
    refuse("bad\xff\xfe.jpg", "the name is not valid UTF-8");
    refuse("\x1b[31mred\x1b[0m.jpg", "the name contains a control character (U+001B)");
    refuse("a.jpg\nphotodrop-fs: forged line.jpg", "the name contains a control character (U+000A)");
    refuse("evil\xe2\x80\xaegpj.exe", "the name contains a right-to-left override (U+202E)");
    refuse("back\\slash\xc2\x9b.jpg", "not '\xc2\x9b'");

    auto text = ctl.run({"uploads", "--tenant", "demo", "--job", "job00001"});
    REQUIRE(text.status == 0);
    auto has = [&](const std::string& part) { return text.out.find(part) != std::string::npos; };
    CHECK(has("Class\\x1B]0;owned\\x07 1A/group/bad\\xFF\\xFE.jpg"));
    CHECK(has("/\\x1B[31mred\\x1B[0m.jpg"));
    CHECK(has("/a.jpg\\nphotodrop-fs: forged line.jpg"));
    CHECK(has("/evil\\u{202E}gpj.exe"));
    CHECK(has("/back\\\\slash\\u{9B}.jpg"));
    CHECK(has("refused by name: not '\\u{9B}'"));
    CHECK(std::count(text.out.begin(), text.out.end(), '\n') == 6);  // the header and one line per upload
    for (char raw : {'\x1b', '\x07', '\xff', '\xfe'}) CHECK(text.out.find(raw) == std::string::npos);
    CHECK(text.out.find("\xe2\x80\xae") == std::string::npos);
    CHECK(text.out.find("\xc2\x9b") == std::string::npos);

    auto json = ctl.run({"uploads", "--tenant", "demo", "--job", "job00001", "--json"});
    REQUIRE(json.status == 0);
    CHECK(json.err.empty());
    auto rows = json.json();
    REQUIRE(rows.size() == 5);
    CHECK(rows[0]["filename"] == "bad\\xFF\\xFE.jpg");
    CHECK(rows[0]["album"] == "Class\\x1B]0;owned\\x07 1A");
    CHECK(rows[1]["filename"] == "\\x1B[31mred\\x1B[0m.jpg");
    CHECK(rows[2]["filename"] == "a.jpg\\nphotodrop-fs: forged line.jpg");
    CHECK(rows[3]["path"] == "Class\\x1B]0;owned\\x07 1A/group/evil\\u{202E}gpj.exe");
    CHECK(rows[4]["reason"] == "refused by name: not '\\u{9B}'");
    CHECK(json.out.find("\\u001b") == std::string::npos);  // no JSON escape that decodes back to a raw ESC

    auto show = ctl.run({"uploads", "show", std::to_string(rows[2]["id"].get<Id>())});
    REQUIRE(show.status == 0);
    CHECK(show.out.find("path       Class\\x1B]0;owned\\x07 1A/group/a.jpg\\nphotodrop-fs: forged line.jpg\n") !=
          std::string::npos);
    auto show_json = ctl.run({"uploads", "show", std::to_string(rows[0]["id"].get<Id>()), "--json"});
    REQUIRE(show_json.status == 0);
    CHECK(show_json.json()["filename"] == "bad\\xFF\\xFE.jpg");

    auto albums = ctl.run({"albums", "--tenant", "demo", "--job", "job00001", "--json"});
    REQUIRE(albums.status == 0);
    CHECK(albums.json()[0]["name"] == "Class\\x1B]0;owned\\x07 1A");
    auto albums_text = ctl.run({"albums", "--tenant", "demo", "--job", "job00001"});
    CHECK(albums_text.out.find('\x1b') == std::string::npos);

    // Albums are stored in NFC; an operator on a Mac types NFD.
    cat->add_album(job.id, "Klasse 3\xc3\xa4");
    auto nfd = ctl.run({"photos", "--tenant", "demo", "--job", "job00001", "--album", "Klasse 3a\xcc\x88"});
    CHECK(nfd.status == 0);
    CHECK(nfd.err.empty());
}

TEST_CASE("uploads show: state, reason, attempts and the photo it became, of one upload or several") {
    Ctl ctl;
    ctl.init_demo();
    auto cat = ctl.catalog();
    auto job = *cat->job(1);
    auto album = cat->add_album(job.id, "Class 1A");
    auto ingested = test::add_upload(*cat, job.id, album.id, "a.jpg", UploadState::Ingested);
    auto failed = test::add_upload(*cat, job.id, album.id, "b.jpg", UploadState::Failed, "disk full");

    auto text = ctl.run({"uploads", "show", std::to_string(ingested.id)});
    CHECK(text.status == 0);
    CHECK(text.out.find("state      ingested\n") != std::string::npos);
    CHECK(text.out.find("attempts   1\n") != std::string::npos);
    CHECK(text.out.find("path       Class 1A/group/a.jpg\n") != std::string::npos);
    CHECK(text.out.find("4000x3000, Canon EOS R5, taken 2024-05-01 10:11:12") != std::string::npos);
    CHECK(text.out.find("thumbnail  demo/thumbnails/a.jpg\n") != std::string::npos);

    auto json = ctl.run({"uploads", "show", std::to_string(failed.id), "--json"});
    REQUIRE(json.status == 0);
    auto j = json.json();
    CHECK(j["state"] == "failed");
    CHECK(j["reason"] == "disk full");
    CHECK(j["attempts"] == 1);
    CHECK(j["job"] == "job00001");
    CHECK(j["tenant"] == "demo");
    CHECK(j["photo"].is_null());

    auto photo = ctl.run({"uploads", "show", std::to_string(ingested.id), "--json"}).json()["photo"];
    CHECK(photo["width"] == 4000);
    CHECK(photo["camera_model"] == "EOS R5");

    auto missing = ctl.run({"uploads", "show", "999"});
    CHECK(missing.status == 1);
    CHECK(missing.err == "photodropctl: no upload 999\n");

    // Several ids: each in full, in the order given; in JSON an array.
    auto both = ctl.run({"uploads", "show", std::to_string(failed.id), std::to_string(ingested.id)});
    CHECK(both.status == 0);
    auto first = both.out.find("upload     " + std::to_string(failed.id) + "\n");
    auto second = both.out.find("\nupload     " + std::to_string(ingested.id) + "\n");
    CHECK(first == 0);
    REQUIRE(second != std::string::npos);
    CHECK(both.out.find("reason     disk full\n") < second);
    CHECK(both.out.find("thumbnail  demo/thumbnails/a.jpg\n") > second);
    CHECK(both.out.substr(second - 1, 2) == "\n\n");  // a blank line between them
    auto array = ctl.run({"--json", "uploads", "show", std::to_string(failed.id), std::to_string(ingested.id)}).json();
    REQUIRE(array.is_array());
    REQUIRE(array.size() == 2);
    CHECK(array[0]["id"] == failed.id);
    CHECK(array[0]["reason"] == "disk full");
    CHECK(array[1]["id"] == ingested.id);
    CHECK(array[1]["photo"]["width"] == 4000);
    // One unknown id among them: nothing is shown but the refusal.
    auto partly = ctl.run({"uploads", "show", std::to_string(failed.id), "999"});
    CHECK(partly.status == 1);
    CHECK(partly.out.empty());
    CHECK(partly.err == "photodropctl: no upload 999\n");
}

TEST_CASE("albums and photos of a job") {
    Ctl ctl;
    ctl.init_demo();
    auto cat = ctl.catalog();
    auto job = *cat->job(1);
    auto a = cat->add_album(job.id, "Class 1A");
    cat->set_section_folder(a.id, Section::Group, true);
    auto b = cat->add_album(job.id, "Class 1B");
    test::add_upload(*cat, job.id, a.id, "a.jpg", UploadState::Ingested);
    test::add_upload(*cat, job.id, b.id, "b.jpg", UploadState::Ingested);
    test::add_upload(*cat, job.id, b.id, "c.jpg", UploadState::Queued);

    auto albums = ctl.run({"albums", "--tenant", "demo", "--job", "job00001"});
    CHECK(albums.status == 0);
    CHECK(albums.out ==
          "ALBUM     FOLDERS  UPLOADS  PHOTOS\n"
          "Class 1A  group    1        1\n"
          "Class 1B  -        2        1\n");
    auto albums_json = ctl.run({"albums", "--tenant", "demo", "--job", "job00001", "--json"}).json();
    REQUIRE(albums_json.size() == 2);
    CHECK(albums_json[0]["group"] == true);
    CHECK(albums_json[0]["individuals"] == false);
    CHECK(albums_json[1]["uploads"] == 2);

    auto photos = ctl.run({"photos", "--tenant", "demo", "--job", "job00001", "--album", "Class 1B"});
    CHECK(photos.status == 0);
    CHECK(photos.out.find("Class 1B/group/b.jpg  4000x3000  2024-05-01 10:11:12  Canon EOS R5") != std::string::npos);
    CHECK(photos.out.find("a.jpg") == std::string::npos);

    auto all = ctl.run({"photos", "--tenant", "demo", "--job", "job00001", "--json"}).json();
    REQUIRE(all.size() == 2);
    CHECK(all[0]["path"] == "Class 1A/group/a.jpg");
    CHECK(all[0]["captured_at"] == "2024-05-01 10:11:12");
    CHECK(all[0]["deleted"] == false);

    auto no_album = ctl.run({"photos", "--tenant", "demo", "--job", "job00001", "--album", "Nope"});
    CHECK(no_album.status == 1);
    CHECK(no_album.err == "photodropctl: job job00001 has no album 'Nope'\n");
}

TEST_CASE("usage errors exit 2 with one line that points at --help") {
    Ctl ctl;
    ctl.init_demo();
    auto none = ctl.run({});
    CHECK(none.status == 2);
    CHECK(none.err == "photodropctl: A subcommand is required (see `photodropctl --help`)\n");

    auto unknown = ctl.run({"job", "add", "--tenant", "demo", "job9", "--colour", "red"});
    CHECK(unknown.status == 2);
    CHECK(unknown.err.starts_with("photodropctl: "));
    CHECK(unknown.err.find("(see `photodropctl job add --help`)") != std::string::npos);
    CHECK(std::count(unknown.err.begin(), unknown.err.end(), '\n') == 1);

    auto missing = ctl.run({"job", "show", "--tenant", "demo"});
    CHECK(missing.status == 2);
    CHECK(missing.err.find("name is required") != std::string::npos);

    auto no_job = ctl.run({"albums", "--tenant", "demo"});
    CHECK(no_job.status == 2);

    // Several tenants: --tenant must be given.
    REQUIRE(ctl.run({"tenant", "add", "other"}).status == 0);
    auto ambiguous = ctl.run({"job", "list"});
    CHECK(ambiguous.status == 2);
    CHECK(ambiguous.err == "photodropctl: there are several tenants: name one with --tenant\n");
}

TEST_CASE("--help works for every command") {
    Ctl ctl;
    std::vector<std::vector<std::string>> commands{
        {},           {"init"},          {"tenant"},         {"tenant", "add"},   {"tenant", "list"},
        {"job"},      {"job", "add"},    {"job", "list"},    {"job", "show"},     {"job", "set-status"},
        {"albums"},   {"uploads"},       {"uploads", "show"}, {"photos"},         {"queue"},
        {"queue", "retry"}, {"queue", "watch"}, {"user"},   {"user", "add"},     {"user", "list"},
        {"user", "show"}, {"user", "disable"}, {"user", "enable"}, {"user", "passwd"}, {"user", "remove"},
        {"sshd-config"}, {"doctor"}, {"roster"}, {"roster", "import"}, {"subjects"}, {"subjects", "assign"}};
    for (auto args : commands) {
        std::string name = "photodropctl";
        for (const auto& a : args) name += " " + a;
        CAPTURE(name);
        args.push_back("--help");
        auto r = ctl.run(args);
        CHECK(r.status == 0);
        CHECK(r.err.empty());
        CHECK(r.out.find("Usage: " + name) != std::string::npos);
    }
}

TEST_CASE("photos show the damage their decoder got past: a note in the table, `note` in the JSON") {
    Ctl ctl;
    ctl.init_demo();
    auto cat = ctl.catalog();
    auto job = *cat->job(1);
    auto clean = test::add_upload(*cat, job.id, std::nullopt, "clean.jpg", UploadState::Queued);
    auto damaged = test::add_upload(*cat, job.id, std::nullopt, "damaged.jpg", UploadState::Queued);
    for (const auto& [upload, note] : {std::pair{clean, std::string()},
                                       std::pair{damaged, std::string("VipsJpeg: Corrupt JPEG data: 1234 extraneous bytes")}}) {
        REQUIRE(cat->claim_next(int64_t{60'000'000'000}));
        IngestResult r;
        r.width = 800;
        r.height = 600;
        r.content_hash = std::string(64, upload.filename[0]);
        r.original_path = "demo/originals/" + upload.filename;
        r.thumbnail_path = "demo/thumbnails/" + upload.filename;
        r.preview_path = "demo/previews/" + upload.filename;
        r.note = note;
        cat->file_ingest(upload.id, r);
    }
    auto table = ctl.run({"photos", "--tenant", "demo", "--job", "job00001"});
    INFO(table.out);
    CHECK(table.status == 0);
    CHECK(table.out.find("damaged.jpg  800x600  -      -       -        damaged: VipsJpeg: Corrupt JPEG data: 1234 extraneous bytes\n") !=
          std::string::npos);
    CHECK(table.out.find("clean.jpg    800x600  -      -       -\n") != std::string::npos);
    auto json = ctl.run({"photos", "--tenant", "demo", "--job", "job00001", "--json"}).json();
    REQUIRE(json.size() == 2);
    CHECK(json[0]["note"] == "");
    CHECK(json[1]["note"] == "VipsJpeg: Corrupt JPEG data: 1234 extraneous bytes");
    auto show = ctl.run({"uploads", "show", std::to_string(damaged.id)});
    CHECK(show.out.find("note       damaged: VipsJpeg: Corrupt JPEG data: 1234 extraneous bytes\n") != std::string::npos);
}
