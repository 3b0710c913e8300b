// End to end: the rclone remote that `photodropctl user client-config` writes,
// used as it is by a real rclone to upload photos over SFTP through the real
// sshd into a real mount, with the server's key checked against the
// known_hosts line the file gives (and a wrong key refused); and over FTPS
// through the real ProFTPD, with its certificate checked.

#include "tests/support/deployment.hpp"
#include "tests/support/files.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace photodrop;
using namespace photodrop::test;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The known_hosts line the file's comment tells the photographer to add.
std::string known_hosts_line_of(const std::string& conf) {
    std::istringstream lines(conf);
    bool next = false;
    for (std::string line; std::getline(lines, line);) {
        if (next) return line.substr(line.find_first_not_of("# "));
        next = has(line, "add this line");
    }
    return {};
}

// rclone with the file as its whole configuration, HOME at `home` (where
// `~/.ssh/known_hosts` is) and, if given, only the certificate in `trusted`
// as a certificate authority; stopped after 60 s; exit status and output.
std::pair<int, std::string> rclone(const std::filesystem::path& conf, const std::filesystem::path& home,
                                   const std::vector<std::string>& args, const std::string& trusted = {}) {
    std::vector<std::string> argv{"env", "-i", "PATH=/usr/bin:/bin", "HOME=" + home.string(),
                                  "RCLONE_CONFIG=" + conf.string()};
    if (!trusted.empty()) argv.push_back("SSL_CERT_FILE=" + trusted);  // the certificates rclone trusts
    for (const char* arg : {"timeout", "60", "rclone", "--contimeout", "10s", "--retries", "1", "--low-level-retries", "1"})
        argv.push_back(arg);
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out;
    int status = run_with_input(argv, "", &out);
    return {status, out};
}

}  // namespace

TEST_CASE("rclone uploads photos with the remote client-config writes, after checking the server's key") {
    REQUIRE_DEPLOYABLE();
    REQUIRE_MESSAGE(run({"rclone", "version"}) == 0, "rclone is not installed (tools/dev/install-deps)");
    Deployment d{{"studio-r"}};
    auto user = d.add_user("pdtr", "studio-r");
    d.start_sshd();
    d.start_ingest();
    auto& t = d.tenant(0);

    TempDir local;
    auto conf = local.path() / "rclone.conf";
    std::string said;
    REQUIRE_MESSAGE(d.ctl({"user", "client-config", user, "--format", "rclone", "--with-password", "--host",
                           "127.0.0.1", "--port", std::to_string(d.port()), "--host-key",
                           (d.dir() / "ssh_host_ed25519_key.pub").string(), "--output", conf.string()},
                          d.password() + "\n", &said) == 0,
                    said);
    auto text = read_file(conf);
    CAPTURE(text);
    CHECK_FALSE(has(text, d.password()));  // obscured, not in clear
    auto key_line = known_hosts_line_of(text);
    REQUIRE(key_line.starts_with(fmt::format("[127.0.0.1]:{} ssh-ed25519 ", d.port())));

    auto photos = local.path() / "card";
    std::filesystem::create_directories(photos);
    make_jpeg(photos, "IMG_0001.jpg", 1200, 800);
    make_jpeg(photos, "IMG_0002.jpg", 800, 1200);
    auto remote = fmt::format("photodrop-{}:job00002", user);

    SUBCASE("with the server's key in known_hosts the photos go up and are ingested") {
        auto home = local.path() / "home";
        std::filesystem::create_directories(home / ".ssh");
        std::ofstream(home / ".ssh" / "known_hosts") << key_line << "\n";
        auto [status, out] = rclone(conf, home, {"copy", photos.string(), remote});
        CAPTURE(out);
        REQUIRE(status == 0);
        for (std::string name : {"IMG_0001.jpg", "IMG_0002.jpg"}) {
            CAPTURE(name);
            bool ingested = within(30, [&] {
                auto u = uploads_named(t.catalog(), t.flat_job.id, name);
                return u.size() == 1 && u[0].state == UploadState::Ingested;
            });
            auto u = uploads_named(t.catalog(), t.flat_job.id, name);
            REQUIRE(u.size() == 1);
            CHECK_MESSAGE(ingested, "state ", to_string(u[0].state), ": ", u[0].reason);
        }
        CHECK(t.catalog().photos(t.flat_job.id).size() == 2);
        // rclone lists what it sent.
        auto [listed_status, listed] = rclone(conf, home, {"lsf", remote});
        CHECK(listed_status == 0);
        CHECK(has(listed, "IMG_0001.jpg"));
    }

    SUBCASE("with another key for the server rclone refuses to connect and sends nothing") {
        auto home = local.path() / "home-wrong";
        std::filesystem::create_directories(home / ".ssh");
        auto other = make_client_key(local.path(), "impostor");
        std::ifstream pub(other.string() + ".pub");
        std::string type, key;
        pub >> type >> key;
        std::ofstream(home / ".ssh" / "known_hosts") << fmt::format("[127.0.0.1]:{} {} {}\n", d.port(), type, key);
        auto [status, out] = rclone(conf, home, {"copy", photos.string(), remote});
        CAPTURE(out);
        CHECK(status != 0);
        CHECK((has(out, "key mismatch") || has(out, "knownhosts")));
        CHECK(uploads_named(t.catalog(), t.flat_job.id, "IMG_0001.jpg").empty());
    }
}

TEST_CASE("rclone uploads over FTPS with the remote client-config writes; a server with another certificate is "
          "refused") {
    REQUIRE_DEPLOYABLE();
    REQUIRE_MESSAGE(run({"rclone", "version"}) == 0, "rclone is not installed (tools/dev/install-deps)");
    Deployment d{{"studio-f"}};
    auto user = d.add_user("pdtf", "studio-f", {"--protocols", "ftps"});
    d.start_ftpd();
    auto& t = d.tenant(0);

    TempDir local;
    auto conf = local.path() / "rclone.conf";
    std::string said;
    REQUIRE_MESSAGE(d.ctl({"user", "client-config", user, "--format", "rclone", "--protocol", "ftps",
                           "--with-password", "--host", "127.0.0.1", "--port", std::to_string(d.ftp().port),
                           "--certificate", d.ftp().certificate.string(), "--output", conf.string()},
                          d.password() + "\n", &said) == 0,
                    said);
    auto text = read_file(conf);
    CAPTURE(text);
    CHECK(has(text, "explicit_tls = true"));
    CHECK_FALSE(has(text, d.password()));

    auto photos = local.path() / "card";
    std::filesystem::create_directories(photos);
    make_jpeg(photos, "DSC_0001.JPG", 1200, 800);
    auto remote = fmt::format("photodrop-{}:job00002", user);
    auto home = local.path() / "home";
    std::filesystem::create_directories(home);

    // The server's self-signed certificate is what the photographer is told to trust.
    CHECK(has(text, "SSL_CERT_FILE"));
    auto [status, out] = rclone(conf, home, {"copy", photos.string(), remote}, d.ftp().certificate.string());
    CAPTURE(out);
    REQUIRE(status == 0);
    auto u = uploads_named(t.catalog(), t.flat_job.id, "DSC_0001.JPG");
    REQUIRE(u.size() == 1);
    CHECK(u[0].state == UploadState::Queued);
    CHECK(read_file(t.path("job00002/DSC_0001.JPG")) == read_file(photos / "DSC_0001.JPG"));

    // Trusting another certificate, rclone refuses the server and sends nothing.
    auto other = make_ftp_settings(local.path());
    make_jpeg(photos, "DSC_0002.JPG", 800, 1200);
    auto [refused, why] = rclone(conf, home, {"copy", photos.string(), remote}, other.certificate.string());
    CAPTURE(why);
    CHECK(refused != 0);
    CHECK(has(why, "certificate"));
    CHECK(uploads_named(t.catalog(), t.flat_job.id, "DSC_0002.JPG").empty());
}
