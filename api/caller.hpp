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
    explicit TokenCache(std::chrono::milliseconds ttl = default_ttl) : ttl_(ttl) {}
    // The caller of the token of that hash, from the cache or else the
    // catalog. Throws ApiError 401 for a token not known or revoked.
    Caller caller(ApiCatalog& catalog, const std::string& hash);

private:
    struct Known {
        Caller caller;
        std::chrono::steady_clock::time_point until;
    };
    static constexpr size_t max_known = 1024;  // then the stale ones go, or all

    const std::chrono::milliseconds ttl_;
    std::mutex mutex_;  // protects known_
    std::unordered_map<std::string, Known> known_;
};

}  // namespace photodrop::api
