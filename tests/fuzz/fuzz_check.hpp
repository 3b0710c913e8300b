#pragma once
// What the fuzz targets assert: a broken property aborts, which libFuzzer
// reports as a crash with the input that broke it.

#include "catalog/text.hpp"

#include <cstdio>
#include <cstdlib>
#include <string_view>

#define FUZZ_CHECK(cond)                                                             \
    do {                                                                             \
        if (!(cond)) {                                                               \
            std::fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                            \
        }                                                                            \
    } while (0)

namespace photodrop::fuzz {

// Whether `s` may reach a terminal, a log line or a JSON encoder as it is:
// valid UTF-8 without controls or any character that text::unsafe_character refuses.
inline bool safe_to_show(std::string_view s) {
    if (!text::valid_utf8(s)) return false;
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return false;
    return !text::first_unsafe_character(s);
}

}  // namespace photodrop::fuzz
