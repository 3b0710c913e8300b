#include "ingest/wake_socket.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <system_error>

namespace photodrop::ingest {

namespace asio = boost::asio;
using datagram = asio::local::datagram_protocol;

namespace {
void remove_stale_socket(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return;
        throw std::system_error(errno, std::generic_category(), fmt::format("cannot inspect {}", path));
    }
    if (!S_ISSOCK(st.st_mode))
        throw std::system_error(EEXIST, std::generic_category(), fmt::format("{} exists and is not a socket", path));
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        throw std::system_error(errno, std::generic_category(), fmt::format("cannot remove the old socket {}", path));
}
}  // namespace

WakeSocket::WakeSocket(asio::io_context& io, std::string path, std::function<void()> on_wake)
    : path_(std::move(path)), socket_(io), on_wake_(std::move(on_wake)) {
    remove_stale_socket(path_);
    try {
        socket_.open();
        socket_.bind(datagram::endpoint(path_));
    } catch (const boost::system::system_error& e) {
        throw std::system_error(e.code().value(), std::generic_category(),
                                fmt::format("cannot bind the wake-up socket {}", path_));
    }
    struct stat st {};
    if (::lstat(path_.c_str(), &st) == 0) bound_ = {st.st_dev, st.st_ino};
    asio::co_spawn(io, receive(), asio::detached);
}

WakeSocket::~WakeSocket() {
    boost::system::error_code ignored;
    socket_.close(ignored);
    struct stat st {};
    if (::lstat(path_.c_str(), &st) == 0 && std::pair{st.st_dev, st.st_ino} == bound_) ::unlink(path_.c_str());
}

asio::awaitable<void> WakeSocket::receive() {
    std::array<char, 64> buffer{};
    for (;;) {
        try {
            co_await socket_.async_receive(asio::buffer(buffer), asio::use_awaitable);
        } catch (const boost::system::system_error&) {
            co_return;  // closed; the poll timer carries on without us
        }
        on_wake_();
    }
}

}  // namespace photodrop::ingest
