#include "api/token.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace photodrop::api {

std::string new_token() {
    std::array<unsigned char, 32> random{};
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1)
        throw std::runtime_error("cannot make a token: the system has no random bytes to give");
    std::array<unsigned char, 48> encoded{};
    int length = EVP_EncodeBlock(encoded.data(), random.data(), static_cast<int>(random.size()));
    std::string token = "pd_";
    for (int i = 0; i < length; ++i) {
        char c = static_cast<char>(encoded[static_cast<size_t>(i)]);
        if (c == '=') break;
        token += c == '+' ? '-' : c == '/' ? '_' : c;
    }
    return token;
}

std::string token_hash(std::string_view token) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (EVP_Digest(token.data(), token.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("cannot hash a token: OpenSSL's SHA-256 failed");
    std::string hex;
    for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
    return hex;
}

}  // namespace photodrop::api
