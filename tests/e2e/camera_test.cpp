// Camera accounts end to end: a real ProFTPD on `photodropctl ftpd-config`, a
// real mount, the ingest service, and Python's ftplib replaying what cameras
// do (their manuals: passive mode, MKD of DCIM/100CANON, STOR under the final
// name, numbering that restarts, a file sent again, a connection that drops).
// What the camera is told is held against the catalog's uploads and photos.

#include "tests/support/deployment.hpp"
#include "tests/support/files.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <memory>
#include <thread>

using namespace photodrop;
using namespace photodrop::test;
using nlohmann::json;

namespace {

constexpr const char* album_name = "finish-line";

struct CameraDeployment {
    Deployment d{{"studio-c"}};
    // A camera with TLS, and one with nothing but plain FTP, both into the album.
    std::string camera = d.add_user("pdcm", "studio-c", {"--camera", "--job", "job00001", "--album", album_name,
                                                         "--protocols", "ftps"});
    std::string plain = d.add_user("pdcp", "studio-c", {"--camera", "--job", "job00001", "--album", album_name,
                                                        "--protocols", "ftps", "--ftp-plain"});
    // A photographer of the studio, who may make, rename and remove the job's albums.
    std::string photographer = d.add_user("pdcs", "studio-c", {"--protocols", "ftps"});
    TempDir local;
    std::string jpeg = make_jpeg(local.path(), "base.jpg", 2400, 1600);
    CameraDeployment() {
        d.start_ftpd();
        d.start_ingest();
    }
    MountedTenant& t() { return d.tenant(0); }
    Catalog& cat() { return t().catalog(); }
    Id job() { return t().albums_job.id; }
    Album album() { return *cat().album(job(), album_name); }
    // Photo `n`: the same picture in bytes of its own.
    std::filesystem::path photo(int n, std::string* bytes = nullptr) {
        auto data = jpeg_variant(jpeg, n);
        if (bytes) *bytes = data;
        return local_file(local.path(), fmt::format("photo{}.jpg", n), data);
    }
    json client(const std::string& user, const std::string& mode, const std::vector<std::string>& scenario) {
        std::vector<std::string> argv{"/usr/bin/python3", PHOTODROP_E2E_DIR "/ftp_client.py",
                                      std::to_string(d.ftp().port), user, d.password(), mode};
        argv.insert(argv.end(), scenario.begin(), scenario.end());
        std::string out;
        run_with_input(argv, "", &out);
        return client_report(out);
    }
    // Waits until every upload of `name` has left the queue; they are returned.
    std::vector<Upload> settled(const std::string& name) {
        std::vector<Upload> found;
        CHECK_MESSAGE(within(30, [&] {
                          found = uploads_named(cat(), job(), name);
                          return !found.empty() && std::all_of(found.begin(), found.end(), [](const Upload& u) {
                              return u.state != UploadState::Queued && u.state != UploadState::Processing &&
                                     u.state != UploadState::Receiving;
                          });
                      }),
                      name, " was not ingested within 30 s");
        return found;
    }
    // The job's photos of these bytes.
    size_t photos_of(const std::string& bytes) {
        auto photos = cat().photos(job());
        return std::count_if(photos.begin(), photos.end(), [&](const Photo& p) { return p.content_hash == sha256(bytes); });
    }
    // Waits until what a dropped STOR left is let go by proftpd's session: a
    // hidden upload that no handle writes, which no client sees any more.
    Upload fragment_of(const std::string& name) {
        std::string hidden = ".in." + name + ".";
        std::optional<Upload> fragment;
        CHECK_MESSAGE(within(20, [&] {
                          auto found = uploads_named(cat(), job(), hidden);
                          if (found.empty()) return false;
                          fragment = found.back();
                          return !std::filesystem::exists(t().path(fmt::format("job00001/{}/{}", album_name, hidden)));
                      }),
                      "no fragment of ", name, " let go within 20 s");
        REQUIRE(fragment);
        return *fragment;
    }
};

CameraDeployment& deployment() {
    static auto d = std::make_unique<CameraDeployment>();
    return *d;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("a camera's DCIM/100CANON is accepted and is no album: its files go to the camera's album, "
          "and it sees nothing else") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    std::string bytes;
    auto r = d.client(d.plain, "plain", {"camera", "DCIM/100CANON", "IMG_0001.JPG", d.photo(1, &bytes).string()});
    CAPTURE(r.dump());
    REQUIRE(r.contains("replies"));
    CHECK(has(r["replies"][0], "257"));  // MKD DCIM
    CHECK(has(r["replies"][1], "257"));  // MKD DCIM/100CANON
    CHECK(has(r["replies"][4], "226"));  // STOR
    CHECK(r["names"] == json::array({"IMG_0001.JPG"}));

    auto u = d.settled("IMG_0001.JPG");
    REQUIRE(u.size() == 1);
    CHECK(u[0].state == UploadState::Ingested);
    CHECK(u[0].folder == Folder{d.album().id, Section::Individuals, false});
    CHECK(u[0].sent_name.empty());
    CHECK(d.photos_of(bytes) == 1);
    // The camera's folders are not albums: the job has the one album.
    auto albums = d.cat().albums(d.job());
    REQUIRE(albums.size() == 1);
    CHECK(albums[0].name == album_name);

    // Its root is the album: the folder it made and the album's files, and no way out.
    auto root = d.client(d.camera, "tls", {"nlst", "/"});
    CAPTURE(root.dump());
    CHECK(root["names"] == json::array({"DCIM", "IMG_0001.JPG"}));
    auto out = d.client(d.camera, "tls", {"nlst", "/.."});
    CHECK(out["names"] == root["names"]);
    // A camera cannot remove or rename its album's folders, nor make an album.
    auto away = d.client(d.camera, "tls", {"escape"});
    CAPTURE(away.dump());
    CHECK(away["root"] == root["names"]);
}

TEST_CASE("numbering that restarts: IMG_0001.JPG again with other content is a second photo, shown as "
          "IMG_0001 (2).JPG; the first is unchanged") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    std::string first, second;
    auto one = d.client(d.camera, "tls", {"camera", "DCIM/100CANON", "IMG_0101.JPG", d.photo(101, &first).string()});
    REQUIRE(has(one["replies"].back(), "226"));
    auto two = d.client(d.camera, "tls", {"camera", "DCIM/101CANON", "IMG_0101.JPG", d.photo(102, &second).string()});
    CAPTURE(two.dump());
    REQUIRE(two.contains("replies"));
    CHECK(has(two["replies"].back(), "226"));

    auto kept = d.settled("IMG_0101.JPG");
    REQUIRE(kept.size() == 1);
    CHECK(kept[0].state == UploadState::Ingested);
    CHECK(read_file(d.t().path(fmt::format("job00001/{}/IMG_0101.JPG", album_name))) == first);
    auto beside = d.settled("IMG_0101 (2).JPG");
    REQUIRE(beside.size() == 1);
    CHECK(beside[0].state == UploadState::Ingested);
    CHECK(beside[0].sent_name == "IMG_0101.JPG");
    CHECK_FALSE(beside[0].duplicate);
    CHECK(read_file(d.t().path(fmt::format("job00001/{}/IMG_0101 (2).JPG", album_name))) == second);
    CHECK(d.photos_of(first) == 1);
    CHECK(d.photos_of(second) == 1);
    // Both are in the camera's listing.
    auto names = two["names"];
    CHECK(std::find(names.begin(), names.end(), "IMG_0101.JPG") != names.end());
    CHECK(std::find(names.begin(), names.end(), "IMG_0101 (2).JPG") != names.end());
}

TEST_CASE("the same file sent twice is one photo") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    std::string bytes;
    auto file = d.photo(201, &bytes);
    for (int i = 0; i < 2; ++i) {
        auto r = d.client(d.camera, "tls", {"camera", "DCIM/100CANON", "IMG_0201.JPG", file.string()});
        CAPTURE(r.dump());
        CHECK(has(r["replies"].back(), "226"));
        d.settled(i == 0 ? "IMG_0201.JPG" : "IMG_0201 (2).JPG");
    }
    CHECK(d.photos_of(bytes) == 1);
    auto again = d.settled("IMG_0201 (2).JPG");
    REQUIRE(again.size() == 1);
    CHECK(again[0].duplicate);
    CHECK(again[0].photo_id == d.settled("IMG_0201.JPG")[0].photo_id);
}

TEST_CASE("a transfer cut mid-file and sent again from the start is one whole photo; the fragment is never "
          "ingested") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    std::string bytes;
    auto file = d.photo(301, &bytes);
    auto cut = d.client(d.camera, "tls", {"camera_cut", "DCIM/100CANON", "IMG_0301.JPG", file.string(),
                                          std::to_string(bytes.size() / 2)});
    CAPTURE(cut.dump());
    auto fragment = d.fragment_of("IMG_0301.JPG");
    CHECK(fragment.state == UploadState::Receiving);
    CHECK(fragment.size < static_cast<int64_t>(bytes.size()));
    CHECK(uploads_named(d.cat(), d.job(), "IMG_0301.JPG").empty());

    auto again = d.client(d.camera, "tls", {"camera", "DCIM/100CANON", "IMG_0301.JPG", file.string()});
    CAPTURE(again.dump());
    CHECK(has(again["replies"].back(), "226"));
    auto u = d.settled("IMG_0301.JPG");
    REQUIRE(u.size() == 1);
    CHECK(u[0].id == fragment.id);  // the fragment's upload, written again from the start
    CHECK(u[0].state == UploadState::Ingested);
    CHECK(u[0].size == static_cast<int64_t>(bytes.size()));
    CHECK(d.photos_of(bytes) == 1);
    // No photo was made of anything but whole files.
    for (const auto& photo : d.cat().photos(d.job())) {
        auto upload = d.cat().upload(photo.upload_id);
        REQUIRE(upload);
        CHECK_FALSE(upload->filename.starts_with(".in."));
    }
    CHECK(uploads_named(d.cat(), d.job(), ".in.IMG_0301.JPG.").empty());
}

TEST_CASE("a fragment never completed is refused as an incomplete upload once receiving_expiry passes, and the "
          "camera can still send the file") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    std::string bytes;
    auto file = d.photo(401, &bytes);
    d.client(d.camera, "tls", {"camera_cut", "DCIM/100CANON", "IMG_0401.JPG", file.string(),
                               std::to_string(bytes.size() / 3)});
    auto fragment = d.fragment_of("IMG_0401.JPG");
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    std::string out;
    auto purge = d.d.ctl_argv({"purge", "--tenant", "studio-c"});
    purge.insert(purge.begin(), {"/usr/bin/env", "PHOTODROP_RECEIVING_EXPIRY=1s"});
    REQUIRE_MESSAGE(run_with_input(purge, "", &out) == 0, out);
    auto refused = d.cat().upload(fragment.id);
    REQUIRE(refused);
    CHECK(refused->state == UploadState::Rejected);
    CHECK(refused->reason.starts_with("incomplete upload"));
    CHECK(d.photos_of(bytes) == 0);

    auto again = d.client(d.camera, "tls", {"camera", "DCIM/100CANON", "IMG_0401.JPG", file.string()});
    CAPTURE(again.dump());
    CHECK(has(again["replies"].back(), "226"));
    auto u = d.settled("IMG_0401.JPG");
    REQUIRE(u.size() == 1);
    CAPTURE(u[0].reason);
    CHECK(u[0].state == UploadState::Ingested);
    CHECK(d.photos_of(bytes) == 1);
}

TEST_CASE("two cameras send the same name at once: the second is told to try again, and its try lands beside the "
          "first") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    std::string first, second;
    auto first_file = d.photo(501, &first), second_file = d.photo(502, &second);
    auto before = d.client(d.camera, "tls", {"camera", "DCIM/100CANON", "IMG_0500.JPG", d.photo(500).string()});
    REQUIRE(has(before["replies"].back(), "226"));  // the folder is there
    auto r = d.client(d.camera, "tls", {"race", "DCIM/100CANON/IMG_0501.JPG", first_file.string(), second_file.string()});
    CAPTURE(r.dump());
    CHECK(has(r.value("first", ""), "226"));
    CHECK(has(r.value("second", ""), "550"));
    auto again = d.client(d.plain, "plain", {"camera", "DCIM/100CANON", "IMG_0501.JPG", second_file.string()});
    CAPTURE(again.dump());
    CHECK(has(again["replies"].back(), "226"));
    auto kept = d.settled("IMG_0501.JPG");
    REQUIRE(kept.size() == 1);
    CHECK(read_file(d.t().path(fmt::format("job00001/{}/IMG_0501.JPG", album_name))) == first);
    auto beside = d.settled("IMG_0501 (2).JPG");
    REQUIRE(beside.size() == 1);
    CHECK(beside[0].state == UploadState::Ingested);
    CHECK(d.photos_of(first) == 1);
    CHECK(d.photos_of(second) == 1);
}

TEST_CASE("a camera's album keeps its name and stays: a photographer's rename or removal of it is refused with the "
          "reason, and the camera still logs in and uploads into it") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    auto mk = d.client(d.photographer, "tls", {"mkd", "job00001/gate"});
    REQUIRE(has(mk.value("reply", ""), "257"));
    std::string gate_camera = d.d.add_user("pdcg", "studio-c", {"--camera", "--job", "job00001", "--album", "gate",
                                                                "--protocols", "ftps"});
    // An album with no camera is renamed and removed as ever.
    CHECK(has(d.client(d.photographer, "tls", {"mkd", "job00001/spare"}).value("reply", ""), "257"));
    CHECK(has(d.client(d.photographer, "tls", {"mv", "job00001/spare", "job00001/spare-2"}).value("reply", ""), "250"));
    CHECK(has(d.client(d.photographer, "tls", {"rmd", "job00001/spare-2"}).value("reply", ""), "250"));
    CHECK_FALSE(d.cat().album(d.job(), "spare-2"));

    // The empty album of a camera, twice each (nothing changes on the second either), and the one with photos.
    for (int attempt = 0; attempt < 2; ++attempt) {
        auto mv = d.client(d.photographer, "tls", {"mv", "job00001/gate", "job00001/gate-2"});
        CAPTURE(mv.dump());
        CHECK(has(mv.value("error", ""), "550"));
        auto rmd = d.client(d.photographer, "tls", {"rmd", "job00001/gate"});
        CAPTURE(rmd.dump());
        CHECK(has(rmd.value("error", ""), "550"));
    }
    auto mv = d.client(d.photographer, "tls", {"mv", "job00001/" + std::string(album_name), "job00001/finish-2"});
    CAPTURE(mv.dump());
    CHECK(has(mv.value("error", ""), "550"));
    CHECK(d.cat().album(d.job(), "gate"));
    CHECK(d.cat().album(d.job(), album_name));
    CHECK_FALSE(d.cat().album(d.job(), "gate-2"));
    CHECK_FALSE(d.cat().album(d.job(), "finish-2"));
    auto log = d.t().log();
    CHECK(has(log, "album gate is the root of camera account " + gate_camera + ": it cannot be renamed"));
    CHECK(has(log, "album gate is the root of camera account " + gate_camera + ": it cannot be removed"));
    CHECK(has(log, fmt::format("album {} is the root of camera accounts {}, {}: it cannot be renamed", album_name,
                               d.camera, d.plain)));

    // The cameras log in to their albums and upload, as before.
    std::string bytes;
    auto r = d.client(gate_camera, "tls", {"camera", "DCIM/100CANON", "IMG_0601.JPG", d.photo(601, &bytes).string()});
    CAPTURE(r.dump());
    REQUIRE(r.contains("replies"));
    CHECK(has(r["replies"].back(), "226"));
    auto u = d.settled("IMG_0601.JPG");
    REQUIRE(u.size() == 1);
    CHECK(u[0].state == UploadState::Ingested);
    CHECK(u[0].folder.album_id == d.cat().album(d.job(), "gate")->id);
    CHECK(d.photos_of(bytes) == 1);
    auto again = d.client(d.camera, "tls", {"nlst", "/"});
    CAPTURE(again.dump());
    CHECK(again.contains("names"));
}
