#pragma once
// The deliverer: takes each event to the webhooks of its tenant that want it,
// signed, at least once, in order per webhook and job, retried with back-off
// for a day (SPEC.md "Events and the platform API").
//
// It runs in a thread of its own, over a catalog connection of its own: it
// makes the deliveries of new events, claims those due (each the first of its
// webhook and job still pending, under a lease), and sends them concurrently,
// each attempt bounded by its timeout. A slow or dead endpoint holds up only
// its own webhook and job, never another webhook or tenant: the next event of
// a job waits for its own predecessor alone, and one webhook has at most
// `per_webhook` of the `concurrency` slots. Another deliverer on another
// host may share the catalog: a claim is one delivery's, for its lease.

#include "api/webhooks/backoff.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>

namespace photodrop::webhooks {

struct DelivererSettings {
    // How often new events and due retries are looked for: the delay of an
    // event on its way out (an attempt finished looks again at once).
    std::chrono::milliseconds poll{200};
    // How long a claimed delivery is ours; one not settled by then (a crash)
    // is due again. Longer than `timeout`.
    std::chrono::milliseconds lease{60'000};
    // One attempt, from the name lookup to the response's status (photodrop.conf: webhook_timeout).
    std::chrono::milliseconds timeout{10'000};
    // A delivery still failing this long after its event is given up (failed).
    std::chrono::milliseconds give_up{std::chrono::hours(24)};
    // Attempts in flight at most (photodrop.conf: webhook_concurrency).
    int concurrency = 32;
    // Attempts in flight to one webhook at most (its jobs' deliveries go out
    // side by side): an endpoint that hangs holds this many slots, not all.
    int per_webhook = 4;
    Backoff backoff;
    // Where each attempt's line goes, and the deliverer's own troubles; default stderr.
    std::function<void(const std::string&)> log;
};

class Deliverer {
public:
    // Starts delivering from the catalog at `catalog_location` (open_catalog()).
    // A catalog that cannot be opened or fails later is logged and tried
    // again; the thread does not end on it.
    explicit Deliverer(std::string catalog_location, DelivererSettings settings = {});
    ~Deliverer();  // stop()
    Deliverer(const Deliverer&) = delete;
    Deliverer& operator=(const Deliverer&) = delete;

    // Stops and joins the thread. Attempts in flight are abandoned and marked
    // due again at once (their endpoint may have had them: at least once).
    void stop();

private:
    std::jthread thread_;
};

}  // namespace photodrop::webhooks
