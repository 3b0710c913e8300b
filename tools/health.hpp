#pragma once
// Asking photodrop-ingest whether it is alive: GET /healthz on its loopback listener.

#include <chrono>
#include <string>

namespace photodrop::ctl {

struct HealthAnswer {
    bool ok = false;       // it answered 200
    std::string detail;    // "200 OK: <body>" or why there was no good answer
};

// `listen` is "HOST:PORT" (Config::ingest_listen). Never waits longer than `timeout`.
HealthAnswer check_ingest_health(const std::string& listen, std::chrono::milliseconds timeout);

}  // namespace photodrop::ctl
