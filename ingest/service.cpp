#include "ingest/service.hpp"

#include "ingest/disk_space.hpp"
#include "ingest/http_server.hpp"
#include "ingest/log.hpp"
#include "ingest/metrics.hpp"
#include "catalog/sql.hpp"
#include "ingest/wake_socket.hpp"
#include "ingest/work_signal.hpp"

#include <utility>  // before Boost 1.74's awaitable.hpp, which needs std::exchange
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <vips/vips.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <thread>
#include <vector>

namespace photodrop::ingest {

namespace asio = boost::asio;

namespace {

// The uploads this service's workers hold claims on, for lease renewal.
class InFlight {
public:
    void add(Id id) {
        std::lock_guard lock(mutex_);
        ids_.insert(id);
    }
    void remove(Id id) {
        std::lock_guard lock(mutex_);
        ids_.erase(id);
    }
    std::vector<Id> ids() const {
        std::lock_guard lock(mutex_);
        return {ids_.begin(), ids_.end()};
    }

private:
    mutable std::mutex mutex_;  // protects ids_
    std::set<Id> ids_;
};

// Whether the data directory has room to work in. Says so in the log when
// that changes. Thread-safe.
class SpaceGate {
public:
    SpaceGate(std::filesystem::path data, int64_t floor) : data_(std::move(data)), floor_(floor) {}

    // False while free space is below the floor. When statvfs fails, the
    // writes themselves will tell.
    bool has_room() {
        auto space = disk_space(data_);
        bool low = space && space->free_bytes < floor_;
        if (waiting_.exchange(low) != low)
            log_event(low ? fmt::format("waiting for disk space: {} free in {}, below the {} the ingest needs; "
                                        "claiming no upload until there is more",
                                        format_size(space->free_bytes), data_.string(), format_size(floor_))
                          : fmt::format("disk space is back: {} free in {}; claiming uploads again",
                                        format_size(space->free_bytes), data_.string()));
        return !low;
    }

    SpaceStatus status() const {
        auto space = disk_space(data_);
        return SpaceStatus{space ? std::optional<int64_t>(space->free_bytes) : std::nullopt, floor_, waiting_.load()};
    }

private:
    const std::filesystem::path data_;
    const int64_t floor_;
    std::atomic<bool> waiting_{false};
};

asio::awaitable<void> every(std::chrono::milliseconds period, std::function<void()> task) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;) {
        timer.expires_after(period);
        co_await timer.async_wait(asio::use_awaitable);
        task();
    }
}

class Service {
public:
    explicit Service(const ServiceOptions& options) : options_(options) {}

    void run() {
        // Open every connection before any thread starts, so that a bad
        // catalog stops the service at once.
        auto io_catalog = open_catalog(options_.catalog);
        std::vector<std::unique_ptr<IngestCatalog>> worker_catalogs;
        for (int i = 0; i < options_.workers; ++i) worker_catalogs.push_back(open_catalog(options_.catalog));

        asio::io_context io;
        asio::signal_set signals(io, SIGTERM, SIGINT);
        WakeSocket wake(io, options_.wake_socket, [this] { work_.notify_one(); });
        HttpServer http(io, options_.listen, routes(*io_catalog));

        signals.async_wait([&](const boost::system::error_code& error, int signal_number) {
            if (error) return;
            log_event(fmt::format("{}: claiming nothing more, finishing {} upload(s) in progress",
                                  signal_number == SIGTERM ? "SIGTERM" : "SIGINT", in_flight_.ids().size()));
            work_.stop();
            io.stop();
        });

        release_expired(*io_catalog);
        auto lease_check = std::max<std::chrono::milliseconds>(std::chrono::seconds(1), options_.ingest.lease / 4);
        auto renewal = std::max<std::chrono::milliseconds>(std::chrono::milliseconds(200), options_.ingest.lease / 3);
        asio::co_spawn(io, every(options_.poll, [this] { work_.notify_one(); }), asio::detached);
        // On PostgreSQL, what a mount on any host queues wakes a worker here
        // at once (NOTIFY); the poll above stays for a lost connection.
        std::jthread listener;
        if (sql::is_postgres_url(options_.catalog))
            listener = std::jthread([this](std::stop_token stop) { listen_for_work(stop); });
        asio::co_spawn(io, every(lease_check, [&] { release_expired(*io_catalog); }), asio::detached);
        asio::co_spawn(io, every(renewal, [&] { renew_leases(*io_catalog); }), asio::detached);
        if (options_.purge_every.count() > 0) {
            // On the io_context: a purge is a few catalog queries and a
            // directory walk per tenant; uploads wait in the kernel meanwhile.
            asio::post(io, [&] { purge(*io_catalog); });
            asio::co_spawn(io, every(options_.purge_every, [&] { purge(*io_catalog); }), asio::detached);
        }

        // Stops and joins the workers however run() is left.
        struct Workers {
            WorkSignal& signal;
            std::vector<std::thread> threads;
            ~Workers() {
                signal.stop();
                for (auto& thread : threads) thread.join();
            }
        } workers{work_, {}};
        for (auto& catalog : worker_catalogs) workers.threads.emplace_back([this, &catalog] { work(*catalog); });
        auto at = http.local_endpoint();
        log_event(fmt::format("started: {} worker(s), catalog {}, data {}, wake-up socket {}, http://{}:{}",
                              options_.workers, sql::redacted(options_.catalog), options_.ingest.data, options_.wake_socket,
                              at.address().to_string(), at.port()));

        io.run();
        work_.stop();
        for (auto& thread : workers.threads) thread.join();
        workers.threads.clear();
        log_event("stopped");
    }

private:
    void work(IngestCatalog& catalog) {
        Ingester ingester(catalog, options_.ingest);
        const int64_t lease_ns = std::chrono::nanoseconds(options_.ingest.lease).count();
        while (!work_.stopping()) {
            uint64_t seen = work_.generation();
            if (!space_.has_room()) {
                work_.wait(seen, options_.poll * 4);
                continue;
            }
            std::optional<Upload> claim;
            try {
                claim = catalog.claim_next(lease_ns);
            } catch (const std::exception& e) {
                log_event(fmt::format("cannot claim from the queue: {}", e.what()));
                work_.wait(seen, std::chrono::seconds(1));
                continue;
            }
            if (!claim) {
                work_.wait(seen, options_.poll * 4);
                continue;
            }
            if (work_.stopping()) {
                give_back(catalog, claim->id);
                break;
            }
            in_flight_.add(claim->id);
            try {
                Outcome outcome = ingester.process(*claim);
                metrics_.record(outcome.result, outcome.elapsed, !outcome.note.empty());
                log_outcome(outcome);
            } catch (const std::exception& e) {  // out of memory, say: the claim runs out and it is retried
                log_event(fmt::format("upload {}: {}", claim->id, e.what()));
            }
            in_flight_.remove(claim->id);
        }
        vips_thread_shutdown();
    }

    void listen_for_work(std::stop_token stop) {
        auto running = [&] { return !stop.stop_requested() && !work_.stopping(); };
        while (running()) {
            try {
                auto c = sql::connect(options_.catalog);
                c->listen(queue_channel);
                while (running())
                    if (c->wait(250)) work_.notify_all();
            } catch (const std::exception& e) {
                log_event(fmt::format("cannot listen for queued uploads, polling meanwhile: {}", e.what()));
                for (int i = 0; i < 20 && running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        }
    }

    static void give_back(IngestCatalog& catalog, Id upload_id) {
        try {
            catalog.release_claim(upload_id);
        } catch (const std::exception& e) {
            log_event(fmt::format("cannot give back upload {} (its claim will run out): {}", upload_id, e.what()));
        }
    }

    void release_expired(IngestCatalog& catalog) {
        try {
            if (int n = catalog.release_expired_leases(); n > 0) {
                log_event(fmt::format("{} claim(s) ran out and went back to the queue", n));
                work_.notify_all();
            }
        } catch (const std::exception& e) {
            log_event(fmt::format("cannot release expired claims: {}", e.what()));
        }
    }

    void purge(IngestCatalog& catalog) {
        try {
            auto report = ingest::purge(catalog, options_.retention, false);
            log_event(fmt::format("purge: {}", report.summary()));
        } catch (const std::exception& e) {
            log_event(fmt::format("purge: cannot read the catalog: {}", e.what()));
        }
    }

    void renew_leases(IngestCatalog& catalog) {
        const int64_t lease_ns = std::chrono::nanoseconds(options_.ingest.lease).count();
        for (Id id : in_flight_.ids()) {
            try {
                catalog.renew_lease(id, lease_ns);
            } catch (const std::exception& e) {
                log_event(fmt::format("cannot renew the claim on upload {}: {}", id, e.what()));
            }
        }
    }

    HttpRoutes routes(IngestCatalog& catalog) {
        HttpRoutes routes;
        routes["/healthz"] = [&catalog] {
            try {
                catalog.queue_stats();
                return HttpReply{200, "text/plain; charset=utf-8", "ok\n"};
            } catch (const std::exception& e) {
                return HttpReply{503, "text/plain; charset=utf-8", fmt::format("catalog unavailable: {}\n", e.what())};
            }
        };
        routes["/metrics"] = [this, &catalog] {
            try {
                return HttpReply{200, "text/plain; version=0.0.4; charset=utf-8",
                                 metrics_.render(catalog.queue_stats(), static_cast<int>(in_flight_.ids().size()),
                                                 space_.status())};
            } catch (const std::exception& e) {
                return HttpReply{503, "text/plain; charset=utf-8", fmt::format("catalog unavailable: {}\n", e.what())};
            }
        };
        return routes;
    }

    const ServiceOptions& options_;
    SpaceGate space_{options_.ingest.data, options_.ingest.min_free_space};
    WorkSignal work_;
    InFlight in_flight_;
    Metrics metrics_;
};

}  // namespace

void run_service(const ServiceOptions& options) { Service(options).run(); }

}  // namespace photodrop::ingest
