#include "ingest/vips_words.hpp"

#include <string_view>

namespace photodrop::ingest {

namespace detail {
std::mutex& vips_words_lock() {
    static std::mutex lock;
    return lock;
}

std::string own_words(const std::string& text) {
    std::string out;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string_view line(text.data() + start, end - start);
        if (!line.empty() && line.find('"') == std::string_view::npos && out.find(line) == std::string::npos) {
            if (!out.empty()) out += "; ";
            out += line;
        }
        start = end + 1;
    }
    if (out.size() > 300) out = out.substr(0, 297) + "...";
    return out;
}
}  // namespace detail

void forget_vips_error() {
    std::lock_guard lock(detail::vips_words_lock());
    vips_error_clear();
}

}  // namespace photodrop::ingest
