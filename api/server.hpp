#pragma once
// photodrop-api's HTTP/1.1 server (Boost.Beast): accepts on one address,
// reads each request within limits, has Api answer it, writes the reply and
// logs one line per request. Requests are answered on the io_context's
// threads; give it as many as requests that may wait on the catalog at once.

#include <utility>  // before Boost 1.74's awaitable.hpp, which needs std::exchange
#include "api/api.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <atomic>
#include <chrono>
#include <memory>

namespace photodrop::api {

struct ServerLimits {
    int max_connections = 512;         // more are closed at once
    uint32_t max_header_bytes = 8192;  // a larger request line and headers: 431
    uint64_t max_body_bytes = 65536;   // a larger body: 413
    int idle_seconds = 30;             // a connection that sends nothing for this long is closed
    std::chrono::milliseconds stream_poll{250};  // how often a job page's stream looks for new events
    std::chrono::seconds stream_seconds{3600};   // a stream ends then; the browser reconnects from its last event
};

class Server {
public:
    // Listens at once; throws std::system_error if the address is taken.
    Server(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& at, Api& api, ServerLimits limits = {});
    boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
    // Stops accepting; connections end after their current request.
    void stop();

private:
    boost::asio::awaitable<void> accept();
    boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);
    boost::asio::awaitable<void> linger(boost::beast::tcp_stream& stream);
    boost::asio::awaitable<void> send_stream(boost::beast::tcp_stream& stream, EventStream events, unsigned version);

    boost::asio::ip::tcp::acceptor acceptor_;
    Api& api_;
    ServerLimits limits_;
    std::shared_ptr<std::atomic<int>> connections_ = std::make_shared<std::atomic<int>>(0);
};

}  // namespace photodrop::api
