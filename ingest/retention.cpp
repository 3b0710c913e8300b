#include "ingest/retention.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <set>

namespace photodrop::ingest {

namespace fs = std::filesystem;

namespace {

constexpr std::array<std::string_view, 3> store_areas{"originals", "thumbnails", "previews"};

int64_t ns_of(std::chrono::seconds s) { return std::chrono::nanoseconds(s).count(); }

int64_t mtime_ns(const struct stat& st) {
    return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

std::chrono::seconds since(int64_t then_ns, int64_t now) {
    return std::chrono::seconds(std::max<int64_t>(0, (now - then_ns) / 1'000'000'000));
}

// A path the catalog gave, checked to lie inside the tenant's own directory:
// retention never removes anything else, whatever a row says.
bool inside_tenant(const std::string& relative, const std::string& tenant) {
    if (!relative.starts_with(tenant + "/")) return false;
    for (const auto& part : fs::path(relative))
        if (part == ".." || part == ".") return false;
    return true;
}

// The regular files of a directory: names and stat. Missing directory: none.
std::vector<std::pair<std::string, struct stat>> files_in(const fs::path& dir) {
    std::vector<std::pair<std::string, struct stat>> out;
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
    if (!d) return out;
    while (auto* entry = ::readdir(d.get())) {
        std::string name = entry->d_name;
        if (name == "." || name == "..") continue;
        struct stat st {};
        if (::fstatat(::dirfd(d.get()), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
        out.emplace_back(std::move(name), st);
    }
    return out;
}

std::vector<std::string> subdirectories(const fs::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_directory(ec) && !it->is_symlink(ec)) out.push_back(it->path().filename().string());
    return out;
}

bool unfinished(const std::string& name) { return name.starts_with(".") && name.ends_with(".tmp"); }

std::string what_happened(const Upload& u) {
    switch (u.state) {
        case UploadState::Deleted:
            // "abandoned": how expired uploads were marked before they were rejected as incomplete.
            return u.reason.starts_with("cancelled") || u.reason.starts_with("abandoned") ? "cancelled" : "deleted";
        case UploadState::Rejected: return "rejected";
        case UploadState::Discarded: return "discarded";
        default: return std::string(to_string(u.state));
    }
}

// One tenant's purge (or its plan, in a dry run).
class TenantPurge {
public:
    TenantPurge(IngestCatalog& catalog, const RetentionSettings& settings, const Tenant& tenant, bool dry_run,
                PurgeReport& report)
        : catalog_(catalog), settings_(settings), tenant_(tenant), dry_run_(dry_run), report_(report) {}

    void run() {
        auto staged = catalog_.staged_uploads(tenant_.id);
        std::set<std::string> named;
        for (const auto& u : staged) {
            named.insert(u.data_path);
            staged_upload(u);
        }
        orphans(named);
        store_leftovers();
        deleted_photos();
    }

private:
    void staged_upload(const Upload& u) {
        if (!inside_tenant(u.data_path, tenant_.slug)) return;
        struct stat st {};
        bool exists = ::stat(absolute(u.data_path).c_str(), &st) == 0;
        int64_t bytes = exists ? static_cast<int64_t>(st.st_size) : 0;
        switch (u.state) {
            case UploadState::Receiving: {
                // The file's mtime says when the last byte arrived; the row's
                // updated_ns when it was (re)opened. Both must be old.
                int64_t last = std::max(u.updated_ns, exists ? mtime_ns(st) : 0);
                if (last >= now_ - ns_of(settings_.receiving_expiry)) return;
                std::string reason = fmt::format("incomplete upload: no byte for {}", age_text(since(last, now_)));
                if (dry_run_ || catalog_.expire_receiving(u.id, reason))
                    report_.expired.push_back({tenant_.slug, u.id, reason});
                return;
            }
            case UploadState::Deleted:
                if (u.updated_ns < now_ - ns_of(settings_.keep_deleted)) release(u, Leftover::Deleted, bytes);
                return;
            case UploadState::Rejected:
                if (u.updated_ns < now_ - ns_of(settings_.keep_rejected)) release(u, Leftover::Rejected, bytes);
                return;
            case UploadState::Discarded:
                if (u.updated_ns < now_ - ns_of(settings_.keep_rejected)) release(u, Leftover::Discarded, bytes);
                return;
            case UploadState::Ingested:
                if (u.duplicate && u.photo_id) {
                    std::string why = fmt::format("upload {} ({}), a duplicate of photo {}: it reads from its original",
                                                  u.id, u.filename, *u.photo_id);
                    if (dry_run_ || catalog_.point_duplicate_at_original(u))
                        remove(Leftover::Duplicate, u.data_path, bytes, why);
                }
                return;
            default: return;  // queued, processing, failed: live
        }
    }

    void release(const Upload& u, Leftover kind, int64_t bytes) {
        std::string why = fmt::format("upload {} ({}), {} {} ago", u.id, u.filename, what_happened(u),
                                      age_text(since(u.updated_ns, now_)));
        if (dry_run_ || catalog_.mark_bytes_purged(u)) remove(kind, u.data_path, bytes, why);
    }

    void orphans(const std::set<std::string>& named) {
        std::string staging = tenant_.slug + "/staging";
        for (const auto& [name, st] : files_in(absolute(staging))) {
            std::string relative = staging + "/" + name;
            if (named.contains(relative) || !old_leftover(st)) continue;
            remove(Leftover::Orphan, relative, st.st_size,
                   fmt::format("no upload names it; last written {} ago", age_text(since(mtime_ns(st), now_))));
        }
    }

    // Unfinished writes (.tmp) in the store, and renditions that no photo
    // names (an upload deleted while the ingest rendered it, a crash): both
    // once they are old enough that no ingest in progress can still file
    // them. An original is never taken here: a retry after a crash finds it
    // by its hash before any row names it.
    void store_leftovers() {
        auto named = catalog_.named_store_files(tenant_.id, std::nullopt);
        for (auto area : store_areas) {
            std::string top = fmt::format("{}/{}", tenant_.slug, area);
            for (const auto& shard : subdirectories(absolute(top)))
                for (const auto& [name, st] : files_in(absolute(top + "/" + shard))) {
                    std::string relative = fmt::format("{}/{}/{}", top, shard, name);
                    if (!old_leftover(st)) continue;
                    if (unfinished(name))
                        remove(Leftover::Unfinished, relative, st.st_size,
                               fmt::format("an unfinished write, {} old", age_text(since(mtime_ns(st), now_))));
                    else if (area != "originals" && !named.contains(relative))
                        remove(Leftover::Orphan, relative, st.st_size,
                               fmt::format("a rendition no photo names, {} old", age_text(since(mtime_ns(st), now_))));
                }
        }
    }

    void deleted_photos() {
        int64_t cutoff = now_ - ns_of(settings_.keep_deleted);
        for (const auto& p : catalog_.purgeable_photos(tenant_.id, cutoff)) {
            if (!dry_run_ && !catalog_.mark_photo_purged(p.photo.id, cutoff)) continue;
            std::string why = fmt::format("photo {} ({}), deleted {} ago", p.photo.id, p.photo.filename,
                                          age_text(since(p.deleted_ns, now_)));
            for (auto [kind, path] : {std::pair{Leftover::Original, p.photo.original_path},
                                      std::pair{Leftover::Thumbnail, p.photo.thumbnail_path},
                                      std::pair{Leftover::Preview, p.photo.preview_path}}) {
                if (!inside_tenant(path, tenant_.slug) || taken_.contains(path)) continue;
                struct stat st {};
                if (::stat(absolute(path).c_str(), &st) != 0) continue;  // gone already
                remove(kind, path, st.st_size, why);
            }
        }
    }

    bool old_leftover(const struct stat& st) const {
        return mtime_ns(st) < now_ - ns_of(settings_.leftover_age);
    }

    // Removes one file (not in a dry run) and reports it. A file already gone
    // is not reported; one that cannot be removed is a problem.
    void remove(Leftover kind, const std::string& relative, int64_t bytes, std::string why) {
        if (!inside_tenant(relative, tenant_.slug) || !taken_.insert(relative).second) return;
        if (!dry_run_ && ::unlink(absolute(relative).c_str()) != 0) {
            if (errno != ENOENT)
                report_.problems.push_back(fmt::format("cannot remove {}: {}", relative, std::strerror(errno)));
            return;
        }
        report_.removed.push_back({tenant_.slug, kind, relative, bytes, std::move(why)});
    }

    fs::path absolute(const std::string& relative) const { return settings_.data / relative; }

    IngestCatalog& catalog_;
    const RetentionSettings& settings_;
    const Tenant& tenant_;
    bool dry_run_;
    PurgeReport& report_;
    int64_t now_ = now_ns();
    std::set<std::string> taken_;  // paths removed (or planned) in this run
};

std::vector<Tenant> tenants_of(IngestCatalog& catalog, std::optional<Id> tenant_id) {
    if (!tenant_id) return catalog.tenants();
    auto t = catalog.tenant(*tenant_id);
    return t ? std::vector<Tenant>{*t} : std::vector<Tenant>{};
}

}  // namespace

RetentionSettings retention_settings(const Config& config) {
    RetentionSettings s;
    s.data = config.data;
    s.keep_deleted = config.keep_deleted;
    s.keep_rejected = config.keep_rejected;
    s.receiving_expiry = config.receiving_expiry;
    return s;
}

std::string_view to_string(Leftover kind) {
    switch (kind) {
        case Leftover::Deleted: return "deleted";
        case Leftover::Rejected: return "rejected";
        case Leftover::Discarded: return "discarded";
        case Leftover::Duplicate: return "duplicate";
        case Leftover::Orphan: return "orphan";
        case Leftover::Unfinished: return "unfinished";
        case Leftover::Original: return "original";
        case Leftover::Thumbnail: return "thumbnail";
        case Leftover::Preview: return "preview";
    }
    return "unknown";
}

std::map<std::pair<std::string, Leftover>, Tally> PurgeReport::by_tenant_and_kind() const {
    std::map<std::pair<std::string, Leftover>, Tally> out;
    for (const auto& r : removed) out[{r.tenant, r.kind}].add(r.bytes);
    return out;
}

Tally PurgeReport::total() const {
    Tally t;
    for (const auto& r : removed) t.add(r.bytes);
    return t;
}

std::string PurgeReport::summary() const {
    std::string verb = dry_run ? "would remove" : "removed";
    std::string text;
    if (removed.empty()) {
        text = fmt::format("{} nothing", verb);
    } else {
        auto all = total();
        std::string parts;
        for (const auto& [key, tally] : by_tenant_and_kind())
            parts += fmt::format("{}{}: {} {} {}", parts.empty() ? "" : ", ", key.first, tally.files,
                                 to_string(key.second), format_size(tally.bytes));
        text = fmt::format("{} {} file{}, {} ({})", verb, all.files, all.files == 1 ? "" : "s", format_size(all.bytes),
                           parts);
    }
    if (!expired.empty())
        text += fmt::format("; {} abandoned upload{} {}", expired.size(), expired.size() == 1 ? "" : "s",
                            dry_run ? "would expire" : "expired");
    if (!problems.empty())
        text += fmt::format("; {} problem{}, first: {}", problems.size(), problems.size() == 1 ? "" : "s",
                            problems.front());
    return text;
}

PurgeReport purge(IngestCatalog& catalog, const RetentionSettings& settings, bool dry_run, std::optional<Id> tenant_id) {
    PurgeReport report;
    report.dry_run = dry_run;
    for (const auto& tenant : tenants_of(catalog, tenant_id)) TenantPurge(catalog, settings, tenant, dry_run, report).run();
    return report;
}

std::vector<TenantUsage> usage(IngestCatalog& catalog, const RetentionSettings& settings, std::optional<Id> tenant_id) {
    std::vector<TenantUsage> out;
    for (const auto& tenant : tenants_of(catalog, tenant_id)) {
        PurgeReport plan;
        plan.dry_run = true;
        TenantPurge(catalog, settings, tenant, true, plan).run();
        std::set<std::string> purgeable;
        for (const auto& r : plan.removed) purgeable.insert(r.path);

        TenantUsage t;
        t.tenant = tenant.slug;
        std::map<std::pair<std::string, std::string>, UsageLine> lines;
        auto count = [&](const std::string& area, const std::string& kind, const std::string& relative,
                         int64_t bytes) {
            auto& line = lines[{area, kind}];
            line.area = area;
            line.kind = kind;
            line.stored.add(bytes);
            t.total.add(bytes);
            if (purgeable.contains(relative)) {
                line.purgeable.add(bytes);
                t.purgeable.add(bytes);
            }
        };

        std::map<std::string, UploadState> state_of;
        for (const auto& u : catalog.staged_uploads(tenant.id)) state_of[u.data_path] = u.state;
        std::string staging = tenant.slug + "/staging";
        for (const auto& [name, st] : files_in(settings.data / staging)) {
            std::string relative = staging + "/" + name;
            auto it = state_of.find(relative);
            count("staging", it == state_of.end() ? "orphan" : std::string(to_string(it->second)), relative,
                  st.st_size);
        }
        auto named = catalog.named_store_files(tenant.id, std::nullopt);
        for (auto area : store_areas) {
            std::string top = fmt::format("{}/{}", tenant.slug, area);
            for (const auto& shard : subdirectories(settings.data / top))
                for (const auto& [name, st] : files_in(settings.data / top / shard)) {
                    auto relative = fmt::format("{}/{}/{}", top, shard, name);
                    // An original no row names yet waits for the retry of an ingest that stopped
                    // after moving it; a rendition no photo names is a leftover.
                    std::string kind = unfinished(name)              ? "unfinished"
                                       : named.contains(relative)    ? "stored"
                                       : area == "originals"         ? "unfiled"
                                                                     : "orphan";
                    count(std::string(area), kind, relative, st.st_size);
                }
        }
        for (auto& [key, line] : lines) t.lines.push_back(std::move(line));
        out.push_back(std::move(t));
    }
    return out;
}

std::string age_text(std::chrono::seconds age) {
    auto s = age.count();
    if (s < 60) return fmt::format("{}s", s);
    if (s < 3600) return fmt::format("{}m", s / 60);
    if (s < 86400) return fmt::format("{}h", s / 3600);
    return fmt::format("{}d", s / 86400);
}

}  // namespace photodrop::ingest
