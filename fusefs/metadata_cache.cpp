#include "fusefs/metadata_cache.hpp"

namespace photodrop::fs {

void MetadataCache::clear() {
    if (empty_) return;
    jobs_.clear();
    planned_.clear();
    users_.clear();
    albums_.clear();
    folders_.clear();
    paths_.clear();
    auto now = std::chrono::steady_clock::now();
    std::erase_if(listed_, [&](const auto& entry) { return now - entry.second > listing_lasts; });
    empty_ = true;
}

MetadataCache::FolderKey MetadataCache::key_of(Id job_id, const Folder& folder) {
    return {job_id, folder.album_id.value_or(0), static_cast<int>(folder.section), folder.in_section_folder};
}

void MetadataCache::check(MountCatalog& c) {
    auto now = std::chrono::steady_clock::now();
    auto stamp = c.change_stamp();
    if (stamp ? stamp != stamp_ : now - filled_at_ > max_age_) clear();
    if (empty_) {
        filled_at_ = now;
        stamp_ = stamp;
        empty_ = false;
    }
}

std::optional<Job> MetadataCache::job(MountCatalog& c, Id tenant_id, const std::string& name) {
    check(c);
    auto key = std::pair{tenant_id, name};
    auto it = jobs_.find(key);
    if (it == jobs_.end()) it = jobs_.emplace(key, c.job(tenant_id, name)).first;
    return it->second;
}

std::vector<Job> MetadataCache::planned_jobs(MountCatalog& c, Id tenant_id) {
    check(c);
    auto it = planned_.find(tenant_id);
    if (it == planned_.end()) it = planned_.emplace(tenant_id, c.jobs(tenant_id, JobStatus::Planned)).first;
    return it->second;
}

std::optional<SftpUser> MetadataCache::user_by_uid(MountCatalog& c, uint32_t uid) {
    check(c);
    auto it = users_.find(uid);
    if (it == users_.end()) it = users_.emplace(uid, c.user_by_uid(uid)).first;
    return it->second;
}

std::vector<Album> MetadataCache::albums(MountCatalog& c, Id job_id) {
    check(c);
    auto it = albums_.find(job_id);
    if (it == albums_.end()) it = albums_.emplace(job_id, c.albums(job_id)).first;
    return it->second;
}

std::optional<Album> MetadataCache::album(MountCatalog& c, Id job_id, const std::string& name) {
    for (auto& album : albums(c, job_id))
        if (album.name == name) return album;
    return std::nullopt;
}

const MetadataCache::Uploads& MetadataCache::folder_of(MountCatalog& c, Id job_id, const Folder& folder) {
    auto key = key_of(job_id, folder);
    auto it = folders_.find(key);
    if (it == folders_.end()) {
        Uploads by_name;
        for (auto& upload : c.uploads_in(job_id, folder)) by_name.emplace(upload.filename, std::move(upload));
        it = folders_.emplace(key, std::move(by_name)).first;
    }
    return it->second;
}

std::vector<Upload> MetadataCache::uploads_in(MountCatalog& c, Id job_id, const Folder& folder) {
    check(c);
    listed_[key_of(job_id, folder)] = std::chrono::steady_clock::now();
    const auto& listed = folder_of(c, job_id, folder);
    std::vector<Upload> uploads;
    uploads.reserve(listed.size());
    for (const auto& [name, upload] : listed) uploads.push_back(upload);
    return uploads;
}

std::optional<Upload> MetadataCache::upload_at(MountCatalog& c, Id job_id, const Folder& folder,
                                               const std::string& filename, bool for_listing) {
    check(c);
    auto key = key_of(job_id, folder);
    auto recently = listed_.find(key);
    bool listing = for_listing && recently != listed_.end() &&
                   std::chrono::steady_clock::now() - recently->second < listing_lasts;
    if (folders_.count(key) || listing) {
        const auto& listed = folder_of(c, job_id, folder);
        auto it = listed.find(filename);
        return it == listed.end() ? std::nullopt : std::optional<Upload>(it->second);
    }
    auto path = std::pair{key, filename};
    auto it = paths_.find(path);
    if (it == paths_.end()) it = paths_.emplace(path, c.upload_at(job_id, folder, filename)).first;
    return it->second;
}

}  // namespace photodrop::fs
