#pragma once
// Running the system's account tools (useradd, chpasswd, ...) with argument
// vectors: posix_spawn, never a shell, so no name or password is ever parsed
// by one.

#include <stdexcept>
#include <string>
#include <vector>

namespace photodrop::ctl {

struct ProgramResult {
    int exit_status = 0;  // 128 + signal number when killed by a signal
    std::string output;   // what it wrote to stdout and stderr
};

// Runs argv[0] (looked up in /usr/sbin, /usr/bin, /sbin, /bin when it has no
// slash) with `input` on its standard input, and waits for it. Throws
// std::system_error when the program cannot be started.
ProgramResult run_program(const std::vector<std::string>& argv, const std::string& input = {});

// The error for a program that did not exit 0: its name, status and first line of output.
std::runtime_error program_failed(const std::string& program, const ProgramResult& result);

// Runs it and throws std::runtime_error with its first line of output when it
// does not exit 0.
void run_checked(const std::vector<std::string>& argv, const std::string& input = {});

}  // namespace photodrop::ctl
