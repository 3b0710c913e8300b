#include "tools/ftpd_config.hpp"

#include <fmt/format.h>

namespace photodrop::ctl {

std::vector<std::string> protocol_groups(const Protocols& p, bool camera) {
    std::vector<std::string> groups;
    if (p.ftps || p.ftp) groups.push_back(ftp_group);
    if (p.ftp) groups.push_back(ftp_plain_group);
    if (!p.sftp) groups.push_back(no_sftp_group);
    if (camera) groups.push_back(camera_group);
    return groups;
}

std::vector<std::string> all_protocol_groups() { return {ftp_group, ftp_plain_group, no_sftp_group, camera_group}; }

std::string ftpd_config(const Config& config, const FtpdPlace& place) {
    auto dash = config.ftp_passive_ports.find('-');
    std::string passive = config.ftp_passive_ports.substr(0, dash) + " " + config.ftp_passive_ports.substr(dash + 1);
    std::string listen = place.address.empty()
                             ? "# Every address of the host; `DefaultAddress A` and `SocketBindTight on` for one.\n"
                             : fmt::format("DefaultAddress {}\nSocketBindTight on\n", place.address);
    return fmt::format(R"(# photodrop: FTP with TLS (and plain FTP for the logins allowed it) into the
# tenants' photodrop-fs mounts, with the same system accounts as sshd.
# Install as {path}; photodrop-ftpd.service runs Debian's proftpd on it.
# Written by `photodropctl ftpd-config` from /etc/photodrop/photodrop.conf
# (ftp_port, ftp_passive_ports, ftp_tls_certificate, ftp_tls_key).
#
# Each login's home is its tenant's mount point (a camera account's: its album
# there) and proftpd chroots into it:
# the folder rules, the refusals and the upload lifecycle are photodrop-fs's,
# whatever the protocol. Which protocols a login may use is its groups, set by
# `photodropctl user add --protocols ... [--ftp-plain]`: only members of
# {ftp} log in here; members of {plain} may do so without TLS.

ServerName "photodrop"
ServerType standalone
ServerIdent on "photodrop FTP ready"
DefaultServer on
Port {port}
{listen}UseIPv6 on
# Passive mode only, on these ports (open them in the firewall). Behind NAT, add
# `MasqueradeAddress <public address>`.
PassivePorts {passive}
<Limit EPRT PORT>
  DenyAll
</Limit>
MaxInstances 200
MaxLoginAttempts 3
TimeoutLogin 60
TimeoutIdle 600
TimeoutNoTransfer 900
TimeoutStalled 300

User proftpd
Group nogroup
PidFile {run}/proftpd.pid
ScoreboardFile {run}/proftpd.scoreboard
{log}# photodrop-fs logs every upload and refusal; proftpd's own log has the logins.
TransferLog none
WtmpLog off
DelayEngine off
ControlsEngine off
UseReverseDNS off
UseSendfile off
TimesGMT on
Umask 022

# Logins: PAM, as sshd, so that a disabled (locked, expired) login is refused here too.
AuthOrder mod_auth_pam.c* mod_auth_unix.c
AuthPAMConfig proftpd
RequireValidShell off
DefaultRoot ~
ShowSymlinks off
<Limit LOGIN>
  AllowGroup {ftp}
  DenyAll
</Limit>

# Uploads: resume (REST + STOR, APPE) and overwrite in place, no hidden
# temporary names: photodrop-fs keeps an upload resumable until it is whole,
# and a fragment cut off by a dropped connection stays for the client to resume.
AllowOverwrite on
AllowStoreRestart on
AllowRetrieveRestart on
HiddenStores off
DeleteAbortedStores off

ModulePath /usr/lib/proftpd
LoadModule mod_tls.c
TLSEngine on
TLSProtocol TLSv1.2 TLSv1.3
TLSRSACertificateFile {cert}
TLSRSACertificateKeyFile {key}
TLSVerifyClient off
TLSRenegotiate none
# Required on the control and the data channels. AllowPerUser lets the
# {plain} group below turn it off; for everyone else a login without TLS
# is disconnected right after PASS (the password has then gone out in the
# clear: that is the client's doing). NoSessionReuseRequired: cameras and
# some clients do not resume the control channel's TLS session on data
# connections; proftpd still takes data connections only from the control
# connection's address.
TLSRequired on
TLSOptions AllowPerUser NoSessionReuseRequired

# mod_ifsession is loaded last, as its documentation requires.
LoadModule mod_ifsession.c
<IfGroup {plain}>
  TLSRequired off
</IfGroup>
# Camera accounts (`user add --camera`): a camera's file is stored as
# .in.NAME. and renamed to NAME once whole, so that one cut off by a dropped
# connection is never taken for a photo. photodrop-fs hides what such a cut
# leaves (proftpd would refuse to store over it) and lets the camera's next
# try write it again from the start; cameras do not resume (REST is refused).
<IfGroup {camera}>
  HiddenStores on
  AllowStoreRestart off
</IfGroup>
)",
                       fmt::arg("path", ftpd_config_path), fmt::arg("port", config.ftp_port),
                       fmt::arg("listen", listen), fmt::arg("passive", passive), fmt::arg("run", place.run_dir),
                       fmt::arg("log", place.system_log.empty() ? "" : fmt::format("SystemLog {}\n", place.system_log)),
                       fmt::arg("ftp", ftp_group), fmt::arg("plain", ftp_plain_group), fmt::arg("camera", camera_group),
                       fmt::arg("cert", config.ftp_tls_certificate), fmt::arg("key", config.ftp_tls_key));
}

}  // namespace photodrop::ctl
