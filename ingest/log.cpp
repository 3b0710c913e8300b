#include "ingest/log.hpp"

#include "catalog/text.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace photodrop::ingest {

namespace {
// A field of a log line: what a client sent, escaped (text::shown), in double quotes.
std::string log_field(std::string_view s) {
    std::string out = "\"";
    for (char c : text::shown(s)) {
        if (c == '"') out += '\\';
        out += c;
    }
    return out + '"';
}
}  // namespace

void log_outcome(const Outcome& o) {
    std::string line = fmt::format("upload {} tenant={} job={} file={} result={}", o.upload_id, text::shown(o.tenant),
                                   text::shown(o.job), log_field(o.file), to_string(o.result));
    if (o.photo_id) line += fmt::format(" photo={}", *o.photo_id);
    line += fmt::format(" ms={}", o.elapsed.count());
    if (!o.reason.empty()) line += fmt::format(" reason={}", log_field(o.reason));
    if (!o.note.empty()) line += fmt::format(" note={}", log_field(o.note));
    line += '\n';
    std::fputs(line.c_str(), stderr);
}

void log_event(std::string_view message) { fmt::print(stderr, "photodrop-ingest: {}\n", text::shown(message)); }

}  // namespace photodrop::ingest
