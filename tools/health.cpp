#include "tools/health.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

namespace photodrop::ctl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

HealthAnswer check_ingest_health(const std::string& listen, std::chrono::milliseconds timeout) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) return {false, fmt::format("'{}' is not HOST:PORT", listen)};
    std::string host = listen.substr(0, colon);
    std::string port = listen.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);

    // Asynchronous operations only so that one deadline bounds all of them.
    asio::io_context io;
    tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    http::request<http::empty_body> request{http::verb::get, "/healthz", 11};
    request.set(http::field::host, listen);
    request.set(http::field::user_agent, "photodropctl");
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    beast::error_code failure;
    bool answered = false;

    stream.expires_after(timeout);
    resolver.async_resolve(host, port, [&](beast::error_code ec, tcp::resolver::results_type endpoints) {
        if (ec) return void(failure = ec);
        stream.async_connect(endpoints, [&](beast::error_code ec, const tcp::endpoint&) {
            if (ec) return void(failure = ec);
            http::async_write(stream, request, [&](beast::error_code ec, size_t) {
                if (ec) return void(failure = ec);
                http::async_read(stream, buffer, response, [&](beast::error_code ec, size_t) {
                    if (ec) return void(failure = ec);
                    answered = true;
                });
            });
        });
    });
    io.run_for(timeout + std::chrono::milliseconds(100));

    if (!answered) {
        std::string why = failure ? failure.message() : "no answer in time";
        return {false, fmt::format("GET http://{}/healthz: {}", listen, why)};
    }
    std::string body = response.body().substr(0, response.body().find('\n'));
    if (body.size() > 80) body = body.substr(0, 80) + "...";
    std::string detail = fmt::format("GET http://{}/healthz: {} {}", listen, response.result_int(),
                                     std::string(response.reason()));
    if (!body.empty()) detail += ": " + body;
    return {response.result() == http::status::ok, detail};
}

}  // namespace photodrop::ctl
