#pragma once
// The catalog's data model, in the words of SPEC.md: tenants, jobs, SFTP users,
// albums, uploads and photos.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace photodrop {

using Id = int64_t;

enum class JobStatus { Planned, Selling, Archived };
enum class Layout { Albums, Flat };
enum class Section { Individuals, Group };
enum class UploadState { Receiving, Queued, Processing, Ingested, Rejected, Failed, Discarded, Deleted };

// Text forms as stored in the catalog and shown by photodropctl ("planned", "albums", ...).
std::string_view to_string(JobStatus);
std::string_view to_string(Layout);
std::string_view to_string(Section);
std::string_view to_string(UploadState);
// Parsers: nullopt for a word that is not one of the above.
std::optional<JobStatus> parse_job_status(std::string_view);
std::optional<Layout> parse_layout(std::string_view);
std::optional<Section> parse_section(std::string_view);
std::optional<UploadState> parse_upload_state(std::string_view);


// The upload lifecycle: whether an upload may move from one state to another.
// receiving -> queued -> processing -> ingested, with rejected, failed,
// discarded and deleted as side exits (SPEC.md "Upload lifecycle").
bool can_transition(UploadState from, UploadState to);

// Nanoseconds since the epoch.
int64_t now_ns();

struct Tenant {
    Id id = 0;
    std::string slug;
    std::string name;
    std::optional<int64_t> quota;  // bytes its uploads may hold (Catalog::tenant_use); none: unlimited
};

struct Job {
    Id id = 0;
    Id tenant_id = 0;
    std::string name;  // the folder name, e.g. job00001
    std::string title;
    JobStatus status = JobStatus::Planned;
    Layout layout = Layout::Albums;
};

// What a login may connect with: SFTP (sshd), FTP over TLS, plain FTP (for
// cameras that have nothing else; never by default).
struct Protocols {
    bool sftp = true;
    bool ftps = true;
    bool ftp = false;
    bool operator==(const Protocols&) const = default;
};
// "sftp,ftps": the protocols on, in that order; "none" when none is.
std::string to_string(const Protocols&);
// A comma list of sftp, ftps and ftp; nullopt when a word is none of them or the list is empty.
std::optional<Protocols> parse_protocols(std::string_view);

struct SftpUser {
    Id id = 0;
    Id tenant_id = 0;
    std::string username;
    uint32_t uid = 0;
    bool enabled = true;
    std::vector<Id> job_ids;  // the jobs it may see; empty means all of its tenant's
    Protocols protocols;
    // A camera account: its root is this album (of its one job); whatever
    // folders the camera makes below it, its files go to the album.
    std::optional<Id> camera_album_id;
};

struct Album {
    Id id = 0;
    Id job_id = 0;
    std::string name;
    bool has_group = false;        // `mkdir group` was made
    bool has_individuals = false;  // `mkdir individuals` was made
    int64_t created_ns = 0;
};

// Where an upload sits in a job: the job root (flat layout), an album's own
// folder (which is its individuals section) or one of its section folders.
struct Folder {
    std::optional<Id> album_id;
    Section section = Section::Individuals;
    bool in_section_folder = false;
    bool operator==(const Folder&) const = default;
};

struct Upload {
    Id id = 0;
    Id job_id = 0;
    Folder folder;
    std::string filename;
    // The name the client sent it under, when it is shown under another (a
    // camera's IMG_0001.JPG shown as "IMG_0001 (2).JPG"); empty otherwise.
    std::string sent_name;
    int64_t size = 0;
    int64_t mtime_ns = 0;
    uint32_t mode = 0644;
    uint32_t uid = 0;                 // the system uid that wrote it
    std::optional<Id> user_id;        // the SFTP user of that uid, if known
    UploadState state = UploadState::Receiving;
    std::string reason;               // why rejected / failed / discarded
    std::string data_path;            // where its bytes are, inside the data directory
    std::string content_hash;         // SHA-256, hex, once known
    int attempts = 0;                 // ingest attempts so far
    int64_t lease_until_ns = 0;       // while processing: when the claim runs out
    int64_t next_attempt_ns = 0;      // while queued after a transient failure
    std::optional<Id> photo_id;       // the photo it became, or the one it duplicates
    bool duplicate = false;           // identical to a photo already in the job
    std::optional<Id> supersedes_photo_id;  // the photo an overwrite replaces
    int64_t created_ns = 0;
    int64_t updated_ns = 0;
};

struct Photo {
    Id id = 0;
    Id upload_id = 0;
    Id job_id = 0;
    std::optional<Id> album_id;
    Section section = Section::Individuals;
    std::string filename;
    std::string original_path;
    int width = 0;
    int height = 0;
    std::optional<std::string> captured_at;  // EXIF DateTimeOriginal, "YYYY-MM-DD HH:MM:SS"
    int captured_us = 0;                     // its sub-seconds (SubSecTimeOriginal), in microseconds
    std::string camera_make;
    std::string camera_model;
    std::string camera_serial;
    int orientation = 1;
    std::string content_hash;
    std::string thumbnail_path;
    std::string preview_path;
    bool deleted = false;
    int64_t created_ns = 0;
    // The damage its decoder got past ("VipsJpeg: Corrupt JPEG data: ..."):
    // the photo was accepted, but may show it. Empty for a clean image.
    std::string note;
    // Subjects (SPEC.md "Subjects (QR cards)"): the code of the card it shows,
    // if it is a card photo; the code of the subject it belongs to (a card
    // photo, its own), none if unassigned; whether an operator chose that
    // (then regrouping leaves it).
    std::optional<std::string> card_code;
    std::optional<std::string> subject;
    bool subject_manual = false;
};

// A job's roster entry: the subject of a card's code.
struct RosterEntry {
    std::string code;
    std::string name;
    std::string class_name;
    std::string external_id;
    bool operator==(const RosterEntry&) const = default;
};

// What a platform is told of (SPEC.md "Events and the platform API"),
// written in the transaction of the change it reports.
struct Event {
    Id id = 0;                 // increasing: a platform reads on from the last it saw
    std::string type;          // "photo.ingested", "upload.rejected", ...
    int64_t occurred_ns = 0;
    Id tenant_id = 0;
    std::optional<Id> job_id, album_id, upload_id, photo_id;
    std::string data;          // JSON: what a platform needs without a second call
};

// The event types, as their `type` reads.
namespace event {
inline constexpr std::string_view upload_rejected = "upload.rejected";
inline constexpr std::string_view upload_failed = "upload.failed";
inline constexpr std::string_view photo_ingested = "photo.ingested";
inline constexpr std::string_view photo_duplicate = "photo.duplicate";
inline constexpr std::string_view photo_replaced = "photo.replaced";
inline constexpr std::string_view photo_deleted = "photo.deleted";
inline constexpr std::string_view album_created = "album.created";
inline constexpr std::string_view job_status_changed = "job.status_changed";
inline constexpr std::string_view album_idle = "album.idle";
inline constexpr std::string_view subject_updated = "subject.updated";
// Every type, for a webhook's choice of events.
inline constexpr std::string_view all[] = {upload_rejected, upload_failed,      photo_ingested, photo_duplicate,
                                           photo_replaced,  photo_deleted,      album_created,  job_status_changed,
                                           album_idle,      subject_updated};
}  // namespace event

// A bearer token of the HTTP API. Only its SHA-256 is stored; the token is
// shown once, when it is made.
struct ApiToken {
    Id id = 0;
    std::optional<Id> tenant_id;  // none: an operator's token, for every tenant
    std::string label;
    bool read_only = false;       // GET and HEAD only
    int64_t created_ns = 0;
    std::optional<int64_t> revoked_ns;
};

// A tenant's webhook endpoint: the events it is sent, signed with its secret.
struct Webhook {
    Id id = 0;
    Id tenant_id = 0;
    std::string url;
    std::string secret;                    // "whsec_" and base64 of the key (Standard Webhooks)
    std::vector<std::string> event_types;  // empty: every type
    int64_t created_ns = 0;
};

enum class DeliveryState { Pending, Delivered, Failed };
std::string_view to_string(DeliveryState);
std::optional<DeliveryState> parse_delivery_state(std::string_view);

// One event on its way to one endpoint. At most one delivery of a webhook and
// a job is attempted at a time, the oldest: events reach an endpoint in
// their order per job.
struct Delivery {
    Id id = 0;
    Id webhook_id = 0;
    Id event_id = 0;
    Id job_id = 0;
    DeliveryState state = DeliveryState::Pending;
    int attempts = 0;
    int64_t next_attempt_ns = 0;
    std::optional<int> last_status;  // the endpoint's HTTP status at the last attempt
    std::string last_error;          // what went wrong at the last attempt
    int64_t created_ns = 0;
    std::optional<int64_t> done_ns;  // delivered or given up
};

// Where a file sits in its job, as the photographer sees it: "Class 1A/group/a.jpg",
// "Class 1A/a.jpg" (the album's own folder) or "a.jpg" (a flat job); `album`
// names the folder's album.
std::string path_in_job(const Folder& folder, const std::string& filename, const std::string& album);

// Whether the filesystem shows the upload at its path: while it is on its way
// and once ingested; a rejected one while its bytes are kept (refused by the
// ingest service, so that a client can resume or replace it).
bool is_visible(const Upload&);

// What the catalog refuses, in words for an operator or a photographer:
// input to fix ("no tenant named x"), a name taken, a change that a
// concurrent one made impossible.
class CatalogError : public std::runtime_error {
public:
    enum class Kind {
        Invalid,   // the input is wrong
        NotFound,  // what it names does not exist (any more)
        Exists,    // the name or the content is taken
        Conflict,  // the row moved on: its state does not allow the change
    };
    explicit CatalogError(const std::string& message, Kind kind = Kind::Invalid)
        : std::runtime_error(message), kind_(kind) {}
    Kind kind() const noexcept { return kind_; }

private:
    Kind kind_;
};

}  // namespace photodrop
