// End to end over FTP: a real ProFTPD on loopback run on `photodropctl
// ftpd-config`, real photodrop-fs mounts of two tenants, system accounts made
// by photodropctl, and real FTP clients (lftp, curl, Python's ftplib replaying
// exact command sequences). What the client is told is held against what the
// catalog and the mount say.

#include "tests/support/deployment.hpp"
#include "tests/support/files.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <thread>

using namespace photodrop;
using namespace photodrop::test;
using nlohmann::json;

namespace {

// Two tenants; logins for every mix of protocols; a private sshd and proftpd.
struct FtpDeployment {
    Deployment d{{"studio-a", "studio-b"}};
    std::string alice = d.add_user("pdfa", "studio-a");                                      // sftp,ftps
    std::string bob = d.add_user("pdfb", "studio-b");                                        // sftp,ftps
    std::string camera = d.add_user("pdfc", "studio-a", {"--protocols", "ftps", "--ftp-plain"});
    std::string sftp_only = d.add_user("pdfs", "studio-a", {"--protocols", "sftp"});
    std::string ftps_only = d.add_user("pdff", "studio-a", {"--protocols", "ftps"});
    std::string dave = d.add_user("pdfd", "studio-a");
    FtpDeployment() {
        REQUIRE(d.ctl({"user", "disable", dave}) == 0);
        d.start_sshd();
        d.start_ftpd();
    }
    MountedTenant& a() { return d.tenant(0); }
    // Python's ftplib (tests/e2e/ftp_client.py): what it saw.
    json client(const std::string& user, const std::string& mode, const std::vector<std::string>& scenario,
                const std::string& password = {}) {
        std::vector<std::string> argv{"/usr/bin/python3", PHOTODROP_E2E_DIR "/ftp_client.py",
                                      std::to_string(d.ftp().port), user,
                                      password.empty() ? d.password() : password, mode};
        argv.insert(argv.end(), scenario.begin(), scenario.end());
        std::string out;
        run_with_input(argv, "", &out);
        return client_report(out);
    }
    std::string url(const std::string& user, const std::string& path) {
        return fmt::format("ftp://{}:{}@127.0.0.1:{}/{}", user, d.password(), d.ftp().port, path);
    }
};

FtpDeployment& deployment() {
    static auto d = std::make_unique<FtpDeployment>();
    return *d;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }


// The one upload of this name in the job, whatever else there is.
Upload only_upload(Catalog& cat, Id job, const std::string& name) {
    auto found = uploads_named(cat, job, name);
    REQUIRE_MESSAGE(found.size() == 1, name, ": ", found.size(), " uploads");
    return found[0];
}

}  // namespace

TEST_CASE("FileZilla's sequence over FTPS: MLSD, STOR, MFMT: the upload is queued whole, with the time it was given") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    TempDir local;
    auto bytes = some_bytes(3 << 20, 21);
    auto data = local_file(local.path(), "IMG_0001.jpg", bytes);
    auto made = d.client(d.alice, "tls", {"mkd", "job00001/Class 3C"});
    CHECK(has(made.value("reply", ""), "257"));
    auto r = d.client(d.alice, "tls", {"filezilla", "/job00001/Class 3C", "IMG_0001.jpg", data.string(), "20240501123000"});
    CAPTURE(r.dump());
    REQUIRE_FALSE(r.contains("error"));
    CHECK(has(r["replies"][2], "226"));
    CHECK(has(r["replies"][3], "213"));
    CHECK(r["after"]["IMG_0001.jpg"]["size"] == std::to_string(bytes.size()));
    CHECK(r["after"]["IMG_0001.jpg"]["modify"] == "20240501123000");

    auto u = only_upload(d.a().catalog(), d.a().albums_job.id, "IMG_0001.jpg");
    CHECK(u.state == UploadState::Queued);
    CHECK(u.size == static_cast<int64_t>(bytes.size()));
    CHECK(read_file(d.a().path("job00001/Class 3C/IMG_0001.jpg")) == bytes);
    struct stat st {};
    REQUIRE(::stat(d.a().path("job00001/Class 3C/IMG_0001.jpg").c_str(), &st) == 0);
    CHECK(st.st_mtime == 1714566600);  // 2024-05-01 12:30:00 UTC
}

TEST_CASE("resume over FTPS with REST and with APPE ends byte-identical, one upload each") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    TempDir local;
    auto bytes = some_bytes(5 << 20, 22);
    auto data = local_file(local.path(), "big.jpg", bytes);
    auto rest = d.client(d.alice, "tls", {"rest", "job00002/rest.jpg", data.string(), "1234567"});
    CAPTURE(rest.dump());
    CHECK(rest["size_after_cut"] == 1234567);
    CHECK(rest["size"] == bytes.size());
    auto appe = d.client(d.alice, "tls", {"appe", "job00002/appe.jpg", data.string(), "2000000"});
    CAPTURE(appe.dump());
    CHECK(appe["size"] == bytes.size());
    for (std::string name : {"rest.jpg", "appe.jpg"}) {
        CAPTURE(name);
        CHECK(d.client(d.alice, "tls", {"get", "job00002/" + name})["sha256"] == sha256(bytes));
        auto u = only_upload(d.a().catalog(), d.a().flat_job.id, name);
        CHECK(u.state == UploadState::Queued);
        CHECK(u.size == static_cast<int64_t>(bytes.size()));
    }
}

TEST_CASE("RNFR/RNTO of a temporary name queues the upload under its real name; DELE cancels one") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    TempDir local;
    auto data = local_file(local.path(), "p.jpg", some_bytes(200000, 23));
    auto r = d.client(d.alice, "tls", {"rename", "job00002/IMG_0003.jpg.filepart", "job00002/IMG_0003.jpg", data.string()});
    CAPTURE(r.dump());
    CHECK(has(r["replies"][2], "250"));
    auto& cat = d.a().catalog();
    auto job = d.a().flat_job.id;
    CHECK(only_upload(cat, job, "IMG_0003.jpg").state == UploadState::Queued);
    CHECK(uploads_named(cat, job, "IMG_0003.jpg.filepart").empty());

    REQUIRE(d.client(d.alice, "tls", {"put", "job00002/gone.jpg", data.string()}).contains("reply"));
    auto deleted = d.client(d.alice, "tls", {"dele", "job00002/gone.jpg"});
    CHECK(has(deleted.value("reply", ""), "250"));
    CHECK(only_upload(cat, job, "gone.jpg").state == UploadState::Deleted);
    auto names = d.client(d.alice, "tls", {"nlst", "job00002"})["names"];
    CAPTURE(names.dump());
    CHECK(std::find(names.begin(), names.end(), "IMG_0003.jpg") != names.end());
    CHECK(std::find(names.begin(), names.end(), "gone.jpg") == names.end());
}

TEST_CASE("over FTP the folder rules hold: a deeper folder, an archive and a non-image are refused in the reply") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    TempDir local;
    REQUIRE(has(d.client(d.alice, "tls", {"mkd", "job00001/Class 4D"}).value("reply", ""), "257"));
    CHECK(has(d.client(d.alice, "tls", {"mkd", "job00001/Class 4D/group"}).value("reply", ""), "257"));
    auto deeper = d.client(d.alice, "tls", {"mkd", "job00001/Class 4D/group/retakes"});
    CAPTURE(deeper.dump());
    CHECK(has(deeper.value("error", ""), "550"));
    CHECK(has(deeper.value("error", ""), "Permission denied"));
    CHECK(has(d.a().log(), "refused: folders cannot be made inside 'group' or 'individuals'"));
    CHECK(has(d.client(d.alice, "tls", {"mkd", "loose"}).value("error", ""), "550"));

    auto zip = local_file(local.path(), "photos.zip", "PK\x03\x04" + some_bytes(1000));
    auto disguised = local_file(local.path(), "disguised.jpg", "PK\x03\x04" + some_bytes(100000));
    auto txt = local_file(local.path(), "notes.txt", "hello");
    auto& cat = d.a().catalog();
    auto job = d.a().flat_job.id;
    for (auto [file, reason] : {std::pair{zip, "archives (.zip) are not accepted"}, std::pair{disguised, "ZIP archive"},
                                std::pair{txt, "only image files"}}) {
        auto name = file.filename().string();
        CAPTURE(name);
        auto r = d.client(d.alice, "tls", {"put", "job00002/" + name, file.string()});
        CAPTURE(r.dump());
        CHECK(has(r.value("error", ""), "Permission denied"));
        auto u = uploads_named(cat, job, name);
        REQUIRE_FALSE(u.empty());
        CHECK(u.back().state == UploadState::Rejected);
        CHECK(has(u.back().reason, reason));
    }
}

TEST_CASE("over FTP a login is chrooted into its tenant's mount and sees only its tenant") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    auto r = d.client(d.alice, "tls", {"escape"});
    CAPTURE(r.dump());
    CHECK(r["root"] == json::array({"job00001", "job00002"}));
    for (auto& [attempt, seen] : r["seen"].items()) {
        CAPTURE(attempt);
        const std::string text = seen;
        CHECK((has(text, "550") || text.ends_with(" /")));  // refused, or still at the mount's root
    }
    CHECK(d.client(d.bob, "tls", {"nlst", "/"})["names"] == json::array({"job00001", "job00002"}));
    CHECK(d.client(d.bob, "tls", {"nlst", "/job00001/Class 3C"}).contains("error"));
    CHECK(d.client(d.bob, "tls", {"get", "/../studio-a/job00001/Class 3C/IMG_0001.jpg"}).contains("error"));
}

TEST_CASE("who may log in over FTP, FTPS and SFTP is what user add --protocols (then user set) said; a disabled login "
          "is refused everywhere") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    auto ok = [&](const std::string& user, const std::string& mode, const std::string& password = {}) {
        auto r = d.client(user, mode, {"login"}, password);
        CAPTURE(user);
        CAPTURE(mode);
        CAPTURE(r.dump());
        return r.value("ok", false);
    };
    auto sftp_ok = [&](const std::string& user) { return d.d.sftp(user, "ls\n").first == 0; };
    CHECK(ok(d.alice, "tls"));
    CHECK_FALSE(ok(d.alice, "plain"));  // TLS is required of everyone but --ftp-plain logins
    CHECK_FALSE(ok(d.alice, "tls", "wrong-password"));
    CHECK(sftp_ok(d.alice));
    CHECK(ok(d.camera, "tls"));
    CHECK(ok(d.camera, "plain"));
    CHECK_FALSE(sftp_ok(d.camera));
    CHECK(ok(d.ftps_only, "tls"));
    CHECK_FALSE(ok(d.ftps_only, "plain"));
    CHECK_FALSE(sftp_ok(d.ftps_only));
    CHECK_FALSE(ok(d.sftp_only, "tls"));
    CHECK(sftp_ok(d.sftp_only));
    CHECK_FALSE(ok(d.dave, "tls"));
    CHECK_FALSE(sftp_ok(d.dave));
    CHECK_FALSE(ok("pdf-nobody", "tls"));
    REQUIRE(d.d.ctl({"user", "enable", d.dave}) == 0);
    CHECK(ok(d.dave, "tls"));
    REQUIRE(d.d.ctl({"user", "disable", d.dave}) == 0);
    CHECK_FALSE(ok(d.dave, "tls"));

    // user set: the servers follow at the next login, and the change undone is undone for them too.
    REQUIRE(d.d.ctl({"user", "set", d.sftp_only, "--protocols", "ftps"}) == 0);
    CHECK(ok(d.sftp_only, "tls"));
    CHECK_FALSE(sftp_ok(d.sftp_only));
    REQUIRE(d.d.ctl({"user", "set", d.sftp_only, "--protocols", "sftp"}) == 0);
    CHECK_FALSE(ok(d.sftp_only, "tls"));
    CHECK(sftp_ok(d.sftp_only));
}

TEST_CASE("a plain-FTP login uploads without TLS and the upload is the same as over TLS") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    TempDir local;
    auto bytes = some_bytes(1 << 20, 24);
    auto data = local_file(local.path(), "DSC_0001.JPG", bytes);
    auto r = d.client(d.camera, "plain", {"put", "job00002/DSC_0001.JPG", data.string()});
    CAPTURE(r.dump());
    CHECK(has(r.value("reply", ""), "226"));
    auto u = only_upload(d.a().catalog(), d.a().flat_job.id, "DSC_0001.JPG");
    CHECK(u.state == UploadState::Queued);
    CHECK(read_file(d.a().path("job00002/DSC_0001.JPG")) == bytes);
}

TEST_CASE("lftp mirror -R of an album with group/ and individuals/ over FTPS, and put -c resumes") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    TempDir local;
    auto album = local.path() / "Class 5E";
    local_file(album, "portrait1.jpg", some_bytes(40000, 31));
    local_file(album, "group/class.jpg", some_bytes(50000, 32));
    local_file(album, "individuals/kid1.jpg", some_bytes(60000, 33));
    local_file(album, "individuals/kid2.JPG", some_bytes(60000, 34));
    auto big = some_bytes(3 << 20, 35);
    auto partial = local_file(local.path(), "part/resume.jpg", big.substr(0, 1000000));
    auto whole = local_file(local.path(), "resume.jpg", big);
    auto lftp = [&](const std::string& commands) {
        std::string script = fmt::format(
            "set ftp:ssl-force true; set ftp:ssl-protect-data true; set ssl:verify-certificate no; "
            "set net:max-retries 1; set net:timeout 20; set cmd:fail-exit true; "
            "open -u {},{} -p {} 127.0.0.1; {}",
            d.alice, d.d.password(), d.d.ftp().port, commands);
        std::string out;
        int status = run_with_input({"timeout", "120", "lftp", "-c", script}, "", &out);
        return std::pair{status, out};
    };
    auto [status, out] = lftp(fmt::format("mkdir \"job00001/Class 5E\"; mirror -R \"{}\" \"job00001/Class 5E\"",
                                          album.string()));
    CAPTURE(out);
    CHECK(status == 0);
    auto& cat = d.a().catalog();
    auto job = d.a().albums_job.id;
    CHECK(only_upload(cat, job, "class.jpg").folder.section == Section::Group);
    for (std::string name : {"portrait1.jpg", "kid1.jpg", "kid2.JPG"}) {
        CAPTURE(name);
        auto u = only_upload(cat, job, name);
        CHECK(u.folder.section == Section::Individuals);
        CHECK(u.state == UploadState::Queued);
    }
    CHECK(read_file(d.a().path("job00001/Class 5E/individuals/kid1.jpg")) == some_bytes(60000, 33));

    auto first = lftp(fmt::format("put \"{}\" -o job00002/resume.jpg", partial.string()));
    CAPTURE(first.second);
    REQUIRE(first.first == 0);
    auto resumed = lftp(fmt::format("put -c \"{}\" -o job00002/resume.jpg", whole.string()));
    CAPTURE(resumed.second);
    CHECK(resumed.first == 0);
    CHECK(read_file(d.a().path("job00002/resume.jpg")) == big);
    auto u = only_upload(cat, d.a().flat_job.id, "resume.jpg");
    CHECK(u.size == static_cast<int64_t>(big.size()));
    CHECK(u.state == UploadState::Queued);
}

TEST_CASE("curl --ssl-reqd uploads, and -C - resumes where the server's copy ends") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    TempDir local;
    auto big = some_bytes(2 << 20, 41);
    auto partial = local_file(local.path(), "part/curl.jpg", big.substr(0, 700000));
    auto whole = local_file(local.path(), "curl.jpg", big);
    auto curl = [&](const std::vector<std::string>& extra, const std::filesystem::path& file) {
        std::vector<std::string> argv{"curl", "-sS", "--ssl-reqd", "-k", "--max-time", "60", "-T", file.string()};
        argv.insert(argv.end(), extra.begin(), extra.end());
        argv.push_back(d.url(d.alice, "job00002/curl.jpg"));
        std::string out;
        int status = run_with_input(argv, "", &out);
        return std::pair{status, out};
    };
    auto first = curl({}, partial);
    CAPTURE(first.second);
    REQUIRE(first.first == 0);
    auto resumed = curl({"-C", "-"}, whole);
    CAPTURE(resumed.second);
    CHECK(resumed.first == 0);
    CHECK(read_file(d.a().path("job00002/curl.jpg")) == big);
    CHECK(only_upload(d.a().catalog(), d.a().flat_job.id, "curl.jpg").size == static_cast<int64_t>(big.size()));
    // Without TLS curl is refused: alice is not a plain-FTP login.
    std::string out;
    CHECK(run_with_input({"curl", "-sS", "--max-time", "30", "-T", whole.string(), d.url(d.alice, "job00002/plain.jpg")},
                         "", &out) != 0);
    CHECK(uploads_named(d.a().catalog(), d.a().flat_job.id, "plain.jpg").empty());
}

TEST_CASE("with a tenant quota a STOR that crosses it is not acknowledged, and REST resumes it once there is room") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    auto& b = d.d.tenant(1);
    struct Unset {
        FtpDeployment& d;
        ~Unset() { d.d.ctl({"tenant", "set", "studio-b", "--quota", "none"}); }
    } unset{d};
    int64_t quota = b.catalog().tenant_use(b.tenant.id) + (2 << 20);
    REQUIRE(d.d.ctl({"tenant", "set", "studio-b", "--quota", std::to_string(quota)}) == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(700));  // the mount reads the quota again within 500 ms

    TempDir local;
    auto bytes = some_bytes(3 << 20, 51);
    auto data = local_file(local.path(), "quota.jpg", bytes);
    auto r = d.client(d.bob, "tls", {"put", "job00002/quota.jpg", data.string()});
    CAPTURE(r.dump());
    REQUIRE(r.contains("error"));  // never a 226 for bytes that are not all on disk
    CHECK_FALSE(has(r["error"], "226"));
    auto u = uploads_named(b.catalog(), b.flat_job.id, "quota.jpg");
    REQUIRE(u.size() == 1);
    CHECK(u[0].state == UploadState::Receiving);
    CHECK(u[0].size < static_cast<int64_t>(bytes.size()));
    CHECK(has(b.log(), "would take the studio past its storage quota"));

    REQUIRE(d.d.ctl({"tenant", "set", "studio-b", "--quota", "none"}) == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    auto resumed = d.client(d.bob, "tls", {"resume", "job00002/quota.jpg", data.string()});
    CAPTURE(resumed.dump());
    CHECK(has(resumed.value("reply", ""), "226"));
    CHECK(resumed["size"] == bytes.size());
    CHECK(read_file(b.path("job00002/quota.jpg")) == bytes);
    CHECK(uploads_named(b.catalog(), b.flat_job.id, "quota.jpg").back().state == UploadState::Queued);
}

TEST_CASE("two sessions STOR the same name at once: the one that came second is refused, the first lands whole") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    TempDir local;
    auto first = some_bytes(4 << 20, 61), second = some_bytes(3 << 20, 62);
    auto first_file = local_file(local.path(), "first.jpg", first);
    auto second_file = local_file(local.path(), "second.jpg", second);
    auto r = d.client(d.alice, "tls", {"race", "job00002/same.jpg", first_file.string(), second_file.string()});
    CAPTURE(r.dump());
    CHECK(has(r.value("first", ""), "226"));
    CHECK(has(r.value("second", ""), "550"));
    CHECK(read_file(d.a().path("job00002/same.jpg")) == first);
    auto u = only_upload(d.a().catalog(), d.a().flat_job.id, "same.jpg");
    CHECK(u.state == UploadState::Queued);
    CHECK(u.size == static_cast<int64_t>(first.size()));
}
