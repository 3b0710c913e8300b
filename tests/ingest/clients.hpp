#pragma once
// The small clients the tests talk to photodrop-ingest with. The binary runs
// as a test::Process (tests/support/process.hpp), stopped by its PID only.

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

namespace photodrop::test {

// The photodrop-ingest built alongside the tests.
std::string ingest_binary();

struct HttpAnswer {
    int status = 0;  // 0: no answer
    std::string body;
};
HttpAnswer http_get(unsigned short port, const std::string& target);

// Sends a datagram as photodrop-fs does; false if nobody listens.
bool send_wake(const std::filesystem::path& socket, const std::string& message);

// Polls `done` every 25 ms until it holds or `timeout` passes.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);

}  // namespace photodrop::test
