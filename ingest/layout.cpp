#include "ingest/layout.hpp"

#include "ingest/unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace photodrop::ingest {

namespace {

// A file read through a window of 1 MiB, with pread: never mapped, since an
// upload taken back by its writer may be truncated while it is read here (a
// mapping would then kill the process with SIGBUS). Bytes past what can be
// read are past the end.
class FileBytes {
public:
    explicit FileBytes(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
        struct stat st {};
        if (fd_ && ::fstat(fd_.get(), &st) == 0 && st.st_size > 0) size_ = static_cast<size_t>(st.st_size);
    }
    size_t size() const { return size_; }
    // The byte at `pos`, or -1 past the end.
    int operator[](size_t pos) {
        if (!load(pos)) return -1;
        return window_[pos - start_];
    }
    // Where the next `value` at or after `from` is; size() if none.
    size_t find(unsigned char value, size_t from) {
        while (from < size_ && load(from)) {
            size_t offset = from - start_;
            auto* hit = static_cast<const unsigned char*>(
                std::memchr(window_.data() + offset, value, window_.size() - offset));
            if (hit) return start_ + static_cast<size_t>(hit - window_.data());
            from = start_ + window_.size();
        }
        return size_;
    }

private:
    static constexpr size_t window_size = size_t{1} << 20;
    bool load(size_t pos) {
        if (pos >= start_ && pos < start_ + window_.size()) return true;
        if (pos >= size_) return false;
        start_ = pos / window_size * window_size;
        window_.resize(window_size);
        ssize_t n = ::pread(fd_.get(), window_.data(), window_size, static_cast<off_t>(start_));
        window_.resize(n > 0 ? static_cast<size_t>(n) : 0);
        if (pos >= start_ + window_.size()) {  // the file is shorter than it was
            size_ = start_ + window_.size();
            return false;
        }
        return true;
    }

    UniqueFd fd_;
    size_t size_ = 0;
    size_t start_ = 0;
    std::vector<unsigned char> window_;
};

// The entropy-coded data of a scan starts at `at`: it runs to the first 0xFF
// that is neither a stuffed 0xFF00 nor a restart marker. Returns where it ends.
size_t scan_end(FileBytes& b, size_t at) {
    for (;;) {
        size_t p = b.find(0xFF, at);
        if (p + 1 >= b.size()) return b.size();
        int next = b[p + 1];
        if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
            at = p + 2;
            continue;
        }
        return p;
    }
}

void read_jpeg(FileBytes& b, ImageLayout& layout) {
    if (b[0] != 0xFF || b[1] != 0xD8) return;
    size_t at = 2;
    while (at + 1 < b.size()) {
        if (b[at] != 0xFF) return;  // between segments, only markers
        int marker = b[at + 1];
        if (marker == 0xFF) {  // a fill byte
            ++at;
            continue;
        }
        at += 2;
        if (marker == 0xD9) {  // EOI
            layout.bytes_after = static_cast<int64_t>(b.size() - std::min(at, b.size()));
            return;
        }
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // TEM, RSTn: no length
        int high = b[at], low = b[at + 1];
        if (high < 0 || low < 0) return;
        size_t length = (static_cast<size_t>(high) << 8) | static_cast<size_t>(low);
        if (length < 2 || at + length > b.size()) return;
        at += length;
        if (marker == 0xDA) {  // SOS: its entropy-coded data follows
            size_t end = scan_end(b, at);
            size_t zeros = end;
            while (zeros > at && b[zeros - 1] == 0) --zeros;
            layout.scan_bytes += static_cast<int64_t>(end - at);
            layout.trailing_zeros += static_cast<int64_t>(end - zeros);
            at = end;
        }
    }
}

void read_png(FileBytes& b, ImageLayout& layout) {
    size_t at = 8;  // the signature
    while (at + 12 <= b.size()) {
        size_t length = 0;
        for (size_t i = 0; i < 4; ++i) {
            int byte = b[at + i];
            if (byte < 0) return;
            length = (length << 8) | static_cast<size_t>(byte);
        }
        bool end = b[at + 4] == 'I' && b[at + 5] == 'E' && b[at + 6] == 'N' && b[at + 7] == 'D';
        if (length > b.size() - at - 12) return;
        at += 12 + length;  // length, type, data, CRC
        if (end) {
            layout.bytes_after = static_cast<int64_t>(b.size() - at);
            return;
        }
    }
}

}  // namespace

ImageLayout layout_of(const std::string& path, ImageFormat format) {
    ImageLayout layout;
    if (format != ImageFormat::Jpeg && format != ImageFormat::Png) return layout;
    FileBytes file(path);
    if (format == ImageFormat::Jpeg) read_jpeg(file, layout);
    else read_png(file, layout);
    return layout;
}

}  // namespace photodrop::ingest
