#pragma once
// The /v1 routes (see api.hpp): JSON in and out, for a caller already known.

#include "api/auth.hpp"

namespace photodrop::api {

void answer_v1(ApiCatalog& catalog, const ApiSettings& settings, RecentPhotos& photos, const Request& request,
               const Target& target, const Caller& caller, Reply& reply);

}  // namespace photodrop::api
