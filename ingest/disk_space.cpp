#include "ingest/disk_space.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace photodrop::ingest {

namespace fs = std::filesystem;

std::optional<DiskSpace> disk_space(const fs::path& path) {
    fs::path at = path;
    std::error_code ec;
    while (!fs::exists(at, ec) && at.has_parent_path() && at != at.parent_path()) at = at.parent_path();
    struct statvfs vfs {};
    if (::statvfs(at.c_str(), &vfs) != 0) return std::nullopt;
    auto block = static_cast<int64_t>(vfs.f_frsize);
    return DiskSpace{static_cast<int64_t>(vfs.f_bavail) * block, static_cast<int64_t>(vfs.f_blocks) * block};
}

int64_t ingest_space_floor(const Config& config) {
    return std::clamp<int64_t>(config.free_space_reserve, 0, max_ingest_space_floor);
}

bool says_out_of_space(std::string_view text) {
    for (int error : {ENOSPC, EDQUOT})
        if (text.find(std::strerror(error)) != std::string_view::npos) return true;
    return false;
}

bool is_out_of_space(const std::exception& e) {
    if (const auto* system = dynamic_cast<const std::system_error*>(&e)) {
        const auto& code = system->code();
        bool errno_category = code.category() == std::generic_category() || code.category() == std::system_category();
        if (errno_category && (code.value() == ENOSPC || code.value() == EDQUOT)) return true;
    }
    return says_out_of_space(e.what());
}

}  // namespace photodrop::ingest
