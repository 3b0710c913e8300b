#include "ingest/content_hash.hpp"

#include "ingest/unique_fd.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>

#include <cerrno>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace photodrop::ingest {

namespace {
struct FreeDigest {
    void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};

void check(int ok, const char* what) {
    if (ok != 1) throw std::runtime_error(fmt::format("OpenSSL {} failed", what));
}
}  // namespace

std::string sha256_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw std::system_error(errno, std::generic_category(), fmt::format("cannot open {}", path));

    std::unique_ptr<EVP_MD_CTX, FreeDigest> ctx(EVP_MD_CTX_new());
    if (!ctx) throw std::bad_alloc();
    check(EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr), "EVP_DigestInit_ex");

    std::vector<unsigned char> buffer(1 << 20);
    for (;;) {
        ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), fmt::format("cannot read {}", path));
        }
        if (n == 0) break;
        check(EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<size_t>(n)), "EVP_DigestUpdate");
    }

    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    check(EVP_DigestFinal_ex(ctx.get(), digest, &length), "EVP_DigestFinal_ex");
    std::string hex;
    hex.reserve(length * 2);
    for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
    return hex;
}

}  // namespace photodrop::ingest
