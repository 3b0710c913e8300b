#pragma once
// Who is asking, and about which tenant: a bearer token, the job page's
// cookie holding a token (after its sign-in form), or the cookie of a signed
// job link.

#include "api/caller.hpp"
#include "api/request.hpp"

#include <functional>
#include <optional>
#include <string>

namespace photodrop::api {

// The cookies the job page signs in with.
inline constexpr std::string_view token_cookie = "photodrop_token";
inline constexpr std::string_view grant_cookie = "photodrop_grant";

// The caller of `request`; nullopt when it brings no credentials at all.
// Throws ApiError: 401 for credentials that open nothing, 404 when it names
// (?tenant=) a tenant that is not its own.
// `link_key` gives the key that signs job links.
std::optional<Caller> find_caller(ApiCatalog& catalog, TokenCache& tokens, const Request& request,
                                  const Target& target, const std::function<std::string()>& link_key);

// As find_caller(), but nobody is a 401.
Caller authenticate(ApiCatalog& catalog, TokenCache& tokens, const Request& request, const Target& target,
                    const std::function<std::string()>& link_key);

}  // namespace photodrop::api
