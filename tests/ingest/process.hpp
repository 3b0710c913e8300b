#pragma once
// The real photodrop-ingest binary as a child process, and the small
// clients the tests talk to it with. A child is stopped by its PID only.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace photodrop::test {

class ChildProcess {
public:
    // Starts `program` with `args`; its stderr goes to `log`.
    ChildProcess(const std::string& program, const std::vector<std::string>& args, std::filesystem::path log);
    // Kills (SIGKILL) and reaps the child if it still runs.
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const { return pid_; }
    void signal(int signal_number);
    // Waits for the child to exit; its wait status, or nullopt after the timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout);
    bool running();
    std::string log() const;

private:
    pid_t pid_ = -1;
    bool reaped_ = false;
    std::filesystem::path log_;
};

// The photodrop-ingest built alongside the tests.
std::string ingest_binary();

// A TCP port on 127.0.0.1 that was free a moment ago.
unsigned short free_port();

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
