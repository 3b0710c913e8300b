#include "ingest/retry_policy.hpp"

#include <algorithm>

namespace photodrop::ingest {

std::chrono::milliseconds RetryPolicy::delay_after(int attempt) const {
    auto delay = first_delay;
    for (int i = 1; i < attempt && delay < max_delay; ++i) delay *= 2;
    return std::min(delay, max_delay);
}

}  // namespace photodrop::ingest
