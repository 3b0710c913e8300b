#pragma once
// A child process started with an argument vector, stopped by its own PID.
// Children never see the host's photodrop settings: PHOTODROP_* variables are
// dropped and PHOTODROP_CONFIG is /dev/null.

#include <sys/types.h>

#include <string>
#include <vector>

namespace photodrop::test {

class Process {
public:
    Process() = default;
    // Starts argv[0] (searched in PATH) with its stdout and stderr appended to `log` (if given),
    // and `settings` ("PHOTODROP_KEY=value") in its environment.
    Process(const std::vector<std::string>& argv, const std::string& log = {},
            const std::vector<std::string>& settings = {});
    Process(Process&& other) noexcept;
    Process& operator=(Process&& other) noexcept;
    ~Process();  // SIGKILL and reap, if still running

    pid_t pid() const { return pid_; }
    // Whether it has not exited (an exited child is reaped).
    bool running();
    void signal(int sig) const;
    // Waits for exit; returns the exit status, or 128+signal.
    int wait();
    // Waits at most `seconds`; -1 if it is still running.
    int wait_for(double seconds);
    // What it printed, from its log file.
    std::string log() const;

private:
    pid_t pid_ = -1;
    std::string log_;
};

// Runs a command to completion; returns its exit status. Output goes to `log` if given.
int run(const std::vector<std::string>& argv, const std::string& log = {});
// Runs a command and returns what it printed (stdout and stderr).
std::string output_of(const std::vector<std::string>& argv, int* status = nullptr);

}  // namespace photodrop::test

namespace photodrop::test {
// Runs a command with `input` on its stdin; returns its exit status, and what it printed (stdout and stderr) in `output`.
int run_with_input(const std::vector<std::string>& argv, const std::string& input, std::string* output = nullptr);
// A TCP port on 127.0.0.1 that nothing listens on now.
int free_port();
// Whether something on 127.0.0.1:PORT accepts a connection now.
bool accepts(int port);
// Waits until `server` accepts connections on 127.0.0.1:PORT; false if it exits first or `seconds` pass.
bool wait_accepting(Process& server, int port, double seconds);
}  // namespace photodrop::test
