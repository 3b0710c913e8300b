#pragma once
// What /metrics reports, in the Prometheus text format. Thread-safe.

#include "catalog/catalog.hpp"
#include "ingest/ingester.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

namespace photodrop::ingest {

// The data directory's space as the service sees it.
struct SpaceStatus {
    std::optional<int64_t> free_bytes;  // nullopt: statvfs failed
    int64_t floor = 0;                  // the service claims nothing below this
    bool waiting = false;               // it is holding off for that reason now
};

class Metrics {
public:
    // Counts one processed upload and its processing time; `noted`: it became
    // a photo with a note (its decoder got past damage).
    void record(Result result, std::chrono::milliseconds elapsed, bool noted = false);

    // The exposition: the queue depth by state (from the catalog), the age of
    // the oldest queued upload, the counters, the processing-time histogram and
    // the number of uploads being processed right now; the data directory's
    // free space and whether the service waits for space.
    std::string render(const QueueStats& queue, int in_flight, const SpaceStatus& space) const;

    // Upper bounds of the histogram buckets, seconds.
    static constexpr std::array<double, 10> bucket_bounds{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60};

private:
    mutable std::mutex mutex_;  // protects everything below
    std::array<uint64_t, result_count> by_result_{};
    std::array<uint64_t, bucket_bounds.size()> buckets_{};  // not cumulative
    uint64_t with_notes_ = 0;
    uint64_t count_ = 0;
    double sum_seconds_ = 0;
};

}  // namespace photodrop::ingest
