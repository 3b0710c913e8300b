#pragma once
// What photodrop-fs reads from the catalog to resolve paths and list
// folders, kept between requests: `ls -l` of a job of 10,000 uploads costs
// one query for the folder, not a few per entry (a round trip each on
// PostgreSQL). Only reads that any request may repeat are kept: jobs by
// name, the planned jobs, users by uid, albums, the uploads of a folder and
// single uploads by path, each filled on its first use.
//
// The whole cache is dropped when it may be stale:
// - this mount is about to use the catalog otherwise, perhaps to change it
//   (Filesystem::with_catalog calls clear());
// - another connection committed a change, where the engine says so cheaply
//   (Catalog::change_stamp(): SQLite);
// - it is `max_age` old, where the engine does not say (PostgreSQL: changes
//   made on other hosts are seen within that).
// Not thread-safe: Filesystem uses it under its catalog lock.

#include "catalog/catalog.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace photodrop::fs {

class MetadataCache {
public:
    explicit MetadataCache(std::chrono::milliseconds max_age) : max_age_(max_age) {}

    void clear();

    std::optional<Job> job(MountCatalog& c, Id tenant_id, const std::string& name);
    std::vector<Job> planned_jobs(MountCatalog& c, Id tenant_id);
    std::optional<SftpUser> user_by_uid(MountCatalog& c, uint32_t uid);
    std::optional<Album> album(MountCatalog& c, Id job_id, const std::string& name);
    std::vector<Album> albums(MountCatalog& c, Id job_id);
    // One upload by path. `for_listing`: the lookup may read the whole folder
    // when it was listed a moment ago (a stat of `ls -l`), not for an
    // operation that is about to change it.
    std::optional<Upload> upload_at(MountCatalog& c, Id job_id, const Folder& folder, const std::string& filename,
                                    bool for_listing);
    std::vector<Upload> uploads_in(MountCatalog& c, Id job_id, const Folder& folder);

private:
    using FolderKey = std::tuple<Id, Id, int, bool>;  // job, album (0: none), section, in its section folder
    using Uploads = std::map<std::string, Upload>;    // a folder's uploads by name
    static FolderKey key_of(Id job_id, const Folder& folder);
    // The folder's uploads, read whole (one query) unless kept.
    const Uploads& folder_of(MountCatalog& c, Id job_id, const Folder& folder);
    // Drops everything if it may be stale; called first by each read.
    void check(MountCatalog& c);

    std::chrono::milliseconds max_age_;
    std::chrono::steady_clock::time_point filled_at_{};
    std::optional<int64_t> stamp_;
    bool empty_ = true;

    std::map<std::pair<Id, std::string>, std::optional<Job>> jobs_;  // by tenant and name
    std::map<Id, std::vector<Job>> planned_;  // by tenant
    std::map<uint32_t, std::optional<SftpUser>> users_;
    std::map<Id, std::vector<Album>> albums_;
    std::map<FolderKey, Uploads> folders_;  // whole folders
    std::map<std::pair<FolderKey, std::string>, std::optional<Upload>> paths_;  // single paths looked up
    // When each folder was last listed, kept across clear(): a name looked up
    // in a folder listed a moment ago (the stats of a long `ls -l` that
    // outlast max_age) reads the folder whole again, not one query per name.
    std::map<FolderKey, std::chrono::steady_clock::time_point> listed_;
    static constexpr std::chrono::seconds listing_lasts{2};
};

}  // namespace photodrop::fs
