#include "api/auth.hpp"

#include "api/link.hpp"
#include "api/token.hpp"
#include "catalog/text.hpp"

#include <boost/beast/http.hpp>
#include <fmt/format.h>

namespace photodrop::api {

namespace http = boost::beast::http;

namespace {
std::optional<std::string> bearer_token(const Request& request) {
    auto authorization = request[http::field::authorization];
    std::string_view value(authorization.data(), authorization.size());
    if (value.size() > 7 && (value.substr(0, 7) == "Bearer " || value.substr(0, 7) == "bearer "))
        return std::string(value.substr(7));
    return std::nullopt;
}

Caller tenant_named(ApiCatalog& catalog, Caller caller, const Target& target) {
    auto named = target.param("tenant");
    if (caller.tenant) {
        if (named && *named != caller.tenant->slug) throw not_found(fmt::format("no tenant {}", text::shown(*named)));
    } else if (named) {
        caller.tenant = catalog.tenant(*named);
        if (!caller.tenant) throw not_found(fmt::format("no tenant {}", text::shown(*named)));
    }
    return caller;
}
}  // namespace

Caller TokenCache::caller(ApiCatalog& catalog, const std::string& hash) {
    if (auto known = known_.find(hash)) return *known;
    auto found = catalog.token_by_hash(hash);
    if (!found) throw ApiError{401, "unauthorized", "the token is not known, or was revoked"};
    Caller caller{found->read_only, !found->tenant_id, std::nullopt, std::nullopt};
    if (found->tenant_id) {
        caller.tenant = catalog.tenant(*found->tenant_id);
        if (!caller.tenant) throw ApiError{401, "unauthorized", "the token's tenant is gone"};
    }
    known_.remember(hash, caller);
    return caller;
}

std::optional<Caller> find_caller(ApiCatalog& catalog, TokenCache& tokens, const Request& request,
                                  const Target& target, const std::function<std::string()>& link_key) {
    auto token = bearer_token(request);
    if (!token && !request[http::field::authorization].empty())
        throw ApiError{401, "unauthorized", "the Authorization header must be: Bearer <token>"};
    if (!token) token = cookie(request, token_cookie);
    if (token) return tenant_named(catalog, tokens.caller(catalog, token_hash(*token)), target);
    if (auto signed_link = cookie(request, grant_cookie)) {
        auto grant = check_grant(*signed_link, link_key(), now_ns() / 1'000'000'000);
        if (!grant) throw ApiError{401, "unauthorized", "the link has expired or is not one photodrop signed"};
        Caller caller{true, false, catalog.tenant(grant->tenant), grant->job};
        if (!caller.tenant) throw ApiError{401, "unauthorized", "the link's tenant is gone"};
        return tenant_named(catalog, std::move(caller), target);
    }
    return std::nullopt;
}

Caller authenticate(ApiCatalog& catalog, TokenCache& tokens, const Request& request, const Target& target,
                    const std::function<std::string()>& link_key) {
    auto caller = find_caller(catalog, tokens, request, target, link_key);
    if (!caller) throw ApiError{401, "unauthorized", "a token is needed: Authorization: Bearer <token>"};
    return *caller;
}

}  // namespace photodrop::api
