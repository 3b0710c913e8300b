#pragma once
// receiver.py (a webhook receiver in Python, which checks signatures with
// Python's hmac), run by a test and killed by its PID at the test's end; and
// bounded waits for what it receives.

#include "tests/support/process.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#ifndef PHOTODROP_RECEIVER
#error "PHOTODROP_RECEIVER: the path of tests/api/receiver.py"
#endif

namespace photodrop::test {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// Polls `done` until it holds or `limit` passes; returns whether it held.
inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    auto until = Clock::now() + limit;
    while (Clock::now() < until) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return done();
}

// receiver.py, started for one test and killed (by its PID) at its end.
class Receiver {
public:
    explicit Receiver(const std::filesystem::path& dir, const std::vector<std::string>& tls = {})
        : log_(dir / "requests.jsonl"), config_(dir / "receiver.json") {
        configure(json::object());
        auto port_file = dir / "port";
        std::vector<std::string> argv{"python3",  PHOTODROP_RECEIVER, "--port-file", port_file.string(),
                                      "--log",    log_.string(),      "--config",    config_.string(),
                                      "--lifetime", "120"};
        argv.insert(argv.end(), tls.begin(), tls.end());
        process_ = test::Process(argv, (dir / "receiver.out").string());
        bool up = wait_until([&] { return std::filesystem::exists(port_file); }, std::chrono::seconds(10));
        if (!up) throw std::runtime_error("receiver.py did not start: " + process_.log());
        std::ifstream(port_file) >> port_;
    }

    std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
    int port() const { return port_; }

    // What receiver.py does, by path (see its header).
    void configure(const json& config) {
        auto temporary = config_.string() + ".tmp";
        std::ofstream(temporary) << config.dump();
        std::filesystem::rename(temporary, config_);
    }

    // Every request so far, in the order they came.
    std::vector<json> requests() const {
        std::vector<json> out;
        std::ifstream in(log_);
        std::string line;
        while (std::getline(in, line))
            if (!line.empty()) out.push_back(json::parse(line));
        return out;
    }
    std::vector<json> requests(const std::string& path) const {
        std::vector<json> out;
        for (auto& r : requests())
            if (r["path"] == path) out.push_back(r);
        return out;
    }

private:
    std::filesystem::path log_, config_;
    test::Process process_;
    int port_ = 0;
};

}  // namespace photodrop::test
