#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <string>

namespace photodrop::ingest {

// Parses "127.0.0.1:8470" or "[::1]:8470". Throws std::invalid_argument with
// a readable message for anything else, and for an address that is not
// loopback: photodrop's servers (the ingest's health and metrics, the API)
// listen on this host only; a reverse proxy is what faces the network.
boost::asio::ip::tcp::endpoint parse_listen_address(const std::string& text);

}  // namespace photodrop::ingest
