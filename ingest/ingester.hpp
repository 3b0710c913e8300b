#pragma once
// Turns one claimed upload into a photo, a duplicate, a refusal or a retry,
// and writes that outcome to the catalog.
//
// Processing the same upload twice has the effect of once: the original is
// renamed into the store only after its hash is in the catalog, so a retry
// that finds the staging file gone takes the original from the store; and
// file_ingest() is idempotent.

#include "catalog/catalog.hpp"
#include "catalog/config.hpp"
#include "ingest/image.hpp"
#include "ingest/reason.hpp"
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
    int64_t decode_memory = int64_t{640} << 20;  // whole-image decodes at once, together (DecodeBudget)
    int64_t max_upload_size = int64_t{1} << 30;  // larger files are refused before they are read
    // The service claims nothing while the data directory has less free space (ingest_space_floor()).
    int64_t min_free_space = int64_t{64} << 20;
    // An upload put back for want of space is looked at again after this (the
    // attempt is not counted: a full disk is not the upload's fault).
    std::chrono::milliseconds space_retry{10'000};
    // How long a claim lasts; the service renews the claims it works on, so
    // this is how soon a crashed service's claims return to the queue. Renewed
    // once more just before an upload is filed.
    std::chrono::seconds lease{30};
    RenditionSizes sizes;
    // Cards' codes are read in the photos of individuals sections (and flat jobs).
    bool read_codes = true;
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
    WaitingForSpace,  // the disk (or a quota) is full: queued again, the attempt not counted
};
inline constexpr int result_count = 7;
std::string_view to_string(Result);

struct Outcome {
    Id upload_id = 0;
    std::string tenant, job, file;  // for the log line
    Result result = Result::Abandoned;
    std::string reason;             // why rejected, retried, failed or abandoned
    std::string note;               // an ingested photo's note: the damage its decoder got past
    std::optional<Id> photo_id;
    std::chrono::milliseconds elapsed{0};
};

class Ingester {
public:
    // `catalog` is used only from the calling thread.
    Ingester(IngestCatalog& catalog, IngestSettings settings);

    // Processes an upload that this thread has claimed. Never throws for a
    // problem with the upload; catalog failures while recording a refusal or a
    // retry leave the claim to run out, and the upload is tried again.
    Outcome process(const Upload& claimed);

private:
    void ingest(const Upload& upload, const Tenant& tenant, Outcome& out);
    // Throws CatalogError (abandoned) when the claim on `upload` is lost; renews it otherwise.
    void still_claimed(const Upload& upload);
    void settle_failure(const Upload& upload, const std::string& error, Outcome& out);
    void wait_for_space(const Upload& upload, const std::string& error, Outcome& out);
    // Refuses a staged file that is over the size limit or mostly holes, before a byte of it is read.
    void check_size(const std::filesystem::path& staged) const;

    // The upload's file as the photographer knows it, and where this process
    // reads it: what reasons and notes name it by (stated()).
    FileNaming naming_of(const Upload& upload);

    IngestCatalog& catalog_;
    IngestSettings settings_;
    FileNaming naming_;  // of the upload being processed
    Store store_;
};

}  // namespace photodrop::ingest
