#include "tools/mounts.hpp"

#include <fstream>
#include <sstream>

namespace photodrop::ctl {

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(const std::string& field) {
    auto octal = [&](size_t k) { return k < field.size() && field[k] >= '0' && field[k] <= '7'; };
    std::string out;
    for (size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
            out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0'));
            i += 3;
        } else {
            out += field[i];
        }
    }
    return out;
}

}  // namespace

std::vector<MountEntry> parse_mountinfo(const std::string& text) {
    std::vector<MountEntry> entries;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        // id parent major:minor root mount-point options [optional...] - fstype source super-options
        std::istringstream in(line);
        std::vector<std::string> fields;
        for (std::string f; in >> f;) fields.push_back(f);
        size_t dash = 6;
        while (dash < fields.size() && fields[dash] != "-") ++dash;
        if (dash + 2 >= fields.size()) continue;  // not a mountinfo line
        MountEntry e;
        e.mount_point = unescape(fields[4]);
        e.options = fields[5];
        e.fstype = fields[dash + 1];
        e.source = unescape(fields[dash + 2]);
        if (dash + 3 < fields.size()) e.super_options = fields[dash + 3];
        entries.push_back(std::move(e));
    }
    return entries;
}

std::optional<MountEntry> mount_at(const std::string& path) {
    std::ifstream file("/proc/self/mountinfo");
    std::stringstream text;
    text << file.rdbuf();
    std::optional<MountEntry> found;
    for (auto& e : parse_mountinfo(text.str()))
        if (e.mount_point == path) found = std::move(e);
    return found;
}

bool has_option(const std::string& options, const std::string& option) {
    std::istringstream in(options);
    for (std::string o; std::getline(in, o, ',');)
        if (o == option) return true;
    return false;
}

}  // namespace photodrop::ctl
