#include "ingest/layout.hpp"

#include "ingest/unique_fd.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cstring>
#include <span>

namespace photodrop::ingest {

namespace {

using Bytes = std::span<const unsigned char>;

// A file mapped for reading, unmapped when it goes.
class Mapped {
public:
    explicit Mapped(const std::string& path) {
        UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        struct stat st {};
        if (!fd || ::fstat(fd.get(), &st) != 0 || st.st_size <= 0) return;
        void* at = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd.get(), 0);
        if (at == MAP_FAILED) return;
        ::madvise(at, static_cast<size_t>(st.st_size), MADV_SEQUENTIAL);
        bytes_ = Bytes(static_cast<const unsigned char*>(at), static_cast<size_t>(st.st_size));
    }
    ~Mapped() {
        if (!bytes_.empty()) ::munmap(const_cast<unsigned char*>(bytes_.data()), bytes_.size());
    }
    Mapped(const Mapped&) = delete;
    Mapped& operator=(const Mapped&) = delete;
    Bytes bytes() const { return bytes_; }

private:
    Bytes bytes_;
};

// The entropy-coded data of a scan starts at `at`: it runs to the first 0xFF
// that is neither a stuffed 0xFF00 nor a restart marker. Returns where it ends.
size_t scan_end(Bytes b, size_t at) {
    for (;;) {
        auto* ff = static_cast<const unsigned char*>(std::memchr(b.data() + at, 0xFF, b.size() - at));
        if (!ff) return b.size();
        size_t p = static_cast<size_t>(ff - b.data());
        if (p + 1 >= b.size()) return b.size();
        unsigned char next = b[p + 1];
        if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
            at = p + 2;
            continue;
        }
        return p;
    }
}

void read_jpeg(Bytes b, ImageLayout& layout) {
    if (b.size() < 2 || b[0] != 0xFF || b[1] != 0xD8) return;
    size_t at = 2;
    while (at + 1 < b.size()) {
        if (b[at] != 0xFF) return;  // between segments, only markers
        unsigned char marker = b[at + 1];
        if (marker == 0xFF) {  // a fill byte
            ++at;
            continue;
        }
        at += 2;
        if (marker == 0xD9) {  // EOI
            layout.bytes_after = static_cast<int64_t>(b.size() - at);
            return;
        }
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // TEM, RSTn: no length
        if (at + 2 > b.size()) return;
        size_t length = (size_t{b[at]} << 8) | b[at + 1];
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

void read_png(Bytes b, ImageLayout& layout) {
    size_t at = 8;  // the signature
    while (at + 12 <= b.size()) {
        size_t length = (size_t{b[at]} << 24) | (size_t{b[at + 1]} << 16) | (size_t{b[at + 2]} << 8) | b[at + 3];
        bool end = std::memcmp(b.data() + at + 4, "IEND", 4) == 0;
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
    Mapped file(path);
    if (format == ImageFormat::Jpeg) read_jpeg(file.bytes(), layout);
    else read_png(file.bytes(), layout);
    return layout;
}

}  // namespace photodrop::ingest
