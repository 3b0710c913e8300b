// photodrop-api: the platform's side of photodrop (HTTP API, webhooks, job page).

#include "api/api.hpp"
#include "api/idle_albums.hpp"
#include "api/server.hpp"
#include "api/webhooks/deliverer.hpp"
#include "catalog/config.hpp"
#include "ingest/listen_address.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>

#include <csignal>
#include <algorithm>
#include <filesystem>
#include <optional>
#include <thread>
#include <vector>

namespace {
constexpr int exit_ok = 0;
constexpr int exit_failure = 1;  // could not start, or stopped by an error
constexpr int exit_usage = 2;    // bad flags or settings

int error(int code, const std::string& message) {
    fmt::print(stderr, "photodrop-api: error: {}\n", message);
    return code;
}
}  // namespace

int main(int argc, char** argv) {
    photodrop::Config config;
    try {
        config = photodrop::load_config();
    } catch (const std::exception& e) {
        return error(exit_usage, e.what());
    }

    CLI::App app("Serves the platform's HTTP API (/v1), delivers webhooks and serves the job pages.", "photodrop-api");
    app.footer(
        "Settings come from /etc/photodrop/photodrop.conf (or $PHOTODROP_CONFIG), then PHOTODROP_* variables, then "
        "these flags.\nStops cleanly on SIGTERM or SIGINT.\nExit status: 0 stopped by a signal, 1 could not start or "
        "failed, 2 bad usage.");
    app.add_option("--catalog", config.catalog, "The catalog: a SQLite file, or a postgresql:// URL")->capture_default_str();
    app.add_option("--data", config.data, "The data directory (DATA/<tenant>/...)")->capture_default_str();
    app.add_option("--listen", config.api_listen, "Loopback address to serve on (port 0: any free port)")
        ->capture_default_str();
    app.add_option("--threads", config.api_threads, "Requests answered at once")
        ->capture_default_str()
        ->check(CLI::Range(1, 256));
    app.add_option("--webhook-concurrency", config.webhook_concurrency,
                   "Webhook deliveries attempted at once (0: this host delivers none)")
        ->capture_default_str()
        ->check(CLI::Range(0, 1024));
    std::string webhook_timeout = std::to_string(config.webhook_timeout.count()) + "s";
    app.add_option("--webhook-timeout", webhook_timeout, "One delivery attempt at most (10s, 1m, ...)")
        ->capture_default_str();
    std::string album_idle = std::to_string(config.album_idle.count()) + "s";
    app.add_option("--album-idle", album_idle, "No upload into an album this long after one: album.idle (30s, 10m, ...)")
        ->capture_default_str();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);
        return error(exit_usage, fmt::format("{} (see --help)", e.what()));
    }
    if (config.api_threads < 1 || config.api_threads > 256)
        return error(exit_usage, fmt::format("api_threads must be from 1 to 256, not {}", config.api_threads));
    if (config.webhook_concurrency < 0 || config.webhook_concurrency > 1024)
        return error(exit_usage,
                     fmt::format("webhook_concurrency must be from 0 to 1024, not {}", config.webhook_concurrency));
    try {
        config.album_idle = photodrop::parse_duration(album_idle, "--album-idle");
        config.webhook_timeout = photodrop::parse_duration(webhook_timeout, "--webhook-timeout");
    } catch (const std::exception& e) {
        return error(exit_usage, e.what());
    }
    if (config.album_idle.count() < 1) return error(exit_usage, "album_idle must be at least 1s");
    if (config.webhook_timeout.count() < 1)
        return error(exit_usage, "webhook_timeout must be at least 1s");

    boost::asio::ip::tcp::endpoint listen;
    try {
        listen = photodrop::ingest::parse_listen_address(config.api_listen);
    } catch (const std::exception& e) {
        return error(exit_usage, e.what());
    }
    if (std::error_code ec; !std::filesystem::is_directory(config.data, ec))
        return error(exit_failure, fmt::format("the data directory {} does not exist", config.data));

    try {
        photodrop::api::CatalogPool catalogs(config.catalog);
        catalogs.borrow();  // the catalog opens (and is migrated) before the first request
        photodrop::api::Api api(catalogs, photodrop::api::ApiSettings{config.data, config});
        std::optional<photodrop::webhooks::Deliverer> deliverer;
        if (config.webhook_concurrency > 0) {
            photodrop::webhooks::DelivererSettings hooks;
            hooks.timeout = config.webhook_timeout;
            // A claim outlives its attempt; one a crash left is due again after it.
            hooks.lease = 3 * hooks.timeout;
            hooks.concurrency = config.webhook_concurrency;
            hooks.per_webhook = std::max(1, std::min(hooks.per_webhook, config.webhook_concurrency / 2));
            deliverer.emplace(config.catalog, hooks);
        }
        photodrop::api::IdleAlbums idle_albums(config.catalog, config.album_idle,
                                               [](const std::string& line) { fmt::print(stderr, "{}\n", line); });
        // A client gone while a file is sent to it is an EPIPE that ends its
        // connection, not a signal that ends the server (sendfile has no MSG_NOSIGNAL).
        std::signal(SIGPIPE, SIG_IGN);
        boost::asio::io_context io(config.api_threads);
        photodrop::api::Server server(io, listen, api);
        auto at = server.local_endpoint();
        fmt::print(stderr, "photodrop-api: listening on {}:{}\n", at.address().to_string(), at.port());
        boost::asio::signal_set signals(io, SIGTERM, SIGINT);
        signals.async_wait([&](const boost::system::error_code&, int) {
            server.stop();
            io.stop();
        });
        std::vector<std::thread> threads;
        for (int i = 1; i < config.api_threads; ++i) threads.emplace_back([&] { io.run(); });
        io.run();
        for (auto& t : threads) t.join();
        if (deliverer) deliverer->stop();
    } catch (const std::exception& e) {
        return error(exit_failure, e.what());
    }
    return exit_ok;
}
