#include "api/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <system_error>
#include <vector>

namespace photodrop::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {
tcp::acceptor listen_at(asio::io_context& io, const tcp::endpoint& at) {
    try {
        return tcp::acceptor(io, at);
    } catch (const boost::system::system_error& e) {
        throw std::system_error(e.code().value(), std::generic_category(),
                                fmt::format("cannot listen on {}:{}", at.address().to_string(), at.port()));
    }
}

// The request line as logged: method and target, each byte a log line must
// not hold escaped, and a signed link's grant left out (it opens a job page).
std::string logged(std::string_view text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (text.substr(i).starts_with("grant=")) {
            out += "grant=...";
            while (i + 1 < text.size() && text[i + 1] != '&') ++i;
        } else if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            out += fmt::format("\\x{:02x}", c);
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

template <class Body>
void set_common(http::response<Body>& response, const Reply& reply) {
    response.set(http::field::server, "photodrop-api");
    response.set(http::field::content_type, reply.content_type);
    for (const auto& [name, value] : reply.headers) response.set(name, value);
    bool cache_told = std::any_of(reply.headers.begin(), reply.headers.end(),
                                  [](const auto& h) { return h.first == "Cache-Control"; });
    if (!cache_told && reply.status != 304) response.set(http::field::cache_control, "no-store");
}

// `header`, then the bytes of `file` (none if null) with sendfile(2), not
// copied through user space. The header goes with MSG_MORE, so that it
// leaves in the same packet as the file's first bytes. When the socket takes
// no more (a client that reads slower than it is sent to), the next piece
// goes through `stream`, which waits for the client within its time limit.
asio::awaitable<void> send_file(beast::tcp_stream& stream, const http::response<http::empty_body>& header,
                                const FileSlice* file) {
    auto& socket = stream.socket();
    if (!socket.non_blocking()) socket.non_blocking(true);  // so that send() and sendfile() never wait
    http::fields::writer fields(header, header.version(), header.result_int());
    auto head = fields.get();
    bool more = file && file->length > 0;
    boost::system::error_code ec;
    size_t sent = socket.send(head, more ? MSG_MORE : 0, ec);
    if (ec && ec != asio::error::would_block) throw boost::system::system_error(ec);
    if (sent < beast::buffer_bytes(head)) {
        beast::buffers_suffix<decltype(head)> rest(head);
        rest.consume(ec ? 0 : sent);
        co_await asio::async_write(stream, rest, asio::use_awaitable);
    }
    if (!more) co_return;
    auto failed = [](int error) { return boost::system::system_error(error, boost::system::generic_category()); };
    off_t offset = static_cast<off_t>(file->offset);
    uint64_t left = file->length;
    std::vector<char> piece;
    while (left > 0) {
        ssize_t n = ::sendfile(socket.native_handle(), *file->fd, &offset, std::min<uint64_t>(left, 1u << 30));
        if (n == 0) throw failed(EIO);  // the file became shorter than its Content-Length promised
        if (n > 0) {
            left -= static_cast<uint64_t>(n);
            continue;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN) throw failed(errno);
        piece.resize(static_cast<size_t>(std::min<uint64_t>(left, 65536)));
        ssize_t got = ::pread(*file->fd, piece.data(), piece.size(), offset);
        if (got <= 0) throw failed(got == 0 ? EIO : errno);
        co_await asio::async_write(stream, asio::buffer(piece.data(), static_cast<size_t>(got)), asio::use_awaitable);
        offset += got;
        left -= static_cast<uint64_t>(got);
    }
}

// A refusal before the request could be read whole (too large, malformed).
http::response<http::string_body> refusal(unsigned status, const std::string& code, const std::string& message) {
    http::response<http::string_body> response(static_cast<http::status>(status), 11);
    response.set(http::field::server, "photodrop-api");
    response.set(http::field::content_type, "application/json");
    response.body() = nlohmann::json{{"error", {{"status", status}, {"code", code}, {"message", message}}}}.dump();
    response.keep_alive(false);
    response.prepare_payload();
    return response;
}

// The answer to a request that could not be read whole.
http::response<http::string_body> unreadable(const boost::system::error_code& ec, const ServerLimits& limits) {
    if (ec == http::error::body_limit)
        return refusal(413, "too_large", fmt::format("the body is over {} bytes", limits.max_body_bytes));
    if (ec == http::error::header_limit)
        return refusal(431, "headers_too_large", fmt::format("the headers are over {} bytes", limits.max_header_bytes));
    return refusal(400, "malformed", fmt::format("the request is not HTTP/1.1 as it should be: {}", ec.message()));
}
}  // namespace

Server::Server(asio::io_context& io, const tcp::endpoint& at, Api& api, ServerLimits limits)
    : acceptor_(listen_at(io, at)), api_(api), limits_(limits) {
    asio::co_spawn(acceptor_.get_executor(), accept(), asio::detached);
}

void Server::stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
}

asio::awaitable<void> Server::accept() {
    for (;;) {
        tcp::socket socket(acceptor_.get_executor());
        try {
            socket = co_await acceptor_.async_accept(asio::use_awaitable);
        } catch (const boost::system::system_error& e) {
            if (e.code() == asio::error::operation_aborted || e.code() == asio::error::bad_descriptor) co_return;
            continue;  // e.g. EMFILE: try the next one
        }
        if (*connections_ >= limits_.max_connections) continue;  // the socket closes here
        asio::co_spawn(socket.get_executor(), serve(std::move(socket)), asio::detached);
    }
}

// After a refusal sent before the request was read whole: the sending side
// is shut and what the client still sends is read and dropped (at most 4 MiB,
// 2 s), so that the close does not reset the connection before the client has
// read the refusal.
asio::awaitable<void> Server::linger(beast::tcp_stream& stream) {
    boost::system::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) co_return;
    stream.expires_after(std::chrono::seconds(2));
    std::array<char, 16384> sink;
    for (size_t dropped = 0; dropped < (4u << 20);) {
        size_t got = co_await stream.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
        dropped += got;
    }
}

asio::awaitable<void> Server::send_stream(beast::tcp_stream& stream, EventStream events, unsigned version) {
    http::response<http::empty_body> response(http::status::ok, version);
    response.set(http::field::server, "photodrop-api");
    response.set(http::field::content_type, "text/event-stream");
    response.set(http::field::cache_control, "no-store");
    response.keep_alive(false);  // the body ends when the connection does
    http::response_serializer<http::empty_body> serializer(response);
    stream.expires_after(std::chrono::seconds(30));
    co_await http::async_write_header(stream, serializer, asio::use_awaitable);
    std::string text = "retry: 2000\n\n";
    asio::steady_timer timer(stream.get_executor());
    auto started = std::chrono::steady_clock::now();
    auto last_sent = started;
    Id after = events.after;
    while (std::chrono::steady_clock::now() - started < limits_.stream_seconds) {
        try {
            text += api_.stream_lines(events, after);
        } catch (const std::exception& e) {
            // The catalog is away for now: the client is told nothing new, and asked again.
            fmt::print(stderr, "photodrop-api: a stream could not read the catalog: {}\n", e.what());
        }
        auto now = std::chrono::steady_clock::now();
        if (text.empty() && now - last_sent > std::chrono::seconds(15)) text = ": still here\n\n";
        if (!text.empty()) {
            stream.expires_after(std::chrono::seconds(30));
            co_await asio::async_write(stream, asio::buffer(text), asio::use_awaitable);
            text.clear();
            last_sent = now;
        }
        timer.expires_after(limits_.stream_poll);
        co_await timer.async_wait(asio::use_awaitable);
    }
}

asio::awaitable<void> Server::serve(tcp::socket socket) {
    auto connections = connections_;
    ++*connections;
    struct Leave {
        std::shared_ptr<std::atomic<int>> count;
        ~Leave() { --*count; }
    } leave{connections};

    std::string peer;
    {
        boost::system::error_code ec;
        auto remote = socket.remote_endpoint(ec);
        if (!ec) peer = remote.address().to_string();
    }
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer(8192);
    const auto idle = std::chrono::seconds(limits_.idle_seconds);
    try {
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.header_limit(limits_.max_header_bytes);
            parser.body_limit(limits_.max_body_bytes);
            stream.expires_after(idle);
            boost::system::error_code ec;
            co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
            if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout ||
                ec == asio::error::connection_reset)
                break;
            if (ec) {
                auto response = unreadable(ec, limits_);
                fmt::print(stderr, "photodrop-api: {} \"-\" {} {}\n", peer, response.result_int(), response.body());
                stream.expires_after(idle);
                co_await http::async_write(stream, response, asio::use_awaitable);
                co_await linger(stream);
                break;
            }
            auto started = std::chrono::steady_clock::now();
            const auto& request = parser.get();
            Reply reply = api_.handle(request);
            bool keep = request.keep_alive();
            bool head = request.method() == http::verb::head;
            uint64_t bytes = 0;
            stream.expires_after(std::chrono::seconds(300));  // a large original to a slow client
            if (reply.stream && !head) {
                co_await send_stream(stream, *reply.stream, request.version());
                fmt::print(stderr, "photodrop-api: {} \"GET {}\" 200 stream ended tenant={}\n", peer,
                           logged(std::string_view(request.target().data(), request.target().size())), reply.tenant);
                break;
            }
            if (reply.file && reply.status != 304) {
                http::response<http::empty_body> response(static_cast<http::status>(reply.status), request.version());
                set_common(response, reply);
                bytes = reply.file->length;
                response.keep_alive(keep);
                response.content_length(bytes);
                co_await send_file(stream, response, head ? nullptr : &*reply.file);
            } else {
                http::response<http::string_body> response(static_cast<http::status>(reply.status), request.version());
                set_common(response, reply);
                bytes = reply.body.size();
                response.keep_alive(keep);
                if (reply.status == 304) {
                    bytes = 0;
                } else if (head) {
                    response.content_length(reply.body.size());
                } else {
                    response.body() = std::move(reply.body);
                    response.prepare_payload();
                }
                if (head) {
                    http::response_serializer<http::string_body> serializer(response);
                    co_await http::async_write_header(stream, serializer, asio::use_awaitable);
                } else {
                    co_await http::async_write(stream, response, asio::use_awaitable);
                }
            }
            auto took = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
            fmt::print(stderr, "photodrop-api: {} \"{} {}\" {} {} {:.1f}ms tenant={}\n", peer,
                       logged(std::string_view(request.method_string().data(), request.method_string().size())),
                       logged(std::string_view(request.target().data(), request.target().size())), reply.status,
                       head ? 0 : bytes, took, reply.tenant.empty() ? "-" : reply.tenant);
            if (!keep) break;
        }
        boost::system::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    } catch (const boost::system::system_error&) {
        // The client went away or timed out.
    }
}

}  // namespace photodrop::api
