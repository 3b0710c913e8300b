#pragma once
// API tokens: "pd_" and 43 characters of base64url (32 random bytes). The
// catalog keeps only a token's SHA-256, so that a copy of the catalog does
// not let anyone in.

#include <string>
#include <string_view>

namespace photodrop::api {

// A new token, from the system's random source. Throws std::runtime_error if it has none.
std::string new_token();

// The SHA-256 of `token`, in hex: what the catalog stores and looks up.
std::string token_hash(std::string_view token);

}  // namespace photodrop::api
