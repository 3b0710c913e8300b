// The service's log lines: what a client sent cannot forge a line or reach a terminal.
#include "ingest/log.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <string>

using namespace photodrop;
using namespace photodrop::ingest;

namespace {
// What `write` prints to stderr.
template <class F>
std::string stderr_of(F&& write) {
    std::fflush(stderr);
    std::FILE* capture = std::tmpfile();
    REQUIRE(capture);
    int saved = ::dup(STDERR_FILENO);
    ::dup2(::fileno(capture), STDERR_FILENO);
    write();
    std::fflush(stderr);
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
    std::string out;
    std::rewind(capture);
    for (int c; (c = std::fgetc(capture)) != EOF;) out += static_cast<char>(c);
    std::fclose(capture);
    return out;
}
}  // namespace

TEST_CASE("a log line shows names escaped: one line per outcome, no raw control character") {
    Outcome o;
    o.upload_id = 7;
    o.tenant = "demo";
    o.job = "job00001";
    o.file = "A/a.jpg\nupload 8 tenant=demo job=job00001 file=\"x.jpg\" result=ingested\x1b[2J\".jpg";
    o.result = Result::Rejected;
    o.reason = "not a readable image: \"A/a.jpg\n\xff\"";
    auto line = stderr_of([&] { log_outcome(o); });
    CHECK(line ==
          "upload 7 tenant=demo job=job00001 file=\"A/a.jpg\\nupload 8 tenant=demo job=job00001 file=\\\"x.jpg\\\" "
          "result=ingested\\x1B[2J\\\".jpg\" result=rejected ms=0 reason=\"not a readable image: \\\"A/a.jpg\\n\\xFF\\\"\"\n");
    CHECK(stderr_of([] { log_event("stopped\nphotodrop-ingest: started"); }) ==
          "photodrop-ingest: stopped\\nphotodrop-ingest: started\n");
}
