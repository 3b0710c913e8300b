#pragma once
// A small HTTP/1.1 server (Boost.Beast) for health and metrics, on a
// loopback address. GET and HEAD only; bounded: a few connections at a time,
// a few requests per connection, small requests, short timeouts.

#include <utility>  // before Boost 1.74's awaitable.hpp, which needs std::exchange
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace photodrop::ingest {

struct HttpReply {
    unsigned status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
};

// Path -> handler; handlers run on the io_context's thread.
using HttpRoutes = std::map<std::string, std::function<HttpReply()>, std::less<>>;

class HttpServer {
public:
    // Listens at once; throws std::system_error if the address is taken.
    HttpServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& at, HttpRoutes routes);
    boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

    static constexpr int max_connections = 32;
    static constexpr int max_requests_per_connection = 100;

private:
    boost::asio::awaitable<void> accept();
    boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);

    boost::asio::ip::tcp::acceptor acceptor_;
    HttpRoutes routes_;
    // Connections being served; touched only on the io_context's thread.
    std::shared_ptr<int> connections_ = std::make_shared<int>(0);
};

}  // namespace photodrop::ingest
