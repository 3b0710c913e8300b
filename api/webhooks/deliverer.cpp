#include "api/webhooks/deliverer.hpp"

#include "api/webhooks/client.hpp"
#include "api/webhooks/message.hpp"
#include "catalog/catalog.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <iostream>
#include <map>
#include <vector>

namespace photodrop::webhooks {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

int64_t ns_of(std::chrono::milliseconds d) { return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(); }

std::string seconds_text(std::chrono::milliseconds d) {
    return fmt::format("{:.1f} s", static_cast<double>(d.count()) / 1000);
}

// One run of the deliverer: everything here belongs to its thread.
class Run {
public:
    Run(std::string location, DelivererSettings settings)
        : location_(std::move(location)), settings_(std::move(settings)), random_(std::random_device{}()) {
        if (!settings_.log) settings_.log = [](const std::string& line) { std::cerr << line + "\n"; };
    }

    void run(std::stop_token stop) {
        std::stop_callback on_stop(stop, [this] { io_.stop(); });
        asio::co_spawn(io_, poll(), asio::detached);
        io_.run();
        abandon_in_flight();
    }

private:
    ApiCatalog& catalog() {
        if (!catalog_) catalog_ = open_catalog(location_);
        return *catalog_;
    }

    // After an engine's failure: a fresh connection next time.
    void catalog_failed(const std::exception& e, std::string_view doing) {
        settings_.log(fmt::format("webhooks: {}: {}", doing, e.what()));
        catalog_.reset();
    }

    const std::string& tenant_slug(Id tenant_id) {
        auto it = slugs_.find(tenant_id);
        if (it != slugs_.end()) return it->second;
        auto tenant = catalog().tenant(tenant_id);
        return slugs_[tenant_id] = tenant ? tenant->slug : std::to_string(tenant_id);
    }

    asio::awaitable<void> poll() {
        for (;;) {
            bool failed = false;
            try {
                auto& cat = catalog();
                cat.enqueue_deliveries();
                // A few at a time, each batch skipping the webhooks with
                // their share in flight, so that no endpoint takes every slot.
                // A claim stamps the attempt: each one claimed is sent, or
                // (a failure here) due again when its lease runs out.
                int share = std::max(1, settings_.per_webhook);
                for (;;) {
                    int room = settings_.concurrency - static_cast<int>(in_flight_.size());
                    if (room <= 0) break;
                    std::vector<Id> busy;
                    for (const auto& [webhook, count] : per_webhook_)
                        if (count >= share) busy.push_back(webhook);
                    auto claimed = cat.claim_deliveries(ns_of(settings_.lease), std::min(room, share), busy);
                    for (auto& a : claimed) {
                        std::string slug = tenant_slug(a.webhook.tenant_id);
                        in_flight_[a.delivery.id] = a.webhook.id;
                        ++per_webhook_[a.webhook.id];
                        asio::co_spawn(io_, attempt(std::move(a), std::move(slug)), asio::detached);
                    }
                    if (static_cast<int>(claimed.size()) < std::min(room, share)) break;
                }
            } catch (const std::exception& e) {
                catalog_failed(e, "looking for deliveries (trying again in 1 s)");
                failed = true;
            }
            boost::system::error_code cancelled;  // an attempt finished: look again now
            wake_.expires_after(failed ? std::max<std::chrono::milliseconds>(1s, settings_.poll) : settings_.poll);
            co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, cancelled));
        }
    }

    asio::awaitable<void> attempt(DeliveryAttempt a, std::string tenant) {
        Outcome outcome;
        Message message;
        message.type = a.event.type;
        try {
            message = event_message(a.event, tenant);
            auto url = parse_url(a.webhook.url);
            auto headers = signed_headers(message, a.webhook.secret, now_ns() / 1'000'000'000);
            outcome = co_await client_.post(std::move(url), std::move(headers), message.body, settings_.timeout);
        } catch (const std::exception& e) {
            // The endpoint's URL or secret, or the event: as good as a failed attempt.
            outcome.error = e.what();
        }
        settle(a, tenant, message, outcome);
    }

    void settle(const DeliveryAttempt& a, const std::string& tenant, const Message& message, const Outcome& outcome) {
        in_flight_.erase(a.delivery.id);
        if (--per_webhook_[a.webhook.id] <= 0) per_webhook_.erase(a.webhook.id);
        std::string what;
        if (outcome.delivered())
            what = fmt::format("HTTP {}", *outcome.status);
        else
            what = outcome.error;
        std::string then;
        try {
            auto& cat = catalog();
            if (outcome.delivered()) {
                cat.delivery_done(a.delivery.id, *outcome.status);
                then = "delivered";
            } else {
                int64_t now = now_ns();
                std::optional<int64_t> retry_at;
                if (now - a.delivery.created_ns < ns_of(settings_.give_up)) {
                    auto delay = retry_delay(settings_.backoff, a.delivery.attempts, random_);
                    retry_at = now + ns_of(delay);
                    then = "again in " + seconds_text(delay);
                } else {
                    then = "given up";
                }
                cat.delivery_failed(a.delivery.id, outcome.status, outcome.error, retry_at);
            }
        } catch (const std::exception& e) {
            catalog_failed(e, fmt::format("recording delivery {} (due again when its lease runs out)", a.delivery.id));
            then = "not recorded";
        }
        settings_.log(fmt::format("webhook {} of tenant {}: event {} {} job {}: {} in {} ms, attempt {}, {}",
                                  a.webhook.id, tenant, a.event.id, message.type,
                                  a.delivery.job_id ? std::to_string(a.delivery.job_id) : "-", what,
                                  outcome.took.count(), a.delivery.attempts, then));
        wake_.cancel();
    }

    // Stopping: what was on its way is due again at once, not a lease later.
    void abandon_in_flight() {
        for (const auto& [id, webhook] : in_flight_) {
            try {
                catalog().delivery_failed(id, std::nullopt, "stopped during the attempt", now_ns());
            } catch (const std::exception& e) {
                catalog_failed(e, fmt::format("giving back delivery {} (due again when its lease runs out)", id));
            }
        }
        in_flight_.clear();
        per_webhook_.clear();
    }

    std::string location_;
    DelivererSettings settings_;
    std::mt19937_64 random_;
    std::unique_ptr<Catalog> catalog_;  // opened on first use, again after an engine's failure
    std::map<Id, std::string> slugs_;   // tenants' slugs by id: a slug does not change
    std::map<Id, Id> in_flight_;        // deliveries claimed and not settled: their webhooks
    std::map<Id, int> per_webhook_;     // attempts in flight by webhook
    HttpClient client_;
    // Declared last: destroyed first, with the coroutines it holds, which use the members above.
    asio::io_context io_;
    asio::steady_timer wake_{io_};
};

}  // namespace

Deliverer::Deliverer(std::string catalog_location, DelivererSettings settings) {
    auto run = std::make_shared<Run>(std::move(catalog_location), std::move(settings));
    thread_ = std::jthread([run](std::stop_token stop) { run->run(stop); });
}

Deliverer::~Deliverer() { stop(); }

void Deliverer::stop() {
    if (!thread_.joinable()) return;
    thread_.request_stop();
    thread_.join();
}

}  // namespace photodrop::webhooks
