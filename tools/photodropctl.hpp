#pragma once
// photodropctl as a library: the program's main() and the tests both call
// run_photodropctl(), so every command can be exercised in-process.

#include <iosfwd>
#include <string>
#include <vector>

namespace photodrop::ctl {

// Where one run reads and writes.
struct Console {
    std::istream& in;    // passwords for --password-stdin and `user passwd`
    std::ostream& out;   // results: tables, JSON, confirmations
    std::ostream& err;   // one line `photodropctl: <reason>` on failure
    bool interactive = false;  // `out` is a terminal: `queue watch` draws a progress bar
};

// Exit statuses that scripts can rely on.
constexpr int exit_ok = 0;
constexpr int exit_failure = 1;  // unknown tenant, duplicate job, a check that failed, ...
constexpr int exit_usage = 2;    // the command line itself is wrong

// Runs one command line; args[0] is the program name. Returns the exit status.
int run_photodropctl(const std::vector<std::string>& args, Console console);

// The same with main()'s arguments, reading standard input.
int run_photodropctl(int argc, char** argv, std::ostream& out, std::ostream& err);

}  // namespace photodrop::ctl
