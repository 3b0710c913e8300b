#pragma once
// The memory that decodes needing a whole image at once may take together
// (a progressive JPEG, an interlaced PNG, HEIC, WebP: ImageHeader::decode_bytes).
// Such a decode waits until the others leave room for it, so that the service
// stays within its memory whatever is uploaded; one that alone needs more than
// the budget is refused. Decodes that stream take nothing from it.

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace photodrop::ingest {

class DecodeBudget {
public:
    // Room for `bytes`, held until it goes out of scope.
    class Admission {
    public:
        Admission(DecodeBudget& budget, int64_t bytes) : budget_(budget), bytes_(bytes) {}
        ~Admission() { budget_.give_back(bytes_); }
        Admission(const Admission&) = delete;
        Admission& operator=(const Admission&) = delete;

    private:
        DecodeBudget& budget_;
        int64_t bytes_;
    };

    // Waits until `bytes` fit within `limit` beside the decodes admitted
    // already. Throws Refusal when `bytes` alone exceed `limit`.
    [[nodiscard]] Admission admit(int64_t bytes, int64_t limit);
    int64_t in_use() const;

private:
    void give_back(int64_t bytes);

    mutable std::mutex mutex_;     // guards in_use_
    std::condition_variable room_;
    int64_t in_use_ = 0;
};

// The budget that this process's workers share.
DecodeBudget& decode_budget();

}  // namespace photodrop::ingest
