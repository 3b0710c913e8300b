#pragma once
// Signed links to a job page (`photodropctl job link`): who may see which
// job until when, signed with the catalog's link key (ApiCatalog::link_key),
// so that any API host can check them. A link opens that job's page and what
// the page reads, read-only, and nothing else.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace photodrop::api {

struct JobGrant {
    std::string tenant;  // slug
    std::string job;     // name
    int64_t expires_s = 0;
};

// "<base64url of tenant, job and expiry>.<base64url of their HMAC>".
std::string sign_grant(const JobGrant& grant, std::string_view key);

// The grant, if `text` is one signed with `key` and not expired at `now_s`.
std::optional<JobGrant> check_grant(std::string_view text, std::string_view key, int64_t now_s);

// Where a job's page is: "/jobs/<job>?tenant=<slug>", each escaped.
std::string page_address(const std::string& job, const std::string& tenant);

// A new link key: 32 random bytes, base64url.
std::string new_link_key();

}  // namespace photodrop::api
