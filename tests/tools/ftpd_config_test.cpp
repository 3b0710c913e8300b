#include "tests/support/tempdir.hpp"
#include "tests/tools/ctl_fixture.hpp"
#include "tools/ftpd_config.hpp"
#include "tools/spawn.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <fstream>
#include <sstream>

using namespace photodrop;
using photodrop::test::Ctl;

namespace {
bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("ftpd-config prints the ProFTPD configuration, and the packaged one is exactly that") {
    Ctl ctl;
    auto r = ctl.run_bare({"ftpd-config"});
    REQUIRE(r.status == 0);
    for (const char* line : {"Port 21\n", "PassivePorts 49152 49407\n", "DefaultRoot ~\n", "RequireValidShell off\n",
                             "  AllowGroup photodrop-ftp\n  DenyAll\n", "TLSRequired on\n", "AllowStoreRestart on\n",
                             "HiddenStores off\n", "TLSRSACertificateFile /etc/photodrop/ftp/tls.crt\n",
                             "<IfGroup photodrop-ftp-plain>\n  TLSRequired off\n</IfGroup>\n",
                             "<IfGroup photodrop-camera>\n  HiddenStores on\n  AllowStoreRestart off\n</IfGroup>\n",
                             "PidFile /run/photodrop-ftpd/proftpd.pid\n", "<Limit EPRT PORT>\n  DenyAll\n"}) {
        CAPTURE(line);
        CHECK(has(r.out, line));
    }
    CHECK_FALSE(has(r.out, "\nDefaultAddress "));
    CHECK_FALSE(has(r.out, "\nSystemLog "));
    std::ifstream packaged(PHOTODROP_SOURCE_DIR "/packaging/proftpd/photodrop.conf");
    REQUIRE(packaged);
    std::stringstream text;
    text << packaged.rdbuf();
    CHECK(text.str() == r.out);
}

TEST_CASE("ftpd-config follows the settings, and proftpd accepts what it prints") {
    test::TempDir dir;
    auto cert = (dir.path() / "tls.crt").string(), key = (dir.path() / "tls.key").string();
    REQUIRE(ctl::run_program({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                              "/CN=localhost", "-keyout", key, "-out", cert})
                .exit_status == 0);
    Config config;
    apply_config_text(config,
                      "ftp_port = 2121\nftp_passive_ports = 50000-50010\nftp_tls_certificate = " + cert +
                          "\nftp_tls_key = " + key + "\n",
                      "test");
    auto text = ctl::ftpd_config(config, {"127.0.0.1", dir.path().string(), (dir.path() / "proftpd.log").string()});
    CHECK(has(text, "Port 2121\n"));
    CHECK(has(text, "PassivePorts 50000 50010\n"));
    CHECK(has(text, "DefaultAddress 127.0.0.1\nSocketBindTight on\n"));
    CHECK(has(text, "TLSRSACertificateFile " + cert + "\n"));
    CHECK(has(text, "TLSRSACertificateKeyFile " + key + "\n"));
    CHECK(has(text, "PidFile " + dir.path().string() + "/proftpd.pid\n"));
    CHECK(has(text, "SystemLog " + dir.path().string() + "/proftpd.log\n"));

    REQUIRE_MESSAGE(::access("/usr/sbin/proftpd", X_OK) == 0,
                    "this test needs /usr/sbin/proftpd (Debian packages proftpd-core, proftpd-mod-crypto)");
    auto path = dir.path() / "proftpd.conf";
    std::ofstream(path) << text;
    auto checked = ctl::run_program({"/usr/sbin/proftpd", "--configtest", "-c", path.string()});
    CAPTURE(checked.output);
    CHECK(checked.exit_status == 0);
}

TEST_CASE("the groups of a login follow its protocols") {
    using ctl::protocol_groups;
    CHECK(protocol_groups({true, true, false}) == std::vector<std::string>{"photodrop-ftp"});
    CHECK(protocol_groups({true, false, false}).empty());
    CHECK(protocol_groups({false, true, false}) == std::vector<std::string>{"photodrop-ftp", "photodrop-no-sftp"});
    CHECK(protocol_groups({false, true, true}) ==
          std::vector<std::string>{"photodrop-ftp", "photodrop-ftp-plain", "photodrop-no-sftp"});
    CHECK(protocol_groups({false, true, true}, true) ==
          std::vector<std::string>{"photodrop-ftp", "photodrop-ftp-plain", "photodrop-no-sftp", "photodrop-camera"});
    CHECK(to_string(Protocols{true, true, true}) == "sftp,ftps,ftp");
    CHECK(to_string(Protocols{false, false, false}) == "none");
    CHECK(parse_protocols("ftps,sftp") == Protocols{true, true, false});
    CHECK_FALSE(parse_protocols("sftp,"));
    CHECK_FALSE(parse_protocols("none"));
}
