// The name checks: any bytes a client can send as a name.
#include "fusefs/policy.hpp"
#include "tests/fuzz/fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace photodrop;
using fuzz::safe_to_show;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view sent(reinterpret_cast<const char*>(data), size);

    auto shown = text::shown(sent);
    FUZZ_CHECK(safe_to_show(shown));
    FUZZ_CHECK(text::shown(shown) == shown || shown.find('\\') != std::string::npos);

    auto nfc = text::nfc(sent);
    FUZZ_CHECK(nfc.has_value() == text::valid_utf8(sent));
    if (nfc) {
        FUZZ_CHECK(text::valid_utf8(*nfc));
        FUZZ_CHECK(text::nfc(*nfc) == *nfc);  // one stored form
    }

    auto verdict = policy::check_name(sent);
    if (verdict) {
        auto stored = policy::normalized_name(sent);
        FUZZ_CHECK(!stored.empty() && stored.size() <= 255);
        FUZZ_CHECK(stored != "." && stored != "..");
        FUZZ_CHECK(stored.find('/') == std::string::npos);
        FUZZ_CHECK(safe_to_show(stored));
        // What is stored passes the same check: the NFD form of an accepted name is accepted as its NFC form.
        FUZZ_CHECK(policy::check_name(stored));
    } else {
        FUZZ_CHECK(!verdict.reason().empty());
        FUZZ_CHECK(safe_to_show(verdict.reason()));
    }
    return 0;
}
