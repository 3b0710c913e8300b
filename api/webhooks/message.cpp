#include "api/webhooks/message.hpp"

#include "api/webhooks/signature.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <ctime>

namespace photodrop::webhooks {

namespace {

nlohmann::json id_or_null(const std::optional<Id>& id) { return id ? nlohmann::json(*id) : nlohmann::json(nullptr); }

}  // namespace

std::string rfc3339(int64_t ns) {
    std::time_t seconds = static_cast<std::time_t>(ns / 1'000'000'000);
    int64_t micros = (ns % 1'000'000'000) / 1000;
    if (micros < 0) {
        --seconds;
        micros += 1'000'000;
    }
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
}

nlohmann::json event_json(const Event& event, const std::string& tenant_slug) {
    nlohmann::json data = event.data.empty() ? nlohmann::json::object() : nlohmann::json::parse(event.data);
    return {{"id", event.id},
                           {"type", event.type},
                           {"timestamp", rfc3339(event.occurred_ns)},
                           {"tenant", tenant_slug},
                           {"job_id", id_or_null(event.job_id)},
                           {"album_id", id_or_null(event.album_id)},
                           {"upload_id", id_or_null(event.upload_id)},
                           {"photo_id", id_or_null(event.photo_id)},
                           {"data", std::move(data)}};
}

Message event_message(const Event& event, const std::string& tenant_slug) {
    nlohmann::json body = event_json(event, tenant_slug);
    // Names and reasons are what clients sent: keep invalid UTF-8 rather than fail.
    return Message{fmt::format("evt_{}", event.id), event.type,
                   body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

Message test_message(const Webhook& webhook, const std::string& tenant_slug) {
    int64_t now = now_ns();
    nlohmann::json body = {{"id", nullptr},
                           {"type", "webhook.test"},
                           {"timestamp", rfc3339(now)},
                           {"tenant", tenant_slug},
                           {"data", {{"webhook_id", webhook.id}, {"url", webhook.url}}}};
    return Message{fmt::format("test_{}_{}", webhook.id, now), "webhook.test", body.dump()};
}

Headers signed_headers(const Message& message, const std::string& secret, int64_t timestamp_s) {
    return {{"content-type", "application/json"},
            {"user-agent", "photodrop"},
            {"webhook-id", message.id},
            {"webhook-timestamp", std::to_string(timestamp_s)},
            {"webhook-signature", sign(secret, message.id, timestamp_s, message.body)}};
}

}  // namespace photodrop::webhooks
