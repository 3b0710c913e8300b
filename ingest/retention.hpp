#pragma once
// Retention: what photodrop keeps, and for how long, of the bytes in the data
// directory; and purging what has outlived it. Run by photodrop-ingest now
// and then and by `photodropctl purge`; `photodropctl usage` shows the same
// plan beside what is stored.
//
// Purging removes, per tenant:
//  - the staged bytes of uploads deleted or cancelled more than keep_deleted
//    ago, and of uploads rejected or discarded more than keep_rejected ago
//    (counted from the upload's last change), recording in the catalog that
//    they are gone (data_path '');
//  - the staged copy of an ingested duplicate, which reads from the original
//    of its photo from then on;
//  - staging files that no upload names, and unfinished renditions (.tmp),
//    once they are an hour old (what a crash leaves);
//  - the original, thumbnail and preview of a photo deleted more than
//    keep_deleted ago, unless a photo or an upload of the tenant that is kept
//    has the same content hash (the store is shared by the tenant's jobs).
// It also expires uploads still receiving whose staging file has not changed
// for receiving_expiry: they become deleted ("abandoned"), and their bytes go
// with the deleted ones. A client that writes keeps the file's mtime fresh.
//
// The catalog is changed first, one transaction per upload or photo, each
// checking that the row is still as it was read; the file goes after. A
// crash in between leaves an orphan file, which a later run removes.

#include "catalog/catalog.hpp"
#include "catalog/config.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace photodrop::ingest {

struct RetentionSettings {
    std::filesystem::path data;  // the data directory
    std::chrono::seconds keep_deleted{30 * 86400};
    std::chrono::seconds keep_rejected{7 * 86400};
    std::chrono::seconds receiving_expiry{7 * 86400};
    // How old an orphan staging file or an unfinished rendition must be: no
    // upload being created or photo being filed is ever this slow.
    std::chrono::seconds leftover_age{3600};
};

RetentionSettings retention_settings(const Config& config);

// What a removed file was.
enum class Leftover {
    Deleted,    // staged bytes of a deleted or cancelled upload
    Rejected,   // staged bytes of a rejected upload
    Discarded,  // staged bytes of a discarded (junk) upload
    Duplicate,  // the staged copy of an ingested duplicate
    Orphan,     // a staging file no upload names, or a rendition no photo names
    Unfinished, // a .tmp rendition or original a crash left
    Original,   // the original of a deleted photo
    Thumbnail,  // its thumbnail
    Preview,    // its preview
};
std::string_view to_string(Leftover);

struct Removal {
    std::string tenant;  // slug
    Leftover kind = Leftover::Orphan;
    std::string path;    // relative to the data directory
    int64_t bytes = 0;   // the file's length
    std::string why;     // "upload 12 (a.jpg), rejected 8d ago"
};

// An upload that stopped receiving for good.
struct Expiry {
    std::string tenant;
    Id upload_id = 0;
    std::string reason;  // "abandoned: no byte for 9d"
};

struct Tally {
    int64_t files = 0;
    int64_t bytes = 0;
    void add(int64_t file_bytes) {
        ++files;
        bytes += file_bytes;
    }
};

struct PurgeReport {
    bool dry_run = false;
    std::vector<Expiry> expired;
    std::vector<Removal> removed;       // removed, or in a dry run what would be
    std::vector<std::string> problems;  // what could not be removed; tried again next time

    std::map<std::pair<std::string, Leftover>, Tally> by_tenant_and_kind() const;
    Tally total() const;
    // One line for the log: "removed 3 files, 1.2 MiB (demo: 2 rejected 1.0 MiB, ...); 1 abandoned upload expired".
    std::string summary() const;
};

// Purges every tenant, or one. A dry run changes nothing and reports what a
// run would remove now. Throws only if the catalog cannot be read.
PurgeReport purge(IngestCatalog& catalog, const RetentionSettings& settings, bool dry_run,
                  std::optional<Id> tenant_id = std::nullopt);

// What one tenant stores in the data directory, by area and kind:
//   staging: one line per upload state, and "orphan" for files no upload names;
//   originals, thumbnails, previews: "stored", and "unfinished" for .tmp files.
// `purgeable` is what a purge would remove now; the rest is live.
struct UsageLine {
    std::string area;
    std::string kind;
    Tally stored;
    Tally purgeable;
};

struct TenantUsage {
    std::string tenant;
    std::vector<UsageLine> lines;
    Tally total;
    Tally purgeable;
};

std::vector<TenantUsage> usage(IngestCatalog& catalog, const RetentionSettings& settings,
                               std::optional<Id> tenant_id = std::nullopt);

// "45s", "12m", "5h", "9d".
std::string age_text(std::chrono::seconds age);

}  // namespace photodrop::ingest
