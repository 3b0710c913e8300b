#pragma once
// Bytes [offset, offset + length) of an open file, as a reply sends them
// (api/server.cpp: with sendfile(2), never the file in memory).

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <memory>

namespace photodrop::api {

struct FileSlice {
    std::shared_ptr<int> fd;  // closed with the last copy
    uint64_t offset = 0;
    uint64_t length = 0;

    // Opens `path` for reading; false (errno set) if it cannot.
    bool open(const char* path) {
        int raw = ::open(path, O_RDONLY | O_CLOEXEC);
        if (raw < 0) return false;
        fd = std::shared_ptr<int>(new int(raw), [](int* p) {
            ::close(*p);
            delete p;
        });
        return true;
    }
};

}  // namespace photodrop::api
