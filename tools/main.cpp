#include "tools/photodropctl.hpp"

#include <unistd.h>

#include <iostream>

int main(int argc, char** argv) {
    std::vector<std::string> args(argv, argv + argc);
    return photodrop::ctl::run_photodropctl(args, {std::cin, std::cout, std::cerr, isatty(STDOUT_FILENO) == 1});
}
