#include "tools/authorized_keys.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace photodrop::ctl::authorized_keys {

namespace fs = std::filesystem;

namespace {

bool is_key_type(const std::string& word) {
    return word.starts_with("ssh-") || word.starts_with("ecdsa-sha2-") || word.starts_with("sk-ssh-") ||
           word.starts_with("sk-ecdsa-");
}

std::system_error errno_error(const std::string& what) { return {errno, std::generic_category(), what}; }

}  // namespace

std::string read_public_keys(const std::string& path) {
    std::ifstream file(path);
    if (!file) throw std::runtime_error(fmt::format("cannot read key file {}", path));
    std::string keys;
    int line_no = 0, found = 0;
    for (std::string line; std::getline(file, line);) {
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos || line.front() == '#') continue;
        if (line.find("PRIVATE KEY") != std::string::npos)
            throw std::runtime_error(fmt::format("{} is a private key: give the .pub file", path));
        // [options] keytype base64 [comment]: the key type is the first or second word.
        std::istringstream words(line);
        std::string first, second, third;
        words >> first >> second >> third;
        bool ok = (is_key_type(first) && !second.empty()) || (is_key_type(second) && !third.empty());
        if (!ok) throw std::runtime_error(fmt::format("{}:{}: not an OpenSSH public key", path, line_no));
        keys += line + "\n";
        ++found;
    }
    if (found == 0) throw std::runtime_error(fmt::format("{} holds no public key", path));
    return keys;
}

std::string path_of(const std::string& keys_dir, const std::string& user) { return keys_dir + "/" + user; }

void install(const std::string& keys_dir, const std::string& user, const std::string& keys) {
    if (!fs::is_directory(keys_dir)) {
        fs::create_directories(keys_dir);
        fs::permissions(keys_dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                      fs::perms::others_read | fs::perms::others_exec);
    }
    std::string target = path_of(keys_dir, user);
    std::string temporary = fmt::format("{}/.{}.new", keys_dir, user);
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) throw errno_error(fmt::format("cannot write {}", temporary));
    bool ok = ::fchmod(fd, 0644) == 0 && (::geteuid() != 0 || ::fchown(fd, 0, 0) == 0) &&
              ::write(fd, keys.data(), keys.size()) == static_cast<ssize_t>(keys.size()) && ::fsync(fd) == 0;
    int saved = errno;
    ::close(fd);
    if (!ok || ::rename(temporary.c_str(), target.c_str()) != 0) {
        if (ok) saved = errno;
        ::unlink(temporary.c_str());
        errno = saved;
        throw errno_error(fmt::format("cannot install {}", target));
    }
}

bool remove(const std::string& keys_dir, const std::string& user) {
    std::error_code ec;
    return fs::remove(path_of(keys_dir, user), ec);
}

}  // namespace photodrop::ctl::authorized_keys
