#pragma once
// The sshd_config block that chroots SFTP users into their tenant's mount.
// This is the one source of its text: packaging/sshd/photodrop.conf is this
// with the default keys directory, and a test holds the two equal.

#include <string>

namespace photodrop::ctl {

// Where the snippet is installed.
inline constexpr const char* sshd_snippet_path = "/etc/ssh/sshd_config.d/photodrop.conf";

// The block, with keys read from `keys_dir`/<user> (sshd reads them before the chroot).
std::string sshd_snippet(const std::string& keys_dir);

}  // namespace photodrop::ctl
