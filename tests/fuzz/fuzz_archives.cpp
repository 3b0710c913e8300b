// The archive signatures: any first and last bytes of an upload.
#include "fusefs/policy.hpp"
#include "tests/fuzz/fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

using namespace photodrop;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::span<const unsigned char> bytes(data, size);

    auto head = policy::archive_signature(bytes.first(std::min(size, policy::archive_check_bytes)));
    if (head) FUZZ_CHECK(!head->empty());
    // More bytes after the head never hide a signature in it.
    if (head) {
        std::vector<unsigned char> longer(bytes.begin(), bytes.end());
        longer.resize(size + 64, 0xff);
        FUZZ_CHECK(policy::archive_signature(std::span<const unsigned char>(longer).first(
                       std::min(longer.size(), policy::archive_check_bytes))) == head);
    }

    auto tail = policy::archive_trailer(bytes.last(std::min(size, policy::archive_trailer_bytes)));
    if (tail) FUZZ_CHECK(*tail == "ZIP");

    // The same bytes with a ZIP appended (an end-of-central-directory record
    // whose comment is the first bytes of the input) are always found.
    size_t comment = std::min<size_t>(size, 1024);
    std::vector<unsigned char> zipped(bytes.begin(), bytes.end());
    const unsigned char record[22] = {'P', 'K', 5, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                      static_cast<unsigned char>(comment & 0xff), static_cast<unsigned char>(comment >> 8)};
    zipped.insert(zipped.end(), record, record + sizeof record);
    zipped.insert(zipped.end(), data, data + comment);
    std::span<const unsigned char> zipped_span(zipped);
    FUZZ_CHECK(policy::archive_trailer(zipped_span.last(std::min(zipped.size(), policy::archive_trailer_bytes))) == "ZIP");
    return 0;
}
