#pragma once
// libvips' words for a failure, read safely while other workers use libvips.
//
// libvips keeps a failure's words in one buffer for the whole process, which
// every call appends to and anyone may clear. A worker that cleared it between
// another worker's failure and that one's throw left the other photo with no
// words. So the buffer is cleared only under one lock, and a call that fails
// is run once more under that lock, so that its words are still there when it
// throws. Only failures take the lock; the calls themselves run in parallel.

#include <vips/vips8>

#include <mutex>
#include <stdexcept>
#include <string>

namespace photodrop::ingest {

// A libvips call failed; what() is libvips' words on one line ("" if none).
class VipsFailure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace detail {
std::mutex& vips_words_lock();
// The words of a failure run again under the lock, on one line, repeated
// lines once: "VipsJpeg: ...; ...". Lines that name a file (libvips quotes
// file names) are left out: another worker's failure may have added its own
// meanwhile, and a reason never shows a path of the data directory.
std::string own_words(const std::string& text);
}  // namespace detail

// Forgets a failure whose words are not wanted (a probe that may fail).
void forget_vips_error();

// Runs `call`, a libvips call; a failure throws VipsFailure with its words.
template <class Call>
auto with_vips_words(Call&& call) -> decltype(call()) {
    try {
        return call();
    } catch (const vips::VError&) {
    }
    std::lock_guard lock(detail::vips_words_lock());
    vips_error_clear();
    try {
        return call();
    } catch (const vips::VError& e) {
        std::string words = detail::own_words(e.what());
        vips_error_clear();
        throw VipsFailure(words);
    }
}

}  // namespace photodrop::ingest
