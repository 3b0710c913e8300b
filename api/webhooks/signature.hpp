#pragma once
// Signatures as the Standard Webhooks convention writes them
// (https://www.standardwebhooks.com): a secret "whsec_" + base64 of the key,
// and "v1," + base64 of HMAC-SHA256(key, "<msg id>.<timestamp>.<body>").

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace photodrop::webhooks {

// A secret that is not "whsec_" followed by base64 of 24 to 64 bytes.
class SecretError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

// A fresh secret: "whsec_" and base64 of 32 random bytes (OpenSSL's RAND_bytes).
std::string new_secret();

// The key a secret holds (base64-decoded after "whsec_"). Throws SecretError.
std::string secret_key(std::string_view secret);

// HMAC-SHA256 of `data` under `key`, raw bytes (OpenSSL's EVP_MAC).
std::string hmac_sha256(std::string_view key, std::string_view data);

// The value of the webhook-signature header: "v1," + base64(HMAC-SHA256).
// Throws SecretError for a malformed secret.
std::string sign(std::string_view secret, std::string_view msg_id, int64_t timestamp_s, std::string_view body);

}  // namespace photodrop::webhooks
