#include "tests/support/ftpd.hpp"

#include "tests/support/files.hpp"

#include <fmt/format.h>

#include <signal.h>

#include <fstream>
#include <random>
#include <stdexcept>

namespace photodrop::test {

FtpSettings make_ftp_settings(const std::filesystem::path& dir) {
    FtpSettings s;
    s.certificate = dir / "tls.crt";
    s.key = dir / "tls.key";
    if (run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", s.key.string(), "-out", s.certificate.string()},
            (dir / "openssl.log").string()) != 0)
        throw std::runtime_error("openssl could not make a certificate: " + read_file(dir / "openssl.log"));
    s.port = free_port();
    // 32 passive ports somewhere in 40000-59999: proftpd tries another of them when one is taken.
    std::random_device random;
    s.passive_first = 40000 + static_cast<int>(random() % 625) * 32;
    s.passive_last = s.passive_first + 31;
    return s;
}

std::vector<std::string> ftp_setting_variables(const FtpSettings& s) {
    return {fmt::format("PHOTODROP_FTP_PORT={}", s.port),
            fmt::format("PHOTODROP_FTP_PASSIVE_PORTS={}-{}", s.passive_first, s.passive_last),
            "PHOTODROP_FTP_TLS_CERTIFICATE=" + s.certificate.string(), "PHOTODROP_FTP_TLS_KEY=" + s.key.string()};
}

FtpServer::FtpServer(const std::filesystem::path& dir, const std::string& config, int port) : dir_(dir), port_(port) {
    if (!std::filesystem::exists("/usr/sbin/proftpd"))
        throw std::runtime_error("FTP tests need /usr/sbin/proftpd (Debian packages proftpd-core, proftpd-mod-crypto)");
    auto path = dir_ / "proftpd.conf";
    std::ofstream(path) << config;
    if (run({"/usr/sbin/proftpd", "--configtest", "-c", path.string()}, (dir_ / "proftpd.out").string()) != 0)
        throw std::runtime_error("proftpd refuses its configuration: " + log());
    proftpd_ = Process({"/usr/sbin/proftpd", "--nodaemon", "-c", path.string()}, (dir_ / "proftpd.out").string());
    if (!wait_accepting(proftpd_, port_, 10)) throw std::runtime_error("proftpd did not start: " + log());
}

FtpServer::~FtpServer() {
    proftpd_.signal(SIGTERM);
    if (proftpd_.wait_for(5) < 0) proftpd_.signal(SIGKILL);
    proftpd_.wait();
}

std::string FtpServer::log() const {
    std::string text;
    for (const char* name : {"proftpd.out", "proftpd.log"})
        if (std::filesystem::exists(dir_ / name)) text += read_file(dir_ / name);
    return text;
}

}  // namespace photodrop::test
