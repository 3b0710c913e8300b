#pragma once
// The OpenAPI 3 document of the API (api/openapi.json, built in).

#include <string>

namespace photodrop::api {

const std::string& openapi_document();

}  // namespace photodrop::api
