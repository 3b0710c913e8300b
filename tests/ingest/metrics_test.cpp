#include "ingest/metrics.hpp"

#include <doctest/doctest.h>

using namespace photodrop;
using namespace photodrop::ingest;
using namespace std::chrono_literals;

TEST_CASE("metrics are Prometheus text with queue gauges, counters and a histogram") {
    Metrics metrics;
    metrics.record(Result::Ingested, 80ms);
    metrics.record(Result::Ingested, 700ms);
    metrics.record(Result::Rejected, 5ms);
    metrics.record(Result::Failed, 40'000ms);

    QueueStats queue;
    queue.by_state[UploadState::Queued] = 7;
    queue.by_state[UploadState::Ingested] = 3;
    queue.waiting_for_space = 1;
    metrics.record(Result::WaitingForSpace, 30ms);
    std::string text = metrics.render(queue, 2, SpaceStatus{int64_t{5} << 20, int64_t{64} << 20, true});

    CHECK(text.find("# TYPE photodrop_ingest_queue_uploads gauge\n") != std::string::npos);
    CHECK(text.find("photodrop_ingest_queue_uploads{state=\"queued\"} 7\n") != std::string::npos);
    CHECK(text.find("photodrop_ingest_queue_uploads{state=\"processing\"} 0\n") != std::string::npos);
    CHECK(text.find("photodrop_ingest_in_flight 2\n") != std::string::npos);
    CHECK(text.find("photodrop_ingest_uploads_processed_total{result=\"ingested\"} 2\n") != std::string::npos);
    CHECK(text.find("photodrop_ingest_uploads_processed_total{result=\"rejected\"} 1\n") != std::string::npos);
    CHECK(text.find("photodrop_ingest_uploads_processed_total{result=\"failed\"} 1\n") != std::string::npos);
    CHECK(text.find("photodrop_ingest_uploads_processed_total{result=\"waiting_for_space\"} 1\n") != std::string::npos);
    CHECK(text.find("# TYPE photodrop_data_free_bytes gauge\n") != std::string::npos);
    CHECK(text.find("photodrop_data_free_bytes 5242880\n") != std::string::npos);
    CHECK(text.find("photodrop_ingest_space_floor_bytes 67108864\n") != std::string::npos);
    CHECK(text.find("photodrop_ingest_waiting_for_space 1\n") != std::string::npos);
    CHECK(text.find("photodrop_ingest_uploads_waiting_for_space 1\n") != std::string::npos);
    CHECK(text.find("# TYPE photodrop_ingest_processing_seconds histogram\n") != std::string::npos);
    CHECK(text.find("photodrop_ingest_processing_seconds_bucket{le=\"0.05\"} 2\n") != std::string::npos);
    CHECK(text.find("photodrop_ingest_processing_seconds_bucket{le=\"0.1\"} 3\n") != std::string::npos);
    CHECK(text.find("photodrop_ingest_processing_seconds_bucket{le=\"1\"} 4\n") != std::string::npos);
    CHECK(text.find("photodrop_ingest_processing_seconds_bucket{le=\"60\"} 5\n") != std::string::npos);
    CHECK(text.find("photodrop_ingest_processing_seconds_bucket{le=\"+Inf\"} 5\n") != std::string::npos);
    CHECK(text.find("photodrop_ingest_processing_seconds_count 5\n") != std::string::npos);
    CHECK(text.find("photodrop_ingest_processing_seconds_sum 40.815\n") != std::string::npos);
}
