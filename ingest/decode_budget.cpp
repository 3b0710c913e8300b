#include "ingest/decode_budget.hpp"

#include "ingest/refusal.hpp"

#include <fmt/format.h>

namespace photodrop::ingest {

DecodeBudget::Admission DecodeBudget::admit(int64_t bytes, int64_t limit) {
    if (bytes > limit)
        throw Refusal(fmt::format("decoding this image needs {} MiB of memory at once (a progressive or interlaced "
                                  "image this large), over the limit of {} MiB (decode_memory)",
                                  bytes >> 20, limit >> 20));
    std::unique_lock lock(mutex_);
    room_.wait(lock, [&] { return in_use_ + bytes <= limit; });
    in_use_ += bytes;
    return Admission(*this, bytes);
}

int64_t DecodeBudget::in_use() const {
    std::lock_guard lock(mutex_);
    return in_use_;
}

void DecodeBudget::give_back(int64_t bytes) {
    if (bytes == 0) return;
    {
        std::lock_guard lock(mutex_);
        in_use_ -= bytes;
    }
    room_.notify_all();
}

DecodeBudget& decode_budget() {
    static DecodeBudget budget;
    return budget;
}

}  // namespace photodrop::ingest
