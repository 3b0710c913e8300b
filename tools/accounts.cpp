#include "tools/accounts.hpp"

#include "tools/spawn.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <grp.h>
#include <pwd.h>
#include <shadow.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <stdexcept>

namespace photodrop::ctl::accounts {

namespace {

constexpr const char* nologin = "/usr/sbin/nologin";

Account from_passwd(const passwd& pw) { return {pw.pw_name, pw.pw_uid, pw.pw_gid, pw.pw_dir, pw.pw_shell}; }

template <class Key, class Lookup>
std::optional<Account> lookup(Key key, Lookup getpw_r) {
    std::vector<char> buffer(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (getpw_r(key, &pw, buffer.data(), buffer.size(), &found) != 0 || !found) return std::nullopt;
    return from_passwd(pw);
}

std::optional<group> find_group(const std::string& name, std::vector<char>& buffer) {
    group gr{};
    group* found = nullptr;
    if (getgrnam_r(name.c_str(), &gr, buffer.data(), buffer.size(), &found) != 0 || !found) return std::nullopt;
    return gr;
}

}  // namespace

std::optional<Account> find(const std::string& name) { return lookup(name.c_str(), getpwnam_r); }
std::optional<Account> find(uint32_t uid) { return lookup(static_cast<uid_t>(uid), getpwuid_r); }

bool in_group(const Account& account, const std::string& group_name) {
    std::vector<char> buffer(65536);
    auto gr = find_group(group_name, buffer);
    if (!gr) return false;
    if (gr->gr_gid == account.gid) return true;
    for (char** member = gr->gr_mem; member && *member; ++member)
        if (account.name == *member) return true;
    return false;
}

bool group_exists(const std::string& group_name) {
    std::vector<char> buffer(65536);
    return find_group(group_name, buffer).has_value();
}

void ensure_group(const std::string& group_name) {
    std::vector<char> buffer(65536);
    if (find_group(group_name, buffer)) return;
    auto result = run_program({"groupadd", "--system", group_name});
    // 9: it exists (another run created it meanwhile).
    if (result.exit_status != 0 && result.exit_status != 9) throw program_failed("groupadd", result);
}

uint32_t create(const NewAccount& a) {
    std::vector<std::string> argv{"useradd",     "--no-create-home", "--home-dir", a.home,    "--shell",
                                  nologin,       "--gid",            a.group,      "--no-user-group"};
    if (a.uid) {
        argv.push_back("--uid");
        argv.push_back(std::to_string(*a.uid));
    }
    if (!a.groups.empty()) {
        argv.push_back("--groups");
        argv.push_back(fmt::format("{}", fmt::join(a.groups, ",")));
    }
    if (!a.comment.empty()) {
        argv.push_back("--comment");
        argv.push_back(a.comment);
    }
    argv.push_back(a.name);
    run_checked(argv);
    auto made = find(a.name);
    if (!made) throw std::runtime_error(fmt::format("useradd did not create {}", a.name));
    return made->uid;
}

void set_groups(const std::string& name, const std::vector<std::string>& join, const std::vector<std::string>& leave) {
    auto account = find(name);
    if (!account) throw std::runtime_error(fmt::format("no system account named {}", name));
    for (const auto& group : join)
        if (!in_group(*account, group)) run_checked({"gpasswd", "--add", name, group});
    for (const auto& group : leave)
        if (in_group(*account, group)) run_checked({"gpasswd", "--delete", name, group});
}

void set_password(const std::string& name, const std::string& password) {
    run_checked({"chpasswd"}, fmt::format("{}:{}\n", name, password));
}

void disable(const std::string& name) { run_checked({"usermod", "--lock", "--expiredate", "1", name}); }

void enable(const std::string& name) {
    // An account without a password stays without one: usermod says so and changes only the expiry.
    run_checked({"usermod", "--unlock", "--expiredate", "", name});
}

void remove(const std::string& name) { run_checked({"userdel", name}); }

std::string password_status(const std::string& name) {
    auto result = run_program({"passwd", "--status", name});
    if (result.exit_status != 0) return "?";
    // "NAME L 2024-01-01 0 99999 7 -1"
    auto first = result.output.find(' ');
    if (first == std::string::npos) return "?";
    auto second = result.output.find(' ', first + 1);
    return result.output.substr(first + 1, second - first - 1);
}

bool expired(const std::string& name) {
    std::vector<char> buffer(16384);
    spwd sp{};
    spwd* found = nullptr;
    if (getspnam_r(name.c_str(), &sp, buffer.data(), buffer.size(), &found) != 0 || !found) return false;
    if (sp.sp_expire < 0) return false;
    return sp.sp_expire <= static_cast<long>(std::time(nullptr) / 86400);
}

bool valid_name(const std::string& name) {
    if (name.empty() || name.size() > 32) return false;
    auto lower = [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; };
    if (!lower(name[0])) return false;
    return std::all_of(name.begin(), name.end(),
                       [&](char c) { return lower(c) || (c >= '0' && c <= '9') || c == '-'; });
}

}  // namespace photodrop::ctl::accounts
