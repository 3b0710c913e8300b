// doctor: one line per check, ok or FAIL with the reason; exit 1 when any fails.
#include "tests/tools/ctl_fixture.hpp"
#include "tools/mounts.hpp"

#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

using namespace photodrop;
using photodrop::test::Ctl;

namespace {

// A one-shot HTTP server on loopback standing in for photodrop-ingest's /healthz.
class FakeHealth {
public:
    explicit FakeHealth(std::string status_line) : status_line_(std::move(status_line)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd_ >= 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        socklen_t len = sizeof addr;
        REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
        port_ = ntohs(addr.sin_port);
        REQUIRE(::listen(fd_, 4) == 0);
        thread_ = std::thread([this] {
            int client = ::accept(fd_, nullptr, nullptr);
            if (client < 0) return;
            char buffer[2048];
            std::string request;
            while (request.find("\r\n\r\n") == std::string::npos) {
                ssize_t n = ::read(client, buffer, sizeof buffer);
                if (n <= 0) break;
                request.append(buffer, static_cast<size_t>(n));
            }
            path_ = request.substr(0, request.find("\r\n"));
            std::string response = status_line_ + "\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
            (void)!::write(client, response.data(), response.size());
            ::close(client);
        });
    }
    ~FakeHealth() {
        ::shutdown(fd_, SHUT_RDWR);
        thread_.join();
        ::close(fd_);
    }
    std::string listen() const { return "127.0.0.1:" + std::to_string(port_); }
    const std::string& request_line() const { return path_; }

private:
    std::string status_line_;
    int fd_ = -1;
    int port_ = 0;
    std::string path_;
    std::thread thread_;
};

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

bool has_line_starting(const std::string& text, const std::string& start) {
    for (const auto& l : lines_of(text))
        if (l.starts_with(start)) return true;
    return false;
}

}  // namespace

TEST_CASE("doctor: a healthy catalog, data directory and ingest service pass; a tenant that is not mounted fails") {
    Ctl ctl;
    ctl.init_demo();
    std::filesystem::create_directories(ctl.mounts + "/demo");
    std::filesystem::permissions(ctl.mounts + "/demo", std::filesystem::perms(0755));

    auto snippet_dir = ctl.dir.path() / "sshd_config.d";
    std::filesystem::create_directories(snippet_dir);
    std::ofstream(snippet_dir / "photodrop.conf") << ctl.run({"sshd-config"}).out;
    auto sshd_config = ctl.dir.path() / "sshd_config";
    std::ofstream(sshd_config) << "Include " << snippet_dir.string() << "/*.conf\nPasswordAuthentication yes\n";

    FakeHealth ingest("HTTP/1.1 200 OK");
    auto r = ctl.run({"doctor", "--min-free-mb", "0", "--ingest", ingest.listen(), "--sshd-snippet",
                      (snippet_dir / "photodrop.conf").string(), "--sshd-config", sshd_config.string()});
    INFO(r.out);
    CHECK(r.status == 1);
    CHECK(r.err.empty());
    CHECK(has_line_starting(r.out, "ok    catalog: " + ctl.catalog_path + " opens: 1 tenant, 0 SFTP users"));
    CHECK(has_line_starting(r.out, "ok    data directory: " + ctl.data + " exists and is writable"));
    CHECK(has_line_starting(r.out, "ok    disk space: "));
    CHECK(has_line_starting(r.out, "FAIL  tenant demo mount: " + ctl.mounts + "/demo is not mounted "
                                   "(start photodrop-fs@demo)"));
    // The temporary directory sits below /tmp, which is world-writable: sshd would refuse the chroot.
    CHECK(has_line_starting(r.out, "FAIL  tenant demo chroot: "));
    CHECK(r.out.find("every directory above a chroot must be root-owned and not group- or world-writable") !=
          std::string::npos);
    CHECK(has_line_starting(r.out, "ok    sshd snippet: " + (snippet_dir / "photodrop.conf").string() +
                                   " is installed"));
    CHECK(has_line_starting(r.out, "ok    ingest: GET http://" + ingest.listen() + "/healthz: 200 OK: ok"));
    CHECK(ingest.request_line() == "GET /healthz HTTP/1.1");
    CHECK(lines_of(r.out).back() == "9 checks, 2 failed");
}

TEST_CASE("doctor: a missing catalog, data directory, sshd snippet and ingest service each fail with a reason") {
    Ctl ctl;
    auto r = ctl.run({"doctor", "--json", "--min-free-mb", "0", "--ingest", "127.0.0.1:1", "--timeout-ms", "500",
                      "--sshd-snippet", (ctl.dir.path() / "nowhere.conf").string()});
    CHECK(r.status == 1);
    auto j = r.json();
    std::map<std::string, nlohmann::json> checks;
    for (const auto& c : j["checks"]) checks[c["check"]] = c;
    CHECK(checks["catalog"]["ok"] == false);
    CHECK(checks["catalog"]["detail"] ==
          ctl.catalog_path + " does not exist (create it with `photodropctl init`)");
    CHECK(checks["data directory"]["ok"] == false);
    CHECK(checks["disk space"]["ok"] == true);
    CHECK(checks["sshd snippet"]["ok"] == false);
    CHECK(checks["sshd snippet"]["detail"].get<std::string>().find("is missing") != std::string::npos);
    CHECK(checks["ingest"]["ok"] == false);
    CHECK(checks["ingest"]["detail"].get<std::string>().find("Connection refused") != std::string::npos);
    CHECK(j["failed"] == 4);
    CHECK_FALSE(std::filesystem::exists(ctl.catalog_path));
}

TEST_CASE("doctor: an outdated sshd snippet and an unhealthy ingest answer fail") {
    Ctl ctl;
    ctl.init_demo();
    auto snippet = ctl.dir.path() / "photodrop.conf";
    std::ofstream(snippet) << "Match Group photodrop\n\tChrootDirectory %h\n";
    FakeHealth ingest("HTTP/1.1 503 Service Unavailable");
    auto r = ctl.run({"doctor", "--min-free-mb", "0", "--ingest", ingest.listen(), "--sshd-snippet",
                      snippet.string()});
    CHECK(r.status == 1);
    CHECK(has_line_starting(r.out, "FAIL  sshd snippet: " + snippet.string() +
                                   " differs from `photodropctl sshd-config`"));
    CHECK(has_line_starting(r.out, "FAIL  ingest: GET http://" + ingest.listen() + "/healthz: 503"));
}

TEST_CASE("doctor: free space below the threshold fails") {
    Ctl ctl;
    ctl.init_demo();
    auto r = ctl.run({"doctor", "--min-free-mb", "1000000000", "--json", "--ingest", "127.0.0.1:1"});
    auto j = r.json();
    for (const auto& c : j["checks"])
        if (c["check"] == "disk space") {
            CHECK(c["ok"] == false);
            CHECK(c["detail"].get<std::string>().find("BELOW") != std::string::npos);
        }
}

TEST_CASE("mountinfo: FUSE mounts, escaped names and allow_other") {
    auto entries = ctl::parse_mountinfo(
        "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
        "98 29 0:52 / /srv/photo\\040drop/demo rw,nosuid,nodev,relatime shared:50 - fuse.photodrop-fs photodrop-fs "
        "rw,user_id=0,group_id=0,default_permissions,allow_other\n"
        "99 29 0:53 / /srv/other rw,relatime - fuse.sshfs host:/ rw,user_id=0,group_id=0\n");
    REQUIRE(entries.size() == 3);
    CHECK(entries[1].mount_point == "/srv/photo drop/demo");
    CHECK(entries[1].fstype == "fuse.photodrop-fs");
    CHECK(ctl::has_option(entries[1].super_options, "allow_other"));
    CHECK_FALSE(ctl::has_option(entries[2].super_options, "allow_other"));
    CHECK(ctl::has_option(entries[0].options, "noexec"));
}

TEST_CASE("doctor: free space is checked against the setting free_space_reserve") {
    Ctl ctl;
    ctl.init_demo();
    ::setenv("PHOTODROP_FREE_SPACE_RESERVE", "1000T", 1);
    auto r = ctl.run({"doctor", "--json", "--ingest", "127.0.0.1:1"});
    ::unsetenv("PHOTODROP_FREE_SPACE_RESERVE");
    bool seen = false;
    auto j = r.json();
    for (const auto& c : j["checks"])
        if (c["check"] == "disk space") {
            seen = true;
            CHECK(c["ok"] == false);
            auto detail = c["detail"].get<std::string>();
            CHECK(detail.find("BELOW the free_space_reserve 1000.0 TiB: photodrop-fs refuses new uploads") !=
                  std::string::npos);
            CHECK(detail.find("the ingest service goes on down to 64.0 MiB") != std::string::npos);
        }
    CHECK(seen);
}
