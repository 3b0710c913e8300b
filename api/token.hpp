#pragma once
// API tokens and the keys of signed links. A token is "pd_" and 43
// characters of base64url (32 random bytes); the catalog keeps only its
// SHA-256, so that a copy of the catalog lets nobody in.

#include <string>
#include <string_view>

namespace photodrop::api {

// `count` bytes from the system's random source. Throws std::runtime_error if it has none.
std::string random_bytes(size_t count);

// Base64url without padding (RFC 4648 section 5).
std::string base64url(std::string_view bytes);

// A new token.
std::string new_token();

// The SHA-256 of `token`, in hex: what the catalog stores and looks up.
std::string token_hash(std::string_view token);

}  // namespace photodrop::api
