#include "api/webhooks/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace photodrop::webhooks {

std::chrono::milliseconds retry_delay(const Backoff& backoff, int attempts, std::mt19937_64& random) {
    double base = static_cast<double>(backoff.first.count()) * std::exp2(std::clamp(attempts - 1, 0, 40));
    base = std::min(base, static_cast<double>(backoff.most.count()));
    std::uniform_real_distribution<double> spread(1.0 - backoff.jitter, 1.0 + backoff.jitter);
    return std::chrono::milliseconds(static_cast<int64_t>(base * spread(random)));
}

}  // namespace photodrop::webhooks
