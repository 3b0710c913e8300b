#pragma once
// The ingest service: one io_context thread for the wake-up socket, the
// timers (poll, lease expiry and renewal, purge), signals and HTTP; a pool of
// worker threads that claim uploads and run libvips, each with its own
// catalog connection.

#include "ingest/ingester.hpp"
#include "ingest/retention.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <string>

namespace photodrop::ingest {

struct ServiceOptions {
    std::string catalog;                    // the catalog file
    IngestSettings ingest;
    int workers = 2;
    boost::asio::ip::tcp::endpoint listen;  // health and metrics, loopback
    std::string wake_socket;                // Unix datagram socket photodrop-fs wakes us on
    // How often the queue is looked at without a wake-up.
    std::chrono::milliseconds poll{500};
    // Retention: purged at start and then this often; zero never.
    RetentionSettings retention;
    std::chrono::seconds purge_every{600};
};

// Runs until SIGTERM or SIGINT; then claims nothing more, lets the uploads
// in progress finish, and returns. Throws if it cannot start (catalog,
// socket, listen address).
void run_service(const ServiceOptions& options);

}  // namespace photodrop::ingest
