#include "api/files.hpp"

#include "api/request.hpp"

#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <charconv>

namespace photodrop::api {

namespace http = boost::beast::http;

namespace {
// One range of "bytes=a-b", "bytes=a-" or "bytes=-n": {offset, length};
// {0, 0} for a form answered with the whole file (several ranges, another
// unit); nullopt when the range lies past the end.
std::optional<std::pair<uint64_t, uint64_t>> parse_range(std::string_view value, uint64_t size) {
    using Slice = std::pair<uint64_t, uint64_t>;
    if (!value.starts_with("bytes=") || value.find(',') != std::string_view::npos) return Slice{0, 0};
    value.remove_prefix(6);
    auto dash = value.find('-');
    if (dash == std::string_view::npos) return Slice{0, 0};
    auto number = [](std::string_view s) -> std::optional<uint64_t> {
        uint64_t n = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
        return n;
    };
    auto first = number(value.substr(0, dash));
    auto last = number(value.substr(dash + 1));
    if (!first) {  // a suffix: the last n bytes
        if (!last || *last == 0 || size == 0) return std::nullopt;
        uint64_t n = std::min(*last, size);
        return Slice{size - n, n};
    }
    if (*first >= size) return std::nullopt;
    if (last && *last < *first) return Slice{0, 0};
    uint64_t end = last ? std::min(*last, size - 1) : size - 1;
    return Slice{*first, end - *first + 1};
}
}  // namespace

void send_file(const Request& request, Reply& reply, const std::filesystem::path& path, const std::string& etag,
               const std::string& content_type) {
    FileSlice file;
    struct stat st {};
    if (!file.open(path.c_str()) || ::fstat(*file.fd, &st) != 0)
        throw ApiError{404, "file_missing", "the file is not there (purged, or the data directory is not mounted)"};
    uint64_t size = static_cast<uint64_t>(st.st_size);
    reply.headers.emplace_back("ETag", etag);
    reply.headers.emplace_back("Cache-Control", "private, max-age=31536000, immutable");
    reply.headers.emplace_back("Accept-Ranges", "bytes");
    reply.content_type = content_type;
    auto if_none_match = request[http::field::if_none_match];
    std::string_view wanted(if_none_match.data(), if_none_match.size());
    if (!wanted.empty() && (wanted.find(etag) != std::string_view::npos || wanted == "*")) {
        reply.status = 304;
        return;
    }
    file.offset = 0;
    file.length = size;
    auto range = request[http::field::range];
    auto if_range = request[http::field::if_range];
    if (!range.empty() && (if_range.empty() || std::string_view(if_range.data(), if_range.size()) == etag)) {
        auto slice = parse_range(std::string_view(range.data(), range.size()), size);
        if (!slice) {
            reply.status = 416;
            reply.headers.emplace_back("Content-Range", fmt::format("bytes */{}", size));
            reply.content_type = "application/json";
            reply.body = nlohmann::json{{"error", {{"status", 416}, {"code", "range_not_satisfiable"},
                                                   {"message", fmt::format("the file has {} bytes", size)}}}}
                             .dump();
            return;
        }
        if (slice->second > 0) {
            reply.status = 206;
            file.offset = slice->first;
            file.length = slice->second;
            reply.headers.emplace_back("Content-Range",
                                       fmt::format("bytes {}-{}/{}", file.offset, file.offset + file.length - 1, size));
        }
    }
    reply.file = std::move(file);
}

std::string content_type_of(const std::string& path) {
    auto dot = path.rfind('.');
    std::string extension = dot == std::string::npos ? "" : path.substr(dot + 1);
    if (extension == "jpg") return "image/jpeg";
    if (extension == "png") return "image/png";
    if (extension == "tif") return "image/tiff";
    if (extension == "heic") return "image/heic";
    if (extension == "webp") return "image/webp";
    return "application/octet-stream";
}

std::string content_disposition(const std::string& filename) {
    return fmt::format("inline; filename*=UTF-8''{}", percent_encoded(filename));
}

}  // namespace photodrop::api
