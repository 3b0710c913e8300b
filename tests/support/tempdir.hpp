#pragma once
// A temporary directory that removes itself.

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace photodrop::test {

class TempDir {
public:
    // A new directory inside `base` (default: the system's temporary directory).
    explicit TempDir(const std::filesystem::path& base = std::filesystem::temp_directory_path()) {
        std::filesystem::create_directories(base);
        std::string pattern = (base / "photodrop-test-XXXXXX").string();
        if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed in " + base.string());
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
        if (ec) {  // a file left immutable by a failed test (photodrop-fs stops an upload past its size so)
            allow_removal();
            std::filesystem::remove_all(path_, ec);
        }
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    void allow_removal() const {
        std::error_code ec;
        for (const auto& e : std::filesystem::recursive_directory_iterator(path_, ec)) {
            int fd = ::open(e.path().c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
            int flags = 0;
            if (fd >= 0 && ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && (flags & FS_IMMUTABLE_FL)) {
                flags &= ~FS_IMMUTABLE_FL;
                ::ioctl(fd, FS_IOC_SETFLAGS, &flags);
            }
            if (fd >= 0) ::close(fd);
        }
    }

    std::filesystem::path path_;
};

}  // namespace photodrop::test
