#pragma once
// The job page: GET /jobs/{job} (plain HTML, CSS and a little JavaScript,
// built in), its sign-in form (POST /signin: the token goes into a cookie),
// signed links (?grant=: into a cookie too), and /assets/.

#include "api/auth.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace photodrop::api {

void answer_page(ApiCatalog& catalog, TokenCache& tokens, const Request& request, const Target& target,
                 const std::function<std::string()>& link_key, Reply& reply);

// A file of api/page/ ("job.js"), built in; nullopt if there is none of that name.
std::optional<std::string_view> page_asset(std::string_view name);

}  // namespace photodrop::api
