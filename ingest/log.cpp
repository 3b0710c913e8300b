#include "ingest/log.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace photodrop::ingest {

void log_outcome(const Outcome& o) {
    std::string line = fmt::format("upload {} tenant={} job={} file=\"{}\" result={}", o.upload_id, o.tenant, o.job,
                                   o.file, to_string(o.result));
    if (o.photo_id) line += fmt::format(" photo={}", *o.photo_id);
    line += fmt::format(" ms={}", o.elapsed.count());
    if (!o.reason.empty()) line += fmt::format(" reason=\"{}\"", o.reason);
    line += '\n';
    std::fputs(line.c_str(), stderr);
}

void log_event(std::string_view message) { fmt::print(stderr, "photodrop-ingest: {}\n", message); }

}  // namespace photodrop::ingest
