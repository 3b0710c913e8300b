#include "api/link.hpp"

#include "api/request.hpp"
#include "api/token.hpp"
#include "api/webhooks/signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <fmt/format.h>

#include <charconv>

namespace photodrop::api {

namespace {
std::string unbase64url(std::string_view text) {
    std::string standard(text);
    for (auto& c : standard) c = c == '-' ? '+' : c == '_' ? '/' : c;
    size_t padding = (4 - standard.size() % 4) % 4;
    if (padding == 3) return {};
    standard.append(padding, '=');
    std::string out(standard.size() / 4 * 3, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(standard.data()), static_cast<int>(standard.size()));
    if (n < 0) return {};
    out.resize(static_cast<size_t>(n) - padding);
    return out;
}
}  // namespace

std::string sign_grant(const JobGrant& grant, std::string_view key) {
    std::string body = grant.tenant + '\n' + grant.job + '\n' + std::to_string(grant.expires_s);
    return base64url(body) + "." + base64url(webhooks::hmac_sha256(key, body));
}

std::optional<JobGrant> check_grant(std::string_view text, std::string_view key, int64_t now_s) {
    auto dot = text.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    std::string body = unbase64url(text.substr(0, dot));
    std::string signature = unbase64url(text.substr(dot + 1));
    std::string expected = webhooks::hmac_sha256(key, body);
    if (body.empty() || signature.size() != expected.size() ||
        CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0)
        return std::nullopt;
    auto first = body.find('\n');
    auto second = body.find('\n', first == std::string::npos ? first : first + 1);
    if (first == std::string::npos || second == std::string::npos) return std::nullopt;
    JobGrant grant{body.substr(0, first), body.substr(first + 1, second - first - 1), 0};
    auto digits = std::string_view(body).substr(second + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), grant.expires_s);
    if (ec != std::errc() || end != digits.data() + digits.size() || grant.expires_s <= now_s) return std::nullopt;
    return grant;
}

std::string page_address(const std::string& job, const std::string& tenant) {
    return fmt::format("/jobs/{}?tenant={}", percent_encoded(job), percent_encoded(tenant));
}

std::string new_link_key() { return base64url(random_bytes(32)); }

}  // namespace photodrop::api
