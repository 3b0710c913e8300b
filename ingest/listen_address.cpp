#include "ingest/listen_address.hpp"

#include <fmt/format.h>

#include <charconv>
#include <stdexcept>

namespace photodrop::ingest {

boost::asio::ip::tcp::endpoint parse_listen_address(const std::string& text) {
    auto bad = [&](std::string_view why) {
        return std::invalid_argument(fmt::format("listen address '{}': {}", text, why));
    };
    auto colon = text.rfind(':');
    if (colon == std::string::npos || colon + 1 == text.size()) throw bad("expected ADDRESS:PORT");
    std::string host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);

    unsigned port = 0;
    const char* first = text.data() + colon + 1;
    const char* last = text.data() + text.size();
    auto [end, ec] = std::from_chars(first, last, port);
    if (ec != std::errc() || end != last || port > 65535) throw bad("the port is not a number from 0 to 65535");

    boost::system::error_code parse_error;
    auto address = boost::asio::ip::make_address(host, parse_error);
    if (parse_error) throw bad("not an IP address");
    if (!address.is_loopback()) throw bad("not a loopback address (photodrop's servers listen on this host only; put a reverse proxy in front)");
    return {address, static_cast<unsigned short>(port)};
}

}  // namespace photodrop::ingest
