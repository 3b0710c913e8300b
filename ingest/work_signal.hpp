#pragma once
// How the io_context tells the workers that there may be work: a wake-up
// datagram arrived, the poll timer fired, or a lease ran out. A generation
// count makes sure a notification between a worker's empty claim and its wait
// is not lost.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace photodrop::ingest {

class WorkSignal {
public:
    uint64_t generation() const {
        std::lock_guard lock(mutex_);
        return generation_;
    }
    bool stopping() const {
        std::lock_guard lock(mutex_);
        return stopping_;
    }
    // There may be work: wake one idle worker (one that finds it busy goes on
    // claiming until the queue is empty).
    void notify_one() {
        bump();
        changed_.notify_one();
    }
    void notify_all() {
        bump();
        changed_.notify_all();
    }
    // Shutdown: workers finish what they hold and claim nothing more.
    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        changed_.notify_all();
    }
    // Waits until a notification newer than `seen`, stop(), or the timeout.
    void wait(uint64_t seen, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, timeout, [&] { return stopping_ || generation_ != seen; });
    }

private:
    void bump() {
        std::lock_guard lock(mutex_);
        ++generation_;
    }

    mutable std::mutex mutex_;  // protects generation_ and stopping_
    std::condition_variable changed_;
    uint64_t generation_ = 0;
    bool stopping_ = false;
};

}  // namespace photodrop::ingest
