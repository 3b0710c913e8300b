#pragma once
// The system accounts behind SFTP users, managed with the shadow tools
// (groupadd, useradd, usermod, chpasswd, userdel) so that every change goes
// through the same locking and logging as an administrator's own.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace photodrop::ctl::accounts {

struct Account {
    std::string name;
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::string home;
    std::string shell;
};

std::optional<Account> find(const std::string& name);
std::optional<Account> find(uint32_t uid);
// Whether the account belongs to `group`, as its primary or a supplementary group.
bool in_group(const Account& account, const std::string& group);

bool group_exists(const std::string& group);
// Creates the group (a system group) unless it exists.
void ensure_group(const std::string& group);

struct NewAccount {
    std::string name;
    std::string home;   // recorded, never created: it is the tenant's FUSE mount
    std::string group;  // primary group
    std::vector<std::string> groups;  // supplementary groups
    std::optional<uint32_t> uid;
    std::string comment;
};
// Creates the account with shell /usr/sbin/nologin; returns its uid.
uint32_t create(const NewAccount& account);

// Puts the account in `join` and takes it out of `leave` (supplementary groups);
// its other groups stay as they are.
void set_groups(const std::string& name, const std::vector<std::string>& join, const std::vector<std::string>& leave);

void set_password(const std::string& name, const std::string& password);
// Locks the password and expires the account: sshd refuses it whatever the
// method (with PAM, a locked password alone does not stop key logins).
void disable(const std::string& name);
void enable(const std::string& name);
// Deletes the account; its home (the mount) is never touched.
void remove(const std::string& name);

// The password state as `passwd -S` reports it: "P" usable, "L" locked, "NP" none.
std::string password_status(const std::string& name);
// Whether the account has expired (shadow expiry date in the past).
bool expired(const std::string& name);

// The accounts sshd may log in with: a portable name as useradd accepts.
bool valid_name(const std::string& name);

}  // namespace photodrop::ctl::accounts
