#include "ingest/http_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <chrono>
#include <system_error>

namespace photodrop::ingest {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {
constexpr auto io_timeout = std::chrono::seconds(10);

http::response<http::string_body> respond(const http::request<http::string_body>& request, const HttpRoutes& routes) {
    HttpReply reply;
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
        reply = {405, "text/plain; charset=utf-8", "only GET and HEAD\n"};
    } else {
        std::string_view target(request.target().data(), request.target().size());
        target = target.substr(0, target.find('?'));
        auto route = routes.find(target);
        reply = route == routes.end() ? HttpReply{404, "text/plain; charset=utf-8", "not found\n"} : route->second();
    }
    http::response<http::string_body> response(static_cast<http::status>(reply.status), request.version());
    response.set(http::field::server, "photodrop-ingest");
    response.set(http::field::content_type, reply.content_type);
    response.set(http::field::cache_control, "no-store");
    if (request.method() == http::verb::head) {
        response.content_length(reply.body.size());
    } else {
        response.body() = std::move(reply.body);
        response.prepare_payload();
    }
    if (request.method() != http::verb::get && request.method() != http::verb::head)
        response.set(http::field::allow, "GET, HEAD");
    return response;
}

tcp::acceptor listen_at(asio::io_context& io, const tcp::endpoint& at) {
    try {
        return tcp::acceptor(io, at);
    } catch (const boost::system::system_error& e) {
        throw std::system_error(e.code().value(), std::generic_category(),
                                fmt::format("cannot listen on {}:{}", at.address().to_string(), at.port()));
    }
}
}  // namespace

HttpServer::HttpServer(asio::io_context& io, const tcp::endpoint& at, HttpRoutes routes)
    : acceptor_(listen_at(io, at)), routes_(std::move(routes)) {
    asio::co_spawn(io, accept(), asio::detached);
}

asio::awaitable<void> HttpServer::accept() {
    for (;;) {
        tcp::socket socket(acceptor_.get_executor());
        try {
            socket = co_await acceptor_.async_accept(asio::use_awaitable);
        } catch (const boost::system::system_error& e) {
            if (e.code() == asio::error::operation_aborted) co_return;
            continue;  // e.g. EMFILE: try the next one
        }
        if (*connections_ >= max_connections) continue;  // the socket closes here
        asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket)), asio::detached);
    }
}

asio::awaitable<void> HttpServer::serve(tcp::socket socket) {
    auto connections = connections_;
    ++*connections;
    struct Leave {
        std::shared_ptr<int> count;
        ~Leave() { --*count; }
    } leave{connections};

    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer(8192);
    try {
        for (int served = 0; served < max_requests_per_connection; ++served) {
            http::request_parser<http::string_body> parser;
            parser.header_limit(8192);
            parser.body_limit(4096);
            stream.expires_after(io_timeout);
            co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
            auto request = parser.release();
            auto response = respond(request, routes_);
            bool again = request.keep_alive() && served + 1 < max_requests_per_connection;
            response.keep_alive(again);
            stream.expires_after(io_timeout);
            co_await http::async_write(stream, response, asio::use_awaitable);
            if (!again) break;
        }
        boost::system::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    } catch (const boost::system::system_error&) {
        // The client went away, timed out or sent something we do not serve.
    }
}

}  // namespace photodrop::ingest
