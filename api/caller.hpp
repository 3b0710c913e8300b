#pragma once
// Who is asking (api/auth.hpp tells it from a request's credentials), and
// the callers of recent tokens.

#include "catalog/catalog.hpp"

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace photodrop::api {

// What was read from the catalog lately, each value remembered for `ttl`
// from when it was read. Thread-safe.
template <class Key, class Value>
class RecentCache {
public:
    explicit RecentCache(std::chrono::milliseconds ttl) : ttl_(ttl) {}
    std::optional<Value> find(const Key& key) {
        std::lock_guard lock(mutex_);
        auto it = known_.find(key);
        if (it == known_.end() || it->second.until <= std::chrono::steady_clock::now()) return std::nullopt;
        return it->second.value;
    }
    void remember(const Key& key, Value value) {
        auto now = std::chrono::steady_clock::now();
        std::lock_guard lock(mutex_);
        if (known_.size() >= max_known) std::erase_if(known_, [&](const auto& k) { return k.second.until <= now; });
        if (known_.size() >= max_known) known_.clear();
        known_.insert_or_assign(key, Known{std::move(value), now + ttl_});
    }

private:
    struct Known {
        Value value;
        std::chrono::steady_clock::time_point until;
    };
    static constexpr size_t max_known = 1024;  // then the stale ones go, or all

    const std::chrono::milliseconds ttl_;
    std::mutex mutex_;  // protects known_
    std::unordered_map<Key, Known> known_;
};

struct Caller {
    bool read_only = false;
    bool all_tenants = false;            // an operator's token
    std::optional<Tenant> tenant;        // whose request it is
    std::optional<std::string> only_job;  // a signed link opens one job
};

// The callers of the tokens seen lately, by token hash, each remembered for
// `ttl` from its lookup: a request with a known token reads no catalog for
// it, and a token revoked (or its tenant removed) is refused within `ttl`.
// Thread-safe.
class TokenCache {
public:
    static constexpr std::chrono::milliseconds default_ttl{1000};
    explicit TokenCache(std::chrono::milliseconds ttl = default_ttl) : known_(ttl) {}
    // The caller of the token of that hash, from the cache or else the
    // catalog. Throws ApiError 401 for a token not known or revoked.
    Caller caller(ApiCatalog& catalog, const std::string& hash);

private:
    RecentCache<std::string, Caller> known_;
};

// The photos whose files were asked for lately, with their jobs, each
// remembered for 1 s: a thumbnail, a preview or an original asked for again
// reads no catalog, and a photo deleted meanwhile is refused within that second.
using RecentPhotos = RecentCache<Id, std::pair<ListedPhoto, Job>>;
inline constexpr std::chrono::milliseconds recent_photo_ttl{1000};

}  // namespace photodrop::api
