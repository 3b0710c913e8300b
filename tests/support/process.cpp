#include "tests/support/process.hpp"

#include "tests/support/files.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <utility>

extern char** environ;

namespace photodrop::test {

namespace {
// The environment without the host's photodrop settings, with the test's own.
std::vector<std::string> test_environment(const std::vector<std::string>& settings) {
    std::vector<std::string> env{"PHOTODROP_CONFIG=/dev/null"};
    for (char** e = environ; *e; ++e)
        if (std::strncmp(*e, "PHOTODROP_", 10) != 0) env.emplace_back(*e);
    env.insert(env.end(), settings.begin(), settings.end());
    return env;
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& log, int stdout_fd, int stdin_fd = -1,
            const std::vector<std::string>& settings = {}) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (stdin_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdin_fd, 0);
    else posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    if (stdout_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
    if (stdout_fd >= 0 && log.empty()) posix_spawn_file_actions_adddup2(&actions, stdout_fd, 2);
    if (!log.empty()) {
        posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (stdout_fd < 0) posix_spawn_file_actions_adddup2(&actions, 2, 1);
    }
    auto env = test_environment(settings);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
    return pid;
}

int status_of(int raw) { return WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw); }
}  // namespace

Process::Process(const std::vector<std::string>& argv, const std::string& log, const std::vector<std::string>& settings)
    : pid_(spawn(argv, log, -1, -1, settings)), log_(log) {}

Process::Process(Process&& other) noexcept : pid_(std::exchange(other.pid_, -1)), log_(std::move(other.log_)) {}

Process& Process::operator=(Process&& other) noexcept {
    if (this != &other) {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            wait();
        }
        pid_ = std::exchange(other.pid_, -1);
        log_ = std::move(other.log_);
    }
    return *this;
}

Process::~Process() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        wait();
    }
}

void Process::signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
}

bool Process::running() { return pid_ > 0 && wait_for(0) < 0; }

std::string Process::log() const { return log_.empty() ? std::string() : read_file(log_); }

int Process::wait() {
    if (pid_ <= 0) return -1;
    int raw = 0;
    while (::waitpid(pid_, &raw, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status_of(raw);
}

int Process::wait_for(double seconds) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (pid_ > 0) {
        int raw = 0;
        pid_t r = ::waitpid(pid_, &raw, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            return status_of(raw);
        }
        if (std::chrono::steady_clock::now() > deadline) return -1;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
}

int run(const std::vector<std::string>& argv, const std::string& log) {
    Process p(argv, log);
    return p.wait();
}

std::string output_of(const std::vector<std::string>& argv, int* status) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    pid_t pid = spawn(argv, {}, fds[1]);
    ::close(fds[1]);
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
    ::close(fds[0]);
    int raw = 0;
    ::waitpid(pid, &raw, 0);
    if (status) *status = status_of(raw);
    return out;
}

int run_with_input(const std::vector<std::string>& argv, const std::string& input, std::string* output) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    pid_t pid = spawn(argv, {}, out[1], in[0]);
    ::close(in[0]);
    ::close(out[1]);
    // Small inputs only: they fit in the pipe, so writing first cannot deadlock.
    if (::write(in[1], input.data(), input.size()) != static_cast<ssize_t>(input.size())) throw std::runtime_error("write");
    ::close(in[1]);
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
    ::close(out[0]);
    int raw = 0;
    ::waitpid(pid, &raw, 0);
    if (output) *output = text;
    return status_of(raw);
}

int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(fd);
        throw std::runtime_error("no free port");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

bool accepts(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    ::close(fd);
    return ok;
}

bool wait_accepting(Process& server, int port, double seconds) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!accepts(port)) {
        if (server.wait_for(0) >= 0 || std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

}  // namespace photodrop::test
