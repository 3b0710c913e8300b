#pragma once
// What a webhook is sent: an event as JSON, and the Standard Webhooks headers
// that identify and sign it.

#include "catalog/model.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace photodrop::webhooks {

using Headers = std::vector<std::pair<std::string, std::string>>;

// One message to one endpoint: its webhook-id and its body.
struct Message {
    std::string id;    // the same for every attempt, so that a receiver can drop a repeat
    std::string type;  // the event's type, for the log
    std::string body;  // JSON
};

// An event as the API and the webhooks give it: {"id", "type", "timestamp"
// (RFC 3339, UTC), "tenant" (its slug), "job_id", "album_id", "upload_id",
// "photo_id" (null when not about one), "data" (the event's own)}.
nlohmann::json event_json(const Event& event, const std::string& tenant_slug);

// The message of an event: webhook-id "evt_<event id>" (the same after a
// restart), and the body {"id", "type", "timestamp" (RFC 3339, UTC), "tenant"
// (its slug), "job_id", "album_id", "upload_id", "photo_id" (null when not
// about one), "data" (the event's own)}.
Message event_message(const Event& event, const std::string& tenant_slug);

// A message of type "webhook.test" that `photodropctl webhook test` sends:
// a webhook-id of its own, not an event's.
Message test_message(const Webhook& webhook, const std::string& tenant_slug);

// RFC 3339 in UTC with microseconds: "2026-05-04T10:11:12.345678Z".
std::string rfc3339(int64_t ns);

// The headers of a POST of `message` to an endpoint with `secret`, signed at
// `timestamp_s` (seconds since the epoch, the time of the attempt).
Headers signed_headers(const Message& message, const std::string& secret, int64_t timestamp_s);

}  // namespace photodrop::webhooks
