#pragma once
// What the kernel says is mounted (/proc/self/mountinfo), for `doctor`.

#include <optional>
#include <string>
#include <vector>

namespace photodrop::ctl {

struct MountEntry {
    std::string mount_point;
    std::string fstype;         // "fuse.photodrop-fs", "ext4", ...
    std::string source;
    std::string options;        // per-mount options: "rw,nosuid,nodev,relatime"
    std::string super_options;  // file system options: "rw,user_id=0,group_id=0,allow_other"
};

// Parses the text of a mountinfo file.
std::vector<MountEntry> parse_mountinfo(const std::string& text);

// The topmost mount at exactly `path` in /proc/self/mountinfo, if any.
std::optional<MountEntry> mount_at(const std::string& path);

// Whether a comma-separated option list holds `option` ("allow_other").
bool has_option(const std::string& options, const std::string& option);

}  // namespace photodrop::ctl
