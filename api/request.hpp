#pragma once
// What a request says, read once: its path and query, its form body, its
// cookies; and how a route refuses one (ApiError: an HTTP status, a stable
// code and words for a person, sent as JSON).

#include "api/api.hpp"
#include "catalog/catalog.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace photodrop::api {

struct ApiError {
    unsigned status;
    std::string code;
    std::string message;
};
ApiError not_found(std::string message);
ApiError bad_request(std::string message);

// "%41" -> "A". Throws ApiError (400) for a bad escape.
std::string percent_decoded(std::string_view s);
// Every byte but RFC 3986's unreserved ones as %XX.
std::string percent_encoded(std::string_view s);

// The request target: path segments, percent-decoded, and the query.
struct Target {
    std::vector<std::string> segments;  // "/v1/jobs/job1" -> v1, jobs, job1
    std::map<std::string, std::string> query;
    std::optional<std::string> param(const std::string& name) const;
};
Target parse_target(std::string_view target);

// "a=1&b=x+y" (a query, or a form body) -> {a: 1, b: "x y"}.
std::map<std::string, std::string> parse_form(std::string_view text);

// A query parameter that is a whole number in [min, max]; `fallback` when absent.
int64_t number_param(const Target& t, const std::string& name, int64_t fallback, int64_t min, int64_t max);
// ?after=&limit= (limit 1..1000, default 100).
Page page_of(const Target& t);

// The value of cookie `name`, if the request has it.
std::optional<std::string> cookie(const Request& request, std::string_view name);

// `text` for an HTML page: & < > " ' escaped.
std::string html_escaped(std::string_view text);

}  // namespace photodrop::api
