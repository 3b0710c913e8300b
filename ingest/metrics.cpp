#include "ingest/metrics.hpp"

#include <fmt/format.h>

namespace photodrop::ingest {

namespace {
constexpr std::array<Result, result_count> results{Result::Ingested, Result::Duplicate, Result::Rejected,
                                                  Result::Retrying, Result::Failed,    Result::Abandoned,
                                                  Result::WaitingForSpace};
constexpr std::array<UploadState, 8> states{UploadState::Receiving, UploadState::Queued,   UploadState::Processing,
                                            UploadState::Ingested,  UploadState::Rejected, UploadState::Failed,
                                            UploadState::Discarded, UploadState::Deleted};
}  // namespace

void Metrics::record(Result result, std::chrono::milliseconds elapsed, bool noted) {
    double seconds = static_cast<double>(elapsed.count()) / 1000.0;
    std::lock_guard lock(mutex_);
    ++by_result_[static_cast<size_t>(result)];
    if (noted) ++with_notes_;
    for (size_t i = 0; i < bucket_bounds.size(); ++i)
        if (seconds <= bucket_bounds[i]) {
            ++buckets_[i];
            break;
        }
    ++count_;
    sum_seconds_ += seconds;
}

std::string Metrics::render(const QueueStats& queue, int in_flight, const SpaceStatus& space) const {
    std::string out;
    auto line = [&out](std::string text) { out += text + '\n'; };

    line("# HELP photodrop_ingest_queue_uploads Uploads in the catalog, by state.");
    line("# TYPE photodrop_ingest_queue_uploads gauge");
    for (UploadState state : states) {
        auto found = queue.by_state.find(state);
        line(fmt::format("photodrop_ingest_queue_uploads{{state=\"{}\"}} {}", to_string(state),
                         found == queue.by_state.end() ? 0 : found->second));
    }
    line("# HELP photodrop_ingest_oldest_queued_seconds Time since the oldest queued upload was queued.");
    line("# TYPE photodrop_ingest_oldest_queued_seconds gauge");
    double age = queue.oldest_queued_ns ? static_cast<double>(now_ns() - *queue.oldest_queued_ns) / 1e9 : 0.0;
    line(fmt::format("photodrop_ingest_oldest_queued_seconds {:.3f}", age < 0 ? 0.0 : age));
    line("# HELP photodrop_ingest_in_flight Uploads being processed by this service now.");
    line("# TYPE photodrop_ingest_in_flight gauge");
    line(fmt::format("photodrop_ingest_in_flight {}", in_flight));
    if (space.free_bytes) {
        line("# HELP photodrop_data_free_bytes Free space of the data directory's file system.");
        line("# TYPE photodrop_data_free_bytes gauge");
        line(fmt::format("photodrop_data_free_bytes {}", *space.free_bytes));
    }
    line("# HELP photodrop_ingest_space_floor_bytes Free space below which the service claims no upload.");
    line("# TYPE photodrop_ingest_space_floor_bytes gauge");
    line(fmt::format("photodrop_ingest_space_floor_bytes {}", space.floor));
    line("# HELP photodrop_ingest_waiting_for_space 1 while the service claims nothing for want of disk space.");
    line("# TYPE photodrop_ingest_waiting_for_space gauge");
    line(fmt::format("photodrop_ingest_waiting_for_space {}", space.waiting ? 1 : 0));
    line("# HELP photodrop_ingest_uploads_waiting_for_space Queued uploads put back because the disk was full.");
    line("# TYPE photodrop_ingest_uploads_waiting_for_space gauge");
    line(fmt::format("photodrop_ingest_uploads_waiting_for_space {}", queue.waiting_for_space));

    std::lock_guard lock(mutex_);
    line("# HELP photodrop_ingest_uploads_processed_total Uploads processed by this service, by result.");
    line("# TYPE photodrop_ingest_uploads_processed_total counter");
    for (Result result : results)
        line(fmt::format("photodrop_ingest_uploads_processed_total{{result=\"{}\"}} {}", to_string(result),
                         by_result_[static_cast<size_t>(result)]));
    line("# HELP photodrop_ingest_photos_with_warnings_total Photos ingested with a note: their decoder got past damage.");
    line("# TYPE photodrop_ingest_photos_with_warnings_total counter");
    line(fmt::format("photodrop_ingest_photos_with_warnings_total {}", with_notes_));
    line("# HELP photodrop_ingest_processing_seconds Time from claim to outcome, per upload.");
    line("# TYPE photodrop_ingest_processing_seconds histogram");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bucket_bounds.size(); ++i) {
        cumulative += buckets_[i];
        line(fmt::format("photodrop_ingest_processing_seconds_bucket{{le=\"{}\"}} {}", bucket_bounds[i], cumulative));
    }
    line(fmt::format("photodrop_ingest_processing_seconds_bucket{{le=\"+Inf\"}} {}", count_));
    line(fmt::format("photodrop_ingest_processing_seconds_sum {:.3f}", sum_seconds_));
    line(fmt::format("photodrop_ingest_processing_seconds_count {}", count_));
    return out;
}

}  // namespace photodrop::ingest
