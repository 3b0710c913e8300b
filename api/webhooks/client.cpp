#include "api/webhooks/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

namespace photodrop::webhooks {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

namespace {

// The request written and the status line read, on a connected stream.
template <class Stream>
asio::awaitable<int> post_on(Stream& stream, const http::request<http::string_body>& request) {
    co_await http::async_write(stream, request, use_awaitable);
    beast::flat_buffer buffer(8192);
    // The header only, at most 8 KiB: the body is no business of ours.
    http::response_parser<http::empty_body> parser;
    parser.header_limit(8192);
    co_await http::async_read_header(stream, buffer, parser, use_awaitable);
    co_return parser.get().result_int();
}

}  // namespace

HttpClient::HttpClient() : tls_(asio::ssl::context::tls_client) {
    tls_.set_default_verify_paths();
    tls_.set_verify_mode(asio::ssl::verify_peer);
    tls_.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
}

asio::awaitable<Outcome> HttpClient::post(Url url, Headers headers, std::string body,
                                          std::chrono::milliseconds timeout) {
    auto started = Clock::now();
    auto deadline = started + timeout;
    auto executor = co_await asio::this_coro::executor;
    Outcome outcome;

    http::request<http::string_body> request{http::verb::post, url.target, 11};
    request.set(http::field::host, url.host_header());
    for (const auto& [name, value] : headers) request.set(name, value);
    request.set(http::field::connection, "close");
    request.body() = std::move(body);
    request.prepare_payload();

    tcp::resolver resolver(executor);
    bool timed_out = false;
    // The name lookup has no timeout of its own; the streams' do the rest.
    // Declared after what it touches: its handler runs (aborted) after they are gone.
    asio::steady_timer watchdog(executor, deadline);
    watchdog.async_wait([&](beast::error_code ec) {
        if (ec) return;
        timed_out = true;
        resolver.cancel();
    });
    try {
        auto endpoints = co_await resolver.async_resolve(url.host, url.port, use_awaitable);
        if (url.tls) {
            beast::ssl_stream<beast::tcp_stream> stream(executor, tls_);
            if (!SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str()))
                throw beast::system_error(
                    beast::error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()));
            stream.set_verify_callback(asio::ssl::host_name_verification(url.host));
            beast::get_lowest_layer(stream).expires_at(deadline);
            co_await beast::get_lowest_layer(stream).async_connect(endpoints, use_awaitable);
            co_await stream.async_handshake(asio::ssl::stream_base::client, use_awaitable);
            outcome.status = co_await post_on(stream, request);
        } else {
            beast::tcp_stream stream(executor);
            stream.expires_at(deadline);
            co_await stream.async_connect(endpoints, use_awaitable);
            outcome.status = co_await post_on(stream, request);
        }
        if (!outcome.delivered()) outcome.error = fmt::format("HTTP {}", *outcome.status);
    } catch (const beast::system_error& e) {
        if (timed_out || e.code() == beast::error::timeout)
            outcome.error = fmt::format("no answer within {} ms", timeout.count());
        else
            outcome.error = e.code().message();
    }
    outcome.took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    co_return outcome;
}

Outcome HttpClient::post_now(const Url& url, const Headers& headers, const std::string& body,
                             std::chrono::milliseconds timeout) {
    asio::io_context io;
    Outcome result;
    std::exception_ptr failure;
    asio::co_spawn(io, post(url, headers, body, timeout), [&](std::exception_ptr e, Outcome o) {
        failure = e;
        result = std::move(o);
    });
    io.run();
    if (failure) std::rethrow_exception(failure);
    return result;
}

}  // namespace photodrop::webhooks
