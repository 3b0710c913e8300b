#pragma once
// The catalog shared by photodrop-fs, photodrop-ingest and photodropctl.
// The interface is free of SQL so that a PostgreSQL implementation can sit
// beside the SQLite one; open_catalog() picks the implementation.
//
// Every method that writes is one transaction: what must happen together
// (a rename over another file, an overwrite, filing an ingest and its
// duplicate check) is one method. The invariants are the schema's
// constraints (one live upload per path, one photo per job and content hash
// among those not deleted, upload states only along the lifecycle), so that
// they hold for any number of processes and hosts. Methods throw
// CatalogError for what the catalog refuses (an operator's input, a
// constraint), sql::Error for a failure of the engine (transient() when the
// same call may succeed later). An instance is not thread-safe: give each
// thread its own, or lock.

#include "catalog/model.hpp"

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace photodrop {

struct NewUpload {
    Id job_id = 0;
    Folder folder;
    std::string filename;
    uint32_t uid = 0;
    uint32_t mode = 0644;
    UploadState state = UploadState::Receiving;  // Receiving, Rejected or Discarded
    std::string reason;
    std::string data_path;
    std::optional<Id> supersedes_photo_id;
    std::string sent_name;  // Upload::sent_name
};

// Metadata the ingest service extracted, for finish_ingest().
struct IngestResult {
    int width = 0;
    int height = 0;
    std::optional<std::string> captured_at;
    int captured_us = 0;  // sub-seconds of captured_at
    std::string camera_make, camera_model, camera_serial;
    int orientation = 1;
    std::string content_hash;
    std::string original_path, thumbnail_path, preview_path;
    std::string note;  // the damage its decoder got past, in the decoder's words; empty for a clean image
    std::optional<std::string> code;  // the card's code, if it is a card photo
};

// An ingest filed: the photo it became, or the one it duplicates.
struct Filed {
    Photo photo;
    bool duplicate = false;
};

struct QueueStats {
    std::map<UploadState, int64_t> by_state;
    std::optional<int64_t> oldest_queued_ns;  // updated_ns of the oldest queued upload
    int64_t waiting_for_space = 0;            // queued uploads put back by wait_for_space()
};

// The reason of an upload that the ingest service put back for want of disk
// space starts with this; the rest says what ran out.
inline constexpr std::string_view waiting_for_space_reason = "waiting for disk space";

// A deleted photo whose files retention may remove: no photo of its tenant
// that is kept (not deleted, or deleted since the cut-off) and no upload that
// is kept has its content hash.
// A photo as the platform API shows it: with the size of its original in
// bytes, that of the upload it was filed from (the original is those bytes,
// moved into the store), so that showing it reads no file.
struct ListedPhoto {
    Photo photo;
    int64_t size = 0;
};

struct PurgeablePhoto {
    Photo photo;
    std::string tenant;       // the tenant's slug
    int64_t deleted_ns = 0;   // when it was deleted
};

// The channel on which a PostgreSQL catalog announces uploads queued (NOTIFY),
// on commit, to the ingest services of every host.
inline constexpr std::string_view queue_channel = "photodrop_queue";
// The channel on which a PostgreSQL catalog announces events written (NOTIFY), on commit.
inline constexpr std::string_view events_channel = "photodrop_events";

// For Catalog::close_upload(): queue the upload whatever its name.
inline bool queue_always(const Upload&) { return true; }

// The catalog is one implementation seen through narrow interfaces: each
// program holds the part it uses (photodrop-fs a MountCatalog,
// photodrop-ingest an IngestCatalog, photodrop-api an ApiCatalog, photodropctl
// the whole Catalog).

// What every program reads: tenants, jobs, albums, uploads and photos by id or name.
class CatalogReader {
public:
    virtual ~CatalogReader() = default;
    virtual std::optional<Tenant> tenant(const std::string& slug) = 0;
    virtual std::optional<Tenant> tenant(Id id) = 0;
    virtual std::vector<Tenant> tenants() = 0;
    virtual std::optional<Job> job(Id tenant_id, const std::string& name) = 0;
    virtual std::optional<Job> job(Id id) = 0;
    // All jobs of the tenant, or only those of one status; ordered by name.
    virtual std::vector<Job> jobs(Id tenant_id, std::optional<JobStatus> status = std::nullopt) = 0;
    virtual std::optional<SftpUser> user_by_uid(uint32_t uid) = 0;
    virtual std::vector<SftpUser> users(std::optional<Id> tenant_id = std::nullopt) = 0;
    virtual std::optional<Album> album(Id job_id, const std::string& name) = 0;
    virtual std::optional<Album> album(Id id) = 0;
    virtual std::vector<Album> albums(Id job_id) = 0;
    virtual std::optional<Upload> upload(Id id) = 0;
    virtual std::optional<Photo> photo(Id id) = 0;
};

// What photodrop-fs does: folders and the uploads written into them.
class MountCatalog : public virtual CatalogReader {
public:
    // The bytes the tenant's uploads hold, as its quota counts them: the size
    // of each upload whose bytes are kept (data_path set) and that the tenant
    // has not deleted, discarded or had refused (receiving, queued, processing,
    // ingested, failed, and rejected with its bytes kept: is_visible()). Bytes
    // that several uploads share (a duplicate reads its photo's original) count
    // once. Not counted: what the tenant deleted but retention keeps a while
    // (keep_deleted), and the thumbnails and previews made from its photos.
    // For a receiving upload, the size its writer last committed.
    virtual int64_t tenant_use(Id tenant_id) = 0;
    virtual Album add_album(Id job_id, const std::string& name) = 0;
    virtual void set_section_folder(Id album_id, Section section, bool exists) = 0;
    virtual void rename_album(Id album_id, const std::string& new_name) = 0;
    virtual void remove_album(Id album_id) = 0;
    virtual Upload add_upload(const NewUpload& upload) = 0;
    // The visible upload at a path, if any.
    virtual std::optional<Upload> upload_at(Id job_id, const Folder& folder, const std::string& filename) = 0;
    // The visible uploads of one folder, ordered by name.
    virtual std::vector<Upload> uploads_in(Id job_id, const Folder& folder) = 0;
    // Whether any visible upload sits in the album (in any of its folders).
    virtual bool album_has_uploads(Id album_id, std::optional<Folder> only_folder = std::nullopt) = 0;
    // The writer closed the file: records size and mtime and, if it is
    // receiving and `queue_if` says so, queues it. Returns the upload as it is now.
    virtual Upload close_upload(Id upload_id, int64_t size, int64_t mtime_ns,
                                const std::function<bool(const Upload&)>& queue_if = {}) = 0;
    // A writer truncates a receiving, queued, refused or failed upload: it is
    // receiving again. False if it can no longer be written (the ingest
    // service has claimed it, or it is ingested or gone).
    virtual bool reopen(Id upload_id) = 0;
    // An overwrite of an upload that can no longer be written: `old_id` is
    // deleted with `reason` and `replacement` takes its path, together.
    virtual Upload replace_upload(Id old_id, const std::string& reason, const NewUpload& replacement) = 0;
    // A rename: the upload takes `folder`/`filename`; the upload there
    // (`replacing`) is deleted first, in the same transaction; if
    // `queue_if_receiving`, a receiving upload is queued (a temporary name
    // renamed to its real one). Returns whether it was queued. `sent_name`:
    // the name the client asked for, when `filename` is another (Upload::sent_name).
    virtual bool rename_upload(Id upload_id, const Folder& folder, const std::string& filename,
                               std::optional<Id> replacing, bool queue_if_receiving,
                               const std::string& sent_name = {}) = 0;
    // `filename` if no visible upload of the folder has it; else the first of
    // "STEM (2).EXT", "STEM (3).EXT", ... that none has.
    virtual std::string unused_name(Id job_id, const Folder& folder, const std::string& filename) = 0;
    // Queues a receiving upload whose bytes are all committed, if `queue_if`
    // says so: a temporary name renamed to its real one while its writer
    // still held it. Returns whether it queued it.
    virtual bool queue_upload(Id upload_id, const std::function<bool(const Upload&)>& queue_if) = 0;
    // Rejected, and its bytes were not kept: it is no longer shown at its path.
    virtual void reject_without_bytes(Id upload_id, const std::string& reason) = 0;
    virtual void set_attributes(Id upload_id, std::optional<int64_t> size, std::optional<int64_t> mtime_ns,
                                std::optional<uint32_t> mode) = 0;
    // Hides an upload (unlink): cancels it if not yet ingested, marks its photo deleted otherwise.
    virtual void delete_upload(Id upload_id) = 0;
    // A number that changes whenever another connection commits a change,
    // where the engine can tell without a round trip (SQLite's data_version);
    // nullopt where it cannot (PostgreSQL). For caches of what was read.
    virtual std::optional<int64_t> change_stamp() = 0;
};

// What photodrop-ingest does: the queue, filing, and retention (also run by photodropctl purge).
class IngestCatalog : public virtual CatalogReader {
public:
    virtual void set_state(Id upload_id, UploadState state, const std::string& reason = {}) = 0;
    // Claims the oldest queued upload whose back-off has passed: processing, lease set, attempts + 1.
    virtual std::optional<Upload> claim_next(int64_t lease_ns) = 0;
    // Processing uploads whose lease ran out go back to queued; returns how many.
    virtual int release_expired_leases() = 0;
    // Gives a claim back (shutdown): queued again, the attempt not counted.
    virtual void release_claim(Id upload_id) = 0;
    // A transient failure: queued again after `retry_at_ns`, with the error noted.
    virtual void retry_later(Id upload_id, const std::string& error, int64_t retry_at_ns) = 0;
    // Extends the lease of an upload still being processed; false if the claim was lost.
    virtual bool renew_lease(Id upload_id, int64_t lease_ns) = 0;
    // Notes the content hash of an upload being processed, before its original
    // moves into the store, so that a retry after a crash can find it there.
    virtual void note_content_hash(Id upload_id, const std::string& content_hash) = 0;
    // Files an ingest: the photo is inserted and the upload marked ingested;
    // or, when its job has a photo of the same content (not deleted) already,
    // however recently another process filed it, the upload is marked a
    // duplicate of that one. Idempotent: a second call for the same upload
    // returns what the first filed.
    virtual Filed file_ingest(Id upload_id, const IngestResult& result) = 0;
    // Records the upload as a duplicate of a photo already in its job.
    virtual void mark_duplicate(Id upload_id, Id photo_id, const std::string& content_hash) = 0;
    virtual QueueStats queue_stats() = 0;
    // Out of disk space: queued again after `retry_at_ns`, the attempt not
    // counted, the reason "waiting for disk space: <detail>".
    virtual void wait_for_space(Id upload_id, const std::string& detail, int64_t retry_at_ns) = 0;
    // The uploads whose bytes sit in the tenant's staging directory (data_path
    // under <tenant>/staging/), in any state; ordered by id.
    virtual std::vector<Upload> staged_uploads(Id tenant_id) = 0;
    // An upload still receiving that no byte reached for too long: rejected,
    // with `reason` (an incomplete upload: never queued). False if it is no longer receiving.
    virtual bool expire_receiving(Id upload_id, const std::string& reason) = 0;
    // Records that the staged bytes of `seen` were removed (data_path becomes
    // ''), if the row is still as it was read (state, data_path, updated_ns);
    // false otherwise, and the bytes must stay.
    virtual bool mark_bytes_purged(const Upload& seen) = 0;
    // An ingested duplicate whose bytes are still staged (filed before
    // duplicates were pointed at their photo's original): its data_path becomes
    // the original of the photo it duplicates. False if the row changed.
    virtual bool point_duplicate_at_original(const Upload& seen) = 0;
    // Deleted photos of the tenant, deleted before `deleted_before_ns`, whose
    // files are not purged yet and that nothing kept shares (see PurgeablePhoto).
    virtual std::vector<PurgeablePhoto> purgeable_photos(Id tenant_id, int64_t deleted_before_ns) = 0;
    // The files of the store (originals, thumbnails, previews) that a photo of
    // the tenant not yet purged, or an upload, names; only those of one content
    // hash if given. A store file named by none is a leftover.
    virtual std::set<std::string> named_store_files(Id tenant_id, std::optional<std::string> content_hash) = 0;
    // Records that the photo's files are removed, checking again, in the same
    // transaction, that it is still purgeable; its deleted upload loses its
    // data_path. False if it is not (and the files must stay).
    virtual bool mark_photo_purged(Id photo_id, int64_t deleted_before_ns) = 0;
    virtual std::optional<Photo> photo_by_hash(Id job_id, const std::string& content_hash) = 0;
};

// A page of a listing ordered by id: the rows after id `after`, at most `limit`.
struct Page {
    Id after = 0;
    int limit = 100;
};

// A delivery claimed for an attempt: what to send, and where.
struct DeliveryAttempt {
    Delivery delivery;
    Webhook webhook;
    Event event;
};

// What photodrop-api does: jobs as the platform drives them, listings by
// page, the events, API tokens and webhooks with their deliveries.
class ApiCatalog : public virtual CatalogReader {
public:
    // The job's roster (subjects' names), by code.
    virtual std::vector<RosterEntry> roster(Id job_id) = 0;
    virtual Job add_job(Id tenant_id, const std::string& name, const std::string& title, Layout layout,
                        JobStatus status) = 0;
    virtual void set_job_status(Id job_id, JobStatus status) = 0;
    // The job's uploads (or those in one state), by id.
    virtual std::vector<Upload> uploads_page(Id job_id, std::optional<UploadState> state, Page page) = 0;
    // The job's photos not deleted (of one album, one section), by id.
    virtual std::vector<ListedPhoto> photos_page(Id job_id, std::optional<Id> album_id, std::optional<Section> section,
                                                 Page page) = 0;
    // The photo of that id (deleted or not) and its job, in one query: what
    // each of a photo's routes reads; nullopt if there is none.
    virtual std::optional<std::pair<ListedPhoto, Job>> listed_photo(Id photo_id) = 0;
    // The events of one tenant (of every tenant: nullopt) after event `after`,
    // oldest first, at most `limit`. An event is there once the change it
    // reports is committed, and never before an event of a smaller id.
    virtual std::vector<Event> events(std::optional<Id> tenant_id, Id after, int limit) = 0;
    // The id of the last event of the tenant (of every tenant: nullopt); 0 if none.
    virtual Id last_event(std::optional<Id> tenant_id) = 0;
    // album.idle: for each album whose last upload is older than `idle_ns`
    // (and younger than `idle_ns` + `lookback_ns`) and that had uploads since
    // its last such event, an event with what they became (accepted, refused,
    // duplicates, still on their way), by who sent them. Returns how many.
    virtual int report_idle_albums(int64_t idle_ns, int64_t lookback_ns) = 0;
    // The key that signs links to job pages, the same on every host: the one
    // stored, or `candidate` if none is (then stored).
    virtual std::string link_key(const std::string& candidate) = 0;

    virtual ApiToken add_token(std::optional<Id> tenant_id, const std::string& label, const std::string& token_hash,
                               bool read_only) = 0;
    // The token of that hash, unless revoked.
    virtual std::optional<ApiToken> token_by_hash(const std::string& token_hash) = 0;
    // The tokens of one tenant, or every token (nullopt), revoked ones too.
    virtual std::vector<ApiToken> tokens(std::optional<Id> tenant_id) = 0;
    virtual void revoke_token(Id token_id) = 0;

    // A webhook is sent the events written after it was added.
    virtual Webhook add_webhook(Id tenant_id, const std::string& url, const std::string& secret,
                                const std::vector<std::string>& event_types) = 0;
    virtual std::optional<Webhook> webhook(Id id) = 0;
    virtual std::vector<Webhook> webhooks(std::optional<Id> tenant_id) = 0;
    // Removes the endpoint and what was still to be sent to it.
    virtual void remove_webhook(Id id) = 0;
    // Makes a pending delivery of every event written since the last call,
    // for each webhook of its tenant that takes its type. Returns how many.
    virtual int enqueue_deliveries() = 0;
    // Claims for `lease_ns` the deliveries due now that are first of their
    // webhook and job (none of that webhook and job is pending before them),
    // at most `limit`, oldest first, none of the webhooks in `busy` (those the
    // caller has enough attempts in flight to: a slow endpoint must not take
    // every slot). A claim not settled in time is due again.
    virtual std::vector<DeliveryAttempt> claim_deliveries(int64_t lease_ns, int limit,
                                                          const std::vector<Id>& busy = {}) = 0;
    // The endpoint took it (a 2xx).
    virtual void delivery_done(Id delivery_id, int status) = 0;
    // An attempt failed: tried again at `retry_at_ns`, or given up (failed) if none.
    virtual void delivery_failed(Id delivery_id, std::optional<int> status, const std::string& error,
                                 std::optional<int64_t> retry_at_ns) = 0;
    // The tenant's deliveries (or those in one state), newest first: `page.after` 0 starts at the newest.
    virtual std::vector<Delivery> deliveries(Id tenant_id, std::optional<DeliveryState> state, Page page) = 0;
};

// All of it, with what only an operator does (photodropctl): tenants, jobs,
// users, the queue's retries, listings.
class Catalog : public MountCatalog, public IngestCatalog, public ApiCatalog {
public:
    virtual Tenant add_tenant(const std::string& slug, const std::string& name) = 0;
    // Sets the tenant's quota in bytes, or removes it (nullopt: unlimited).
    virtual void set_tenant_quota(Id tenant_id, std::optional<int64_t> quota_bytes) = 0;
    virtual SftpUser add_user(Id tenant_id, const std::string& username, uint32_t uid,
                              const std::vector<Id>& job_ids, const Protocols& protocols = {},
                              std::optional<Id> camera_album_id = std::nullopt) = 0;
    virtual std::optional<SftpUser> user(const std::string& username) = 0;
    virtual void set_user_enabled(Id user_id, bool enabled) = 0;
    virtual void set_user_jobs(Id user_id, const std::vector<Id>& job_ids) = 0;
    virtual void set_user_protocols(Id user_id, const Protocols& protocols) = 0;
    // Removes the login; its uploads keep their uid and lose the link to it.
    virtual void remove_user(Id user_id) = 0;
    // An operator's listing: every upload of the job, or those in one state.
    virtual std::vector<Upload> uploads(Id job_id, std::optional<UploadState> state = std::nullopt) = 0;
    // Queued again for another try; returns how many.
    virtual int retry_uploads(std::optional<Id> upload_id, std::optional<Id> job_id) = 0;
    virtual std::vector<Photo> photos(Id job_id, std::optional<Id> album_id = std::nullopt) = 0;

    // Subjects. Adds the entries to the job's roster, or updates those of a
    // code it has; returns how many. Grouping is not changed by a roster.
    virtual int import_roster(Id job_id, const std::vector<RosterEntry>& entries) = 0;
    // An operator's choice: the photo belongs to subject `code` (none:
    // unassigned), whatever regrouping finds later; subject.updated for the
    // subjects it leaves and joins. The code must be on a card of the job or
    // on its roster (CatalogError NotFound otherwise).
    virtual void assign_subject(Id photo_id, std::optional<std::string> code) = 0;
    // Back to the cards: the operator's choice is dropped and the album regrouped.
    virtual void release_subject(Id photo_id) = 0;
};

// Opens (creating and migrating as needed) the catalog at `location`: the
// path of a SQLite file, or a postgresql:// URL (the database must exist; its
// tables are made).
std::unique_ptr<Catalog> open_catalog(const std::string& location);

}  // namespace photodrop
