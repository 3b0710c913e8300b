#include "tests/ingest/clients.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <utility>  // before Boost 1.74's Asio headers
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace photodrop::test {

namespace asio = boost::asio;
namespace http = boost::beast::http;

std::string ingest_binary() { return PHOTODROP_INGEST_BINARY; }

HttpAnswer http_get(unsigned short port, const std::string& target) {
    try {
        asio::io_context io;
        asio::ip::tcp::socket socket(io);
        socket.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
        http::request<http::empty_body> request(http::verb::get, target, 11);
        request.set(http::field::host, "127.0.0.1");
        http::write(socket, request);
        boost::beast::flat_buffer buffer;
        http::response<http::string_body> response;
        http::read(socket, buffer, response);
        return {static_cast<int>(response.result_int()), response.body()};
    } catch (const boost::system::system_error&) {
        return {};
    }
}

bool send_wake(const std::filesystem::path& socket_path, const std::string& message) {
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, socket_path.c_str(), sizeof(address.sun_path) - 1);
    ssize_t sent = ::sendto(fd, message.data(), message.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&address),
                            sizeof(address));
    ::close(fd);
    return sent == static_cast<ssize_t>(message.size());
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return true;
}

}  // namespace photodrop::test
