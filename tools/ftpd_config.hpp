#pragma once
// The ProFTPD configuration that serves FTPS (and plain FTP to the logins
// allowed it) into the tenants' mounts, with the same system accounts as
// sshd. This is the one source of its text: packaging/proftpd/photodrop.conf
// is this with the default settings, and a test holds the two equal.

#include "catalog/config.hpp"
#include "catalog/model.hpp"

#include <string>
#include <vector>

namespace photodrop::ctl {

// Where the configuration is installed; photodrop-ftpd.service runs proftpd on it.
inline constexpr const char* ftpd_config_path = "/etc/photodrop/proftpd.conf";

// The groups that say which protocols a login may use. Every photodrop login is
// in sftp_group (its primary group); these are supplementary.
inline constexpr const char* ftp_group = "photodrop-ftp";              // may log in over FTP with TLS
inline constexpr const char* ftp_plain_group = "photodrop-ftp-plain";  // ... and over plain FTP
inline constexpr const char* no_sftp_group = "photodrop-no-sftp";      // sshd refuses it
inline constexpr const char* camera_group = "photodrop-camera";        // a camera account: hidden stores
// The supplementary groups of a login with these protocols (a camera account's: `camera`).
std::vector<std::string> protocol_groups(const Protocols& protocols, bool camera = false);
// All of them, to create and to check.
std::vector<std::string> all_protocol_groups();

struct FtpdPlace {
    std::string address;                              // empty: every address of the host
    std::string run_dir = "/run/photodrop-ftpd";      // pid file and scoreboard
    std::string system_log;                           // empty: syslog (the journal)
};

// The configuration for these settings (ftp_port, ftp_passive_ports, ftp_tls_*).
std::string ftpd_config(const Config& config, const FtpdPlace& place = {});

}  // namespace photodrop::ctl
