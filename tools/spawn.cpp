#include "tools/spawn.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <string_view>
#include <system_error>
#include <utility>

extern char** environ;

namespace photodrop::ctl {

namespace {

std::system_error errno_error(const std::string& what) { return {errno, std::generic_category(), what}; }

// A file descriptor with one owner.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        reset();
        fd_ = std::exchange(o.fd_, -1);
        return *this;
    }
    ~Fd() { reset(); }
    int get() const { return fd_; }
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_ = -1;
};

struct Pipe {
    Fd read, write;
};

Pipe make_pipe() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw errno_error("pipe");
    return {Fd(fds[0]), Fd(fds[1])};
}

class FileActions {
public:
    FileActions() { posix_spawn_file_actions_init(&actions_); }
    ~FileActions() { posix_spawn_file_actions_destroy(&actions_); }
    FileActions(const FileActions&) = delete;
    FileActions& operator=(const FileActions&) = delete;
    void dup2(int from, int to) { posix_spawn_file_actions_adddup2(&actions_, from, to); }
    const posix_spawn_file_actions_t* get() const { return &actions_; }

private:
    posix_spawn_file_actions_t actions_;
};

// While alive, a write to a pipe whose reader has gone fails with EPIPE
// instead of killing this process with SIGPIPE.
class SigpipeBlocked {
public:
    SigpipeBlocked() {
        sigset_t pipe_only;
        sigemptyset(&pipe_only);
        sigaddset(&pipe_only, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_only, &old_);
    }
    ~SigpipeBlocked() {
        sigset_t pipe_only;
        sigemptyset(&pipe_only);
        sigaddset(&pipe_only, SIGPIPE);
        timespec none{0, 0};
        while (sigtimedwait(&pipe_only, nullptr, &none) == SIGPIPE) {
        }
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
    SigpipeBlocked(const SigpipeBlocked&) = delete;
    SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;

private:
    sigset_t old_;
};

std::string resolve(const std::string& name) {
    if (name.find('/') != std::string::npos) return name;
    for (const char* dir : {"/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
        std::string path = fmt::format("{}/{}", dir, name);
        if (::access(path.c_str(), X_OK) == 0) return path;
    }
    throw std::system_error(ENOENT, std::generic_category(), fmt::format("cannot find {}", name));
}

// The child's environment: ours, with messages in plain English for the one-line errors.
std::vector<std::string> child_environment() {
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) {
        std::string_view entry(*e);
        if (entry.starts_with("LC_ALL=") || entry.starts_with("LANGUAGE=")) continue;
        env.emplace_back(entry);
    }
    env.emplace_back("LC_ALL=C");
    return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (auto& s : strings) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

}  // namespace

ProgramResult run_program(const std::vector<std::string>& argv, const std::string& input) {
    std::string path = resolve(argv.at(0));
    std::vector<std::string> args = argv;
    std::vector<std::string> env = child_environment();
    auto arg_ptrs = pointers(args);
    auto env_ptrs = pointers(env);

    Pipe in = make_pipe();
    Pipe out = make_pipe();
    FileActions actions;
    actions.dup2(in.read.get(), STDIN_FILENO);
    actions.dup2(out.write.get(), STDOUT_FILENO);
    actions.dup2(out.write.get(), STDERR_FILENO);

    pid_t pid = 0;
    if (int rc = posix_spawn(&pid, path.c_str(), actions.get(), nullptr, arg_ptrs.data(), env_ptrs.data()); rc != 0)
        throw std::system_error(rc, std::generic_category(), fmt::format("cannot run {}", path));
    in.read.reset();
    out.write.reset();

    {
        SigpipeBlocked guard;
        size_t done = 0;
        while (done < input.size()) {
            ssize_t n = ::write(in.write.get(), input.data() + done, input.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) break;  // it stopped reading; its exit status says why
            done += static_cast<size_t>(n);
        }
        in.write.reset();
    }

    ProgramResult result;
    char buffer[4096];
    for (;;) {
        ssize_t n = ::read(out.read.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        result.output.append(buffer, static_cast<size_t>(n));
    }

    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) throw errno_error(fmt::format("waiting for {}", path));
    }
    result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

std::runtime_error program_failed(const std::string& program, const ProgramResult& result) {
    std::string first_line = result.output.substr(0, result.output.find('\n'));
    if (first_line.empty()) first_line = "no message";
    return std::runtime_error(fmt::format("{} failed (exit {}): {}", program, result.exit_status, first_line));
}

void run_checked(const std::vector<std::string>& argv, const std::string& input) {
    auto result = run_program(argv, input);
    if (result.exit_status != 0) throw program_failed(argv.at(0), result);
}

}  // namespace photodrop::ctl
