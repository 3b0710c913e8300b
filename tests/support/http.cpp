#include "tests/support/http.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cctype>

namespace photodrop::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

HttpResponse http_request(unsigned short port, const HttpRequest& r) {
    HttpResponse out;
    try {
        asio::io_context io;
        beast::tcp_stream stream(io);
        stream.expires_after(r.timeout);
        stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
        http::request<http::string_body> request(http::string_to_verb(r.method), r.target, 11);
        request.set(http::field::host, "127.0.0.1");
        for (const auto& [name, value] : r.headers) request.set(name, value);
        request.body() = r.body;
        if (!r.body.empty() || r.method == "POST" || r.method == "PATCH") request.prepare_payload();
        stream.expires_after(r.timeout);
        http::write(stream, request);
        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(256u << 20);
        if (r.method == "HEAD") parser.skip(true);
        stream.expires_after(r.timeout);
        http::read(stream, buffer, parser);
        auto& response = parser.get();
        out.status = static_cast<int>(response.result_int());
        for (const auto& field : response) {
            std::string name(field.name_string());
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
            out.headers[name] = std::string(field.value());
        }
        out.body = response.body();
    } catch (const boost::system::system_error&) {
        out.status = 0;
    }
    return out;
}

std::string raw_exchange(unsigned short port, const std::string& bytes, std::chrono::milliseconds timeout) {
    std::string answer;
    try {
        asio::io_context io;
        beast::tcp_stream stream(io);
        stream.expires_after(timeout);
        stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
        stream.expires_after(timeout);
        asio::write(stream, asio::buffer(bytes));
        char chunk[4096];
        for (;;) {
            stream.expires_after(timeout);
            size_t got = stream.read_some(asio::buffer(chunk));
            answer.append(chunk, got);
        }
    } catch (const boost::system::system_error&) {
        // closed, or timed out: what came is the answer
    }
    return answer;
}

}  // namespace photodrop::test
