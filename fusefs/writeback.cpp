#include "fusefs/writeback.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace photodrop::fs {

namespace {
// mountinfo writes a space, tab, newline and backslash in a path as \040, \011, \012, \134.
std::string unescape(const std::string& field) {
    std::string out;
    for (size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 3 < field.size() &&
            field.find_first_not_of("01234567", i + 1) >= i + 4) {
            out += static_cast<char>(std::stoi(field.substr(i + 1, 3), nullptr, 8));
            i += 3;
        } else {
            out += field[i];
        }
    }
    return out;
}
}  // namespace

std::string mounted_device(const std::string& mountpoint, const std::string& mountinfo_path) {
    std::ifstream in(mountinfo_path);
    std::string line, device;
    while (std::getline(in, line)) {
        // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ...
        std::istringstream fields(line);
        std::string id, parent, dev, root, point;
        if (fields >> id >> parent >> dev >> root >> point && unescape(point) == mountpoint) device = dev;
    }
    return device;
}

std::string limit_writeback(const std::string& mountpoint, uint64_t bytes) {
    auto device = mounted_device(mountpoint);
    if (device.empty()) return fmt::format("write-back limit not set: {} is not in the mount table", mountpoint);
    auto knob = fmt::format("/sys/class/bdi/{}/max_bytes", device);
    std::ofstream out(knob);
    if (out << bytes << '\n' << std::flush)
        return fmt::format("the kernel writes uploads back after {} MiB ({})", bytes >> 20, knob);
    return fmt::format("write-back limit not set ({}: {}); closes of large uploads wait longer", knob,
                       std::strerror(errno));
}

}  // namespace photodrop::fs
