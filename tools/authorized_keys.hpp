#pragma once
// SFTP users' public keys, kept outside the chroot where sshd reads them as
// root (AuthorizedKeysFile KEYS_DIR/%u): one file per user, root-owned, 0644,
// in a root-owned 0755 directory, as sshd's StrictModes wants.

#include <string>

namespace photodrop::ctl::authorized_keys {

// Reads a public key file and checks that each line holds an OpenSSH public
// key; throws std::runtime_error naming the file and the line otherwise.
std::string read_public_keys(const std::string& path);

// Writes KEYS_DIR/<user> atomically (replacing any earlier keys).
void install(const std::string& keys_dir, const std::string& user, const std::string& keys);
// Removes KEYS_DIR/<user>; returns whether there was one.
bool remove(const std::string& keys_dir, const std::string& user);
std::string path_of(const std::string& keys_dir, const std::string& user);

}  // namespace photodrop::ctl::authorized_keys
