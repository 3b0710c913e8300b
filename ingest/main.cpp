// photodrop-ingest: turns queued uploads into catalogued photos.

#include "catalog/config.hpp"
#include "ingest/ingester.hpp"
#include "ingest/listen_address.hpp"
#include "ingest/service.hpp"
#include "ingest/vips_setup.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <vips/vips.h>

#include <filesystem>

namespace {
constexpr int exit_ok = 0;
constexpr int exit_failure = 1;  // could not start, or stopped by an error
constexpr int exit_usage = 2;    // bad flags or settings

int error(int code, const std::string& message) {
    fmt::print(stderr, "photodrop-ingest: error: {}\n", message);
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
    int lease_seconds = 30;
    int purge_minutes = 10;

    CLI::App app("Validates, decodes and files queued uploads as photos in the catalog.", "photodrop-ingest");
    app.footer(
        "Settings come from /etc/photodrop/photodrop.conf (or $PHOTODROP_CONFIG), then PHOTODROP_* variables, then "
        "these flags.\nStops cleanly on SIGTERM or SIGINT.\nExit status: 0 stopped by a signal, 1 could not start or "
        "failed, 2 bad usage.");
    app.add_option("--catalog", config.catalog, "The catalog: a SQLite file, or a postgresql:// URL")->capture_default_str();
    app.add_option("--data", config.data, "The data directory (DATA/<tenant>/...)")->capture_default_str();
    app.add_option("--workers", config.ingest_workers, "Uploads processed at the same time")
        ->capture_default_str()
        ->check(CLI::Range(1, 64));
    app.add_option("--listen", config.ingest_listen, "Loopback address for /healthz and /metrics")
        ->capture_default_str();
    app.add_option("--socket", config.ingest_socket, "Wake-up socket (default DATA/ingest.sock)");
    app.add_option("--lease", lease_seconds, "Seconds a claim lasts unrenewed: how soon a crashed service's uploads "
                                             "are taken up again")
        ->capture_default_str()
        ->check(CLI::Range(1, 3600));
    app.add_option("--purge-every", purge_minutes, "Minutes between purges of what retention lets go (keep_deleted, "
                                                   "keep_rejected, receiving_expiry); also one at start; 0 never")
        ->capture_default_str()
        ->check(CLI::Range(0, 100000));
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);
        return error(exit_usage, fmt::format("{} (see --help)", e.what()));
    }

    if (config.ingest_workers < 1 || config.ingest_workers > 64)
        return error(exit_usage, fmt::format("ingest_workers must be from 1 to 64, not {}", config.ingest_workers));
    if (config.thumbnail_size < 1 || config.preview_size < 1 || config.pixel_limit < 1)
        return error(exit_usage, "thumbnail_size, preview_size and pixel_limit must be positive");

    photodrop::ingest::ServiceOptions options;
    options.catalog = config.catalog;
    options.ingest = photodrop::ingest::ingest_settings(config);
    options.workers = config.ingest_workers;
    options.wake_socket = config.wake_socket();
    options.ingest.lease = std::chrono::seconds(lease_seconds);
    options.retention = photodrop::ingest::retention_settings(config);
    options.purge_every = std::chrono::minutes(purge_minutes);
    try {
        options.listen = photodrop::ingest::parse_listen_address(config.ingest_listen);
    } catch (const std::exception& e) {
        return error(exit_usage, e.what());
    }
    if (std::error_code ec; !std::filesystem::is_directory(config.data, ec))
        return error(exit_failure, fmt::format("the data directory {} does not exist", config.data));

    if (VIPS_INIT(argv[0]) != 0) return error(exit_failure, fmt::format("cannot start libvips: {}", vips_error_buffer()));
    photodrop::ingest::restrict_vips();

    int status = exit_ok;
    try {
        photodrop::ingest::run_service(options);
    } catch (const std::exception& e) {
        status = error(exit_failure, e.what());
    }
    vips_shutdown();
    return status;
}
