#include "api/webhooks/signature.hpp"

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <memory>
#include <stdexcept>

namespace photodrop::webhooks {

namespace {

constexpr std::string_view prefix = "whsec_";

std::string openssl_error(std::string_view what) {
    unsigned long code = ERR_get_error();
    char text[256] = "unknown error";
    if (code != 0) ERR_error_string_n(code, text, sizeof text);
    return fmt::format("{}: {}", what, text);
}

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

// Standard base64 with its padding; nullopt-like empty result for anything else.
std::string unbase64(std::string_view text) {
    if (text.empty() || text.size() % 4 != 0) return {};
    std::string out(text.size() / 4 * 3, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (n < 0) return {};
    // EVP_DecodeBlock counts the padding as zero bytes.
    size_t padding = text.ends_with("==") ? 2 : text.ends_with('=') ? 1 : 0;
    out.resize(static_cast<size_t>(n) - padding);
    return out;
}

}  // namespace

std::string new_secret() {
    unsigned char key[32];
    if (RAND_bytes(key, sizeof key) != 1) throw std::runtime_error(openssl_error("RAND_bytes"));
    return std::string(prefix) + base64(std::string_view(reinterpret_cast<const char*>(key), sizeof key));
}

std::string secret_key(std::string_view secret) {
    if (!secret.starts_with(prefix)) throw SecretError("a webhook secret starts with \"whsec_\"");
    std::string key = unbase64(secret.substr(prefix.size()));
    if (key.size() < 24 || key.size() > 64)
        throw SecretError("a webhook secret is \"whsec_\" and base64 of 24 to 64 bytes");
    return key;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
    std::unique_ptr<EVP_MAC, decltype(&EVP_MAC_free)> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr), EVP_MAC_free);
    if (!mac) throw std::runtime_error(openssl_error("EVP_MAC_fetch(HMAC)"));
    std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx(EVP_MAC_CTX_new(mac.get()), EVP_MAC_CTX_free);
    if (!ctx) throw std::runtime_error(openssl_error("EVP_MAC_CTX_new"));
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
    unsigned char out[EVP_MAX_MD_SIZE];
    size_t out_len = 0;
    if (EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) != 1 ||
        EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
        EVP_MAC_final(ctx.get(), out, &out_len, sizeof out) != 1)
        throw std::runtime_error(openssl_error("HMAC-SHA256"));
    return std::string(reinterpret_cast<const char*>(out), out_len);
}

std::string sign(std::string_view secret, std::string_view msg_id, int64_t timestamp_s, std::string_view body) {
    std::string content = fmt::format("{}.{}.{}", msg_id, timestamp_s, body);
    return "v1," + base64(hmac_sha256(secret_key(secret), content));
}

}  // namespace photodrop::webhooks
