#pragma once
// A private ProFTPD on 127.0.0.1 for end-to-end tests, run on the
// configuration `photodropctl ftpd-config` prints (with the test's port,
// passive ports, TLS certificate and run directory), started and stopped by
// its PID.

#include "tests/support/process.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace photodrop::test {

struct FtpSettings {
    int port = 0;
    int passive_first = 0, passive_last = 0;
    std::filesystem::path certificate, key;
};

// A self-signed certificate and key for 127.0.0.1 in DIR (tls.crt, tls.key), and a free control
// port and passive range: the settings photodropctl is given.
FtpSettings make_ftp_settings(const std::filesystem::path& dir);
// PHOTODROP_* settings for photodropctl and the like.
std::vector<std::string> ftp_setting_variables(const FtpSettings& settings);

class FtpServer {
public:
    // Runs proftpd on `config` (written to DIR/proftpd.conf); waits until it accepts connections.
    FtpServer(const std::filesystem::path& dir, const std::string& config, int port);
    ~FtpServer();
    FtpServer(const FtpServer&) = delete;
    FtpServer& operator=(const FtpServer&) = delete;
    int port() const { return port_; }
    // proftpd's log (DIR/proftpd.log, if the configuration names it) and what it printed.
    std::string log() const;

private:
    std::filesystem::path dir_;
    int port_;
    Process proftpd_;
};

}  // namespace photodrop::test
