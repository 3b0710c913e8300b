#include "tests/support/http.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cctype>
#include <functional>

namespace photodrop::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

// Beast's deadlines bind asynchronous operations only: each step here is one,
// run until it completes or the deadline passes (then the socket closes).

HttpResponse http_request(unsigned short port, const HttpRequest& r) {
    HttpResponse out;
    asio::io_context io;
    beast::tcp_stream stream(io);
    http::request<http::string_body> request(http::string_to_verb(r.method), r.target, 11);
    request.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : r.headers) request.set(name, value);
    request.body() = r.body;
    if (!r.body.empty() || r.method == "POST" || r.method == "PATCH") request.prepare_payload();
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(256u << 20);
    if (r.method == "HEAD") parser.skip(true);
    bool done = false;
    stream.expires_after(r.timeout);
    stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), [&](beast::error_code ec) {
        if (ec) return;
        // Read the answer even if the request could not be sent whole: a
        // server may answer a body it refuses before the body is all there.
        http::async_write(stream, request, [&](beast::error_code, size_t) {
            http::async_read(stream, buffer, parser, [&](beast::error_code ec, size_t) { done = !ec; });
        });
    });
    io.run();
    if (!done) return out;
    auto& response = parser.get();
    out.status = static_cast<int>(response.result_int());
    for (const auto& field : response) {
        std::string name(field.name_string());
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        out.headers[name] = std::string(field.value());
    }
    out.body = response.body();
    return out;
}

std::string raw_exchange(unsigned short port, const std::string& bytes, std::chrono::milliseconds timeout) {
    std::string answer;
    asio::io_context io;
    beast::tcp_stream stream(io);
    char chunk[4096];
    std::function<void(beast::error_code, size_t)> on_read = [&](beast::error_code ec, size_t got) {
        if (ec) return;
        answer.append(chunk, got);
        stream.async_read_some(asio::buffer(chunk), on_read);
    };
    stream.expires_after(timeout);  // the whole exchange: a stream that never ends is cut there
    stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), [&](beast::error_code ec) {
        if (ec) return;
        asio::async_write(stream, asio::buffer(bytes), [&](beast::error_code ec, size_t) {
            if (!ec) stream.async_read_some(asio::buffer(chunk), on_read);
        });
    });
    io.run();
    return answer;
}

}  // namespace photodrop::test
