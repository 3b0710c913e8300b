#pragma once
// Turns one claimed upload into a photo, a duplicate, a refusal or a retry,
// and writes that outcome to the catalog.
//
// Processing the same upload twice has the effect of once: the original is
// renamed into the store only after its hash is in the catalog, so a retry
// that finds the staging file gone takes the original from the store; and
// finish_ingest() is idempotent.

#include "catalog/catalog.hpp"
#include "catalog/config.hpp"
#include "ingest/image.hpp"
#include "ingest/retry_policy.hpp"
#include "ingest/store.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace photodrop::ingest {

struct IngestSettings {
    std::string data;                   // the data directory
    int64_t pixel_limit = 100'000'000;
    RenditionSizes sizes;
    RetryPolicy retry;
};

IngestSettings ingest_settings(const Config& config);

enum class Result {
    Ingested,   // a new photo
    Duplicate,  // identical to a photo already in the job
    Rejected,   // refused for good, with a reason
    Retrying,   // a passing failure: queued again after a back-off
    Failed,     // passing failures until the attempts ran out
    Abandoned,  // the upload changed under us (deleted, claim lost): left as it is
};
std::string_view to_string(Result);

struct Outcome {
    Id upload_id = 0;
    std::string tenant, job, file;  // for the log line
    Result result = Result::Abandoned;
    std::string reason;             // why rejected, retried, failed or abandoned
    std::optional<Id> photo_id;
    std::chrono::milliseconds elapsed{0};
};

class Ingester {
public:
    // `catalog` is used only from the calling thread.
    Ingester(Catalog& catalog, IngestSettings settings);

    // Processes an upload that this thread has claimed. Never throws for a
    // problem with the upload; catalog failures while recording a refusal or a
    // retry leave the claim to run out, and the upload is tried again.
    Outcome process(const Upload& claimed);

private:
    void ingest(const Upload& upload, const Tenant& tenant, Outcome& out);
    void settle_failure(const Upload& upload, const std::string& error, Outcome& out);

    Catalog& catalog_;
    IngestSettings settings_;
    Store store_;
};

}  // namespace photodrop::ingest
