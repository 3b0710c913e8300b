#pragma once
// How often and how soon an upload that failed for a passing reason (I/O, a
// busy catalog) is tried again.

#include <chrono>

namespace photodrop::ingest {

struct RetryPolicy {
    int max_attempts = 5;                      // then the upload is `failed`
    std::chrono::milliseconds first_delay{2000};
    std::chrono::milliseconds max_delay{300'000};

    // The wait after the given (1-based) attempt failed: first_delay, doubling, capped.
    std::chrono::milliseconds delay_after(int attempt) const;
    bool gives_up_after(int attempt) const { return attempt >= max_attempts; }
};

}  // namespace photodrop::ingest
