#include "ingest/reason.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace photodrop::ingest {

namespace {
void replace_all(std::string& text, std::string_view from, std::string_view to) {
    if (from.empty()) return;
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
}

std::string_view trimmed(std::string_view text) {
    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (!text.empty() && blank(text.front())) text.remove_prefix(1);
    while (!text.empty() && blank(text.back())) text.remove_suffix(1);
    return text;
}
}  // namespace

std::string stated(std::string_view text, const FileNaming& naming, std::string_view attempted) {
    std::string out(trimmed(text));
    std::vector<std::string> paths;
    std::string data_dir = naming.data_dir;
    while (data_dir.size() > 1 && data_dir.back() == '/') data_dir.pop_back();
    for (const auto& path : naming.paths) {
        if (path.empty()) continue;
        paths.push_back(path);
        // A relative path is also met as data_dir/path, and as "./" + path.
        if (path.front() != '/' && !data_dir.empty()) paths.push_back(data_dir + "/" + path);
    }
    // The longest first, so that "/data/x/staging/1" goes whole, not after "staging/1" went.
    std::sort(paths.begin(), paths.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const auto& path : paths) replace_all(out, path, naming.name);
    if (!data_dir.empty() && data_dir != "/") replace_all(out, data_dir + "/", "");

    // "what failed: " with nothing after the colon says nothing.
    std::string_view rest = trimmed(out);
    while (!rest.empty() && rest.back() == ':') rest = trimmed(rest.substr(0, rest.size() - 1));
    if (rest.empty()) return fmt::format("{} failed and no detail was given", attempted);
    if (rest.size() != out.size()) return fmt::format("{} (no detail was given)", rest);
    return out;
}

}  // namespace photodrop::ingest
