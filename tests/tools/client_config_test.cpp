// user client-config: each file read back as its client reads it (Python's
// ElementTree, configparser and plistlib, `rclone reveal`; see
// read_client_config.py), against fingerprints printed by ssh-keygen and openssl.
#include "tests/tools/ctl_fixture.hpp"
#include "tools/client_config.hpp"
#include "tools/spawn.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace photodrop;
using nlohmann::json;
using photodrop::test::Ctl;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string word(const std::string& text, size_t n) {
    std::istringstream words(text);
    std::string w;
    for (size_t i = 0; i <= n; ++i) words >> w;
    return w;
}

// A demo catalog with user alice (no system account: the files need none), an
// sshd host key and a TLS certificate, with their fingerprints as the tools print them.
struct Setup {
    Ctl ctl;
    std::string host_key, host_key_pub, ssh_fingerprint;  // "SHA256:..."
    std::string certificate, tls_fingerprint;              // "AB:CD:..."
    std::string password = "Sünny day & <night> \"42\"";

    Setup() {
        ctl.init_demo();
        auto cat = ctl.catalog();
        cat->add_user(cat->tenant("demo")->id, "alice", 60001, {});
        host_key = (ctl.dir.path() / "ssh_host_ed25519_key").string();
        REQUIRE(ctl::run_program({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", host_key}).exit_status == 0);
        std::ifstream pub(host_key + ".pub");
        std::getline(pub, host_key_pub);
        auto listed = ctl::run_program({"ssh-keygen", "-lf", host_key + ".pub"});
        REQUIRE(listed.exit_status == 0);
        ssh_fingerprint = word(listed.output, 1);
        REQUIRE(ssh_fingerprint.starts_with("SHA256:"));

        certificate = (ctl.dir.path() / "tls.crt").string();
        auto made = ctl::run_program({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                      "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                                      (ctl.dir.path() / "tls.key").string(), "-out", certificate, "-subj",
                                      "/CN=photos.example.com", "-days", "2"});
        REQUIRE_MESSAGE(made.exit_status == 0, made.output);
        auto fp = ctl::run_program({"openssl", "x509", "-in", certificate, "-noout", "-fingerprint", "-sha256"});
        REQUIRE(fp.exit_status == 0);
        tls_fingerprint = fp.output.substr(fp.output.find('=') + 1);
        while (!tls_fingerprint.empty() && tls_fingerprint.back() == '\n') tls_fingerprint.pop_back();
    }

    // photodropctl user client-config alice --format FORMAT ... for photos.example.com:2222.
    test::CtlRun make(const std::string& format, std::vector<std::string> extra = {}, const std::string& input = "") {
        std::vector<std::string> args{"user",   "client-config", "alice",      "--format",  format,
                                      "--host", "photos.example.com", "--port", "2222", "--host-key",
                                      host_key + ".pub", "--certificate", certificate};
        args.insert(args.end(), extra.begin(), extra.end());
        return ctl.run(args, input);
    }

    // What the client reads in `text`.
    json read(const std::string& format, const std::string& text) {
        auto file = ctl.dir.path() / ("client." + format);
        std::ofstream(file, std::ios::binary) << text;
        auto r = ctl::run_program({"python3", PHOTODROP_SOURCE_DIR "/tests/tools/read_client_config.py", format,
                                   file.string()});
        REQUIRE_MESSAGE(r.exit_status == 0, r.output, "\n--- the file ---\n", text);
        return json::parse(r.output);
    }
};

}  // namespace

TEST_CASE("client-config filezilla: a Site Manager export with the structure FileZilla writes") {
    Setup s;
    SUBCASE("SFTP, the password asked for at each connection") {
        auto r = s.make("filezilla");
        REQUIRE_MESSAGE(r.status == 0, r.err);
        auto fz = s.read("filezilla", r.out);
        CHECK(fz["root"] == "FileZilla3");
        REQUIRE(fz["servers"].size() == 1);
        auto server = fz["servers"][0];
        std::vector<std::string> children = server["children"];
        std::vector<std::string> first(children.begin(), children.begin() + 6);
        CHECK(first == std::vector<std::string>{"Host", "Port", "Protocol", "Type", "User", "Logontype"});
        CHECK(server["Host"] == "photos.example.com");
        CHECK(server["Port"] == "2222");
        CHECK(server["Protocol"] == "1");  // SFTP
        CHECK(server["Type"] == "0");
        CHECK(server["User"] == "alice");
        CHECK(server["Logontype"] == "2");  // ask for the password
        CHECK_FALSE(server.contains("Pass"));
        CHECK(server["Name"] == "alice@photos.example.com");
        CHECK(server["text"] == "alice@photos.example.com");
        CHECK(has(server["Comments"], "ssh-ed25519 255 " + s.ssh_fingerprint));
    }
    SUBCASE("FTPS with the password, base64 as FileZilla stores it") {
        auto r = s.make("filezilla", {"--protocol", "ftps", "--with-password"}, s.password + "\n");
        REQUIRE_MESSAGE(r.status == 0, r.err);
        auto server = s.read("filezilla", r.out)["servers"][0];
        CHECK(server["Protocol"] == "4");  // FTP over explicit TLS
        CHECK(server["Logontype"] == "1");  // normal: the password saved
        CHECK(server["Pass encoding"] == "base64");
        CHECK(server["password"] == s.password);
        CHECK(server["PasvMode"] == "MODE_PASSIVE");
        CHECK(has(server["Comments"], s.tls_fingerprint));
    }
}

TEST_CASE("client-config winscp: a WinSCP.ini session with the key pinned and the password as WinSCP stores it") {
    Setup s;
    SUBCASE("SFTP with the password") {
        auto r = s.make("winscp", {"--with-password"}, s.password + "\n");
        REQUIRE_MESSAGE(r.status == 0, r.err);
        auto ini = s.read("winscp", r.out);
        REQUIRE(ini["sections"] == json::array({"Sessions\\alice@photos.example.com"}));
        auto session = ini["Sessions\\alice@photos.example.com"];
        CHECK(session["HostName"] == "photos.example.com");
        CHECK(session["PortNumber"] == "2222");
        CHECK(session["UserName"] == "alice");
        CHECK(session["FSProtocol"] == "2");  // SFTP only
        CHECK(session["SshHostKey"] == "ssh-ed25519 255 " + s.ssh_fingerprint);
        CHECK(session["password"] == s.password);
        CHECK(has(r.out, "SshHostKey=ssh-ed25519%20255%20SHA256:"));  // escaped as WinSCP writes it
    }
    SUBCASE("SFTP without the password") {
        auto r = s.make("winscp");
        REQUIRE(r.status == 0);
        auto session = s.read("winscp", r.out)["Sessions\\alice@photos.example.com"];
        CHECK_FALSE(session.contains("Password"));
        CHECK_FALSE(has(r.out, "Password"));
    }
    SUBCASE("FTPS: explicit TLS, the certificate's fingerprint pinned") {
        auto r = s.make("winscp", {"--protocol", "ftps"});
        REQUIRE(r.status == 0);
        auto session = s.read("winscp", r.out)["Sessions\\alice@photos.example.com"];
        CHECK(session["FSProtocol"] == "5");
        CHECK(session["Ftps"] == "3");
        CHECK(session["SshHostKey"] == s.tls_fingerprint);
    }
}

TEST_CASE("client-config cyberduck: a .duck bookmark, a valid property list; no password in it") {
    Setup s;
    auto r = s.make("cyberduck");
    REQUIRE_MESSAGE(r.status == 0, r.err);
    auto duck = s.read("cyberduck", r.out);
    CHECK(duck["Protocol"] == "sftp");
    CHECK(duck["Hostname"] == "photos.example.com");
    CHECK(duck["Port"] == "2222");
    CHECK(duck["Username"] == "alice");
    CHECK(duck["Nickname"] == "alice@photos.example.com");
    CHECK(std::string(duck["UUID"]).size() == 36);
    CHECK(has(duck["Comment"], s.ssh_fingerprint));
    CHECK(s.read("cyberduck", s.make("cyberduck").out)["UUID"] == duck["UUID"]);  // re-import replaces

    auto ftps = s.read("cyberduck", s.make("cyberduck", {"--protocol", "ftps"}).out);
    CHECK(ftps["Protocol"] == "ftps");
    CHECK(ftps["FTP Connect Mode"] == "passive");
    CHECK(has(ftps["Comment"], s.tls_fingerprint));

    auto refused = s.make("cyberduck", {"--with-password"}, s.password + "\n");
    CHECK(refused.status == 2);
    CHECK(has(refused.err, "keychain"));
    CHECK(refused.out.empty());
}

TEST_CASE("client-config rclone: an rclone.conf remote, the password obscured as rclone does, the known_hosts line") {
    Setup s;
    SUBCASE("SFTP with the password") {
        auto r = s.make("rclone", {"--with-password"}, s.password + "\n");
        REQUIRE_MESSAGE(r.status == 0, r.err);
        auto conf = s.read("rclone", r.out);
        REQUIRE(conf["sections"] == json::array({"photodrop-alice"}));
        auto remote = conf["photodrop-alice"];
        CHECK(remote["type"] == "sftp");
        CHECK(remote["host"] == "photos.example.com");
        CHECK(remote["port"] == "2222");
        CHECK(remote["user"] == "alice");
        CHECK(remote["password"] == s.password);  // what `rclone reveal` says
        CHECK(remote["known_hosts_file"] == "~/.ssh/known_hosts");
        std::string key_line = "[photos.example.com]:2222 " + word(s.host_key_pub, 0) + " " + word(s.host_key_pub, 1);
        bool listed = false;
        for (const auto& c : conf["comments"]) listed = listed || c == key_line;
        CHECK_MESSAGE(listed, r.out);
    }
    SUBCASE("SFTP without the password") {
        auto r = s.make("rclone");
        REQUIRE(r.status == 0);
        CHECK_FALSE(s.read("rclone", r.out)["photodrop-alice"].contains("pass"));
    }
    SUBCASE("FTPS") {
        auto r = s.make("rclone", {"--protocol", "ftps", "--with-password"}, s.password + "\n");
        REQUIRE(r.status == 0);
        auto remote = s.read("rclone", r.out)["photodrop-alice"];
        CHECK(remote["type"] == "ftp");
        CHECK(remote["explicit_tls"] == "true");
        CHECK(remote["password"] == s.password);
        CHECK(has(r.out, s.tls_fingerprint));
    }
}

TEST_CASE("client-config: a hostile host value is escaped in every file, or refused when no file can hold it") {
    Setup s;
    const std::string hostile = "evil\"'<x>&amp;</Host><Pass>y</Pass>[z]%41;#.\\*";
    auto made = [&](const std::string& format) {
        auto r = s.ctl.run({"user", "client-config", "alice", "--format", format, "--host", hostile, "--host-key",
                            s.host_key + ".pub"});
        REQUIRE_MESSAGE(r.status == 0, r.err);
        return s.read(format, r.out);
    };
    auto fz = made("filezilla");
    REQUIRE(fz["servers"].size() == 1);
    CHECK(fz["servers"][0]["Host"] == hostile);
    CHECK_FALSE(fz["servers"][0].contains("Pass"));
    CHECK(made("cyberduck")["Hostname"] == hostile);
    auto ini = made("winscp");
    REQUIRE(ini["sections"].size() == 1);
    CHECK(ini[std::string(ini["sections"][0])]["HostName"] == hostile);
    auto conf = made("rclone");
    REQUIRE(conf["sections"] == json::array({"photodrop-alice"}));
    CHECK(conf["photodrop-alice"]["host"] == hostile);

    for (std::string bad : {"a\nb", "two words", "tab\there"}) {
        CAPTURE(bad);
        auto r = s.ctl.run({"user", "client-config", "alice", "--format", "filezilla", "--host", bad, "--host-key",
                            s.host_key + ".pub"});
        CHECK(r.status == 1);
        CHECK(r.out.empty());
    }
    // The writers themselves refuse what would break a line.
    client_config::Account account;
    account.host = "ok.example.com";
    account.user = "alice";
    account.host_key = client_config::read_ssh_host_key(s.host_key + ".pub");
    account.password = "line\nbreak";
    CHECK_THROWS(client_config::rclone_remote(account));
    CHECK_THROWS(client_config::winscp_session(account));
}

TEST_CASE("client-config: the settings name the host and port; --output writes a 0600 file; refusals") {
    Setup s;
    ::setenv("PHOTODROP_PUBLIC_HOST", "files.example.org", 1);
    ::setenv("PHOTODROP_SFTP_PORT", "2200", 1);
    auto r = s.ctl.run({"user", "client-config", "alice", "--format", "rclone", "--host-key", s.host_key + ".pub"});
    ::unsetenv("PHOTODROP_PUBLIC_HOST");
    ::unsetenv("PHOTODROP_SFTP_PORT");
    REQUIRE_MESSAGE(r.status == 0, r.err);
    auto remote = s.read("rclone", r.out)["photodrop-alice"];
    CHECK(remote["host"] == "files.example.org");
    CHECK(remote["port"] == "2200");

    auto file = s.ctl.dir.path() / "alice.xml";
    auto written = s.make("filezilla", {"--with-password", "--output", file.string()}, s.password + "\n");
    REQUIRE_MESSAGE(written.status == 0, written.err);
    CHECK(has(written.out, file.string() + " written"));
    CHECK(has(written.out, s.ssh_fingerprint));
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    CHECK(s.read("filezilla", text.str())["servers"][0]["password"] == s.password);

    auto unknown = s.ctl.run({"user", "client-config", "nobody", "--format", "rclone", "--host-key",
                              s.host_key + ".pub"});
    CHECK(unknown.status == 1);
    CHECK(has(unknown.err, "no SFTP user 'nobody'"));
    CHECK(s.make("putty").status == 2);
    auto no_password = s.make("rclone", {"--with-password"});
    CHECK(no_password.status == 1);
    CHECK(has(no_password.err, "no password on standard input"));
    auto private_key = s.ctl.run({"user", "client-config", "alice", "--format", "rclone", "--host", "h",
                                  "--host-key", s.host_key});
    CHECK(private_key.status == 1);
    CHECK(has(private_key.err, "private key"));
    auto no_certificate = s.ctl.run({"user", "client-config", "alice", "--format", "rclone", "--host", "h",
                                     "--protocol", "ftps", "--certificate", s.host_key + ".pub"});
    CHECK(no_certificate.status == 1);
    CHECK(has(no_certificate.err, "no PEM certificate"));
}
