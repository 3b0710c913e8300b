#pragma once
// When a failed delivery is tried again.

#include <chrono>
#include <random>

namespace photodrop::webhooks {

struct Backoff {
    std::chrono::milliseconds first{1000};     // after the first failed attempt
    std::chrono::milliseconds most{3600'000};  // never longer than this
    double jitter = 0.2;                       // ± this fraction, so that retries of many do not come in step
};

// The wait after attempt number `attempts` (1 for the first) failed: `first`
// doubled per attempt after the first, capped at `most`, then spread by ±`jitter`.
std::chrono::milliseconds retry_delay(const Backoff& backoff, int attempts, std::mt19937_64& random);

}  // namespace photodrop::webhooks
