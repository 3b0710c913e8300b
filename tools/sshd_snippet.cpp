#include "tools/sshd_snippet.hpp"

#include "tools/context.hpp"
#include "tools/ftpd_config.hpp"

#include <fmt/format.h>

namespace photodrop::ctl {

std::string sshd_snippet(const std::string& keys_dir) {
    return fmt::format(R"(# photodrop: SFTP users land in their tenant's photodrop-fs mount, and nowhere else.
# Install as {path} and reload sshd.
# Written by `photodropctl sshd-config`.
#
# Each member of group {group} has its tenant's mount point as its home: sshd
# chroots into it (it must be owned by root, mode 0755, as must every directory
# above it) and serves only SFTP there. Keys live outside the chroot, installed
# by `photodropctl user add --key`. Logins made without SFTP (`user add
# --protocols ftps`) are in group {no_sftp}, which sshd refuses.
Match Group {no_sftp}
	DenyUsers *
Match Group {group}
	ChrootDirectory %h
	ForceCommand internal-sftp
	AuthorizedKeysFile {keys}/%u
	AllowTcpForwarding no
	X11Forwarding no
	AllowAgentForwarding no
	PermitTunnel no
	PermitTTY no
)",
                       fmt::arg("path", sshd_snippet_path), fmt::arg("group", sftp_group),
                       fmt::arg("keys", keys_dir), fmt::arg("no_sftp", no_sftp_group));
}

}  // namespace photodrop::ctl
