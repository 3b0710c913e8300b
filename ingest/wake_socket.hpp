#pragma once
// The Unix datagram socket photodrop-fs sends an upload id to after it queued
// an upload. A datagram is only a hint to look at the queue now: the poll
// timer finds the same work a little later if one is lost.

#include <utility>  // before Boost 1.74's awaitable.hpp, which needs std::exchange
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/datagram_protocol.hpp>

#include <sys/types.h>

#include <functional>
#include <string>

namespace photodrop::ingest {

class WakeSocket {
public:
    // Binds at `path`, replacing a socket file left behind by an earlier run
    // (but nothing that is not a socket); calls `on_wake` on the io_context
    // for every datagram. Throws std::system_error.
    WakeSocket(boost::asio::io_context& io, std::string path, std::function<void()> on_wake);
    // Closes the socket and removes its file, unless another service bound
    // the path since (two services given one path: the later one is woken).
    ~WakeSocket();
    WakeSocket(const WakeSocket&) = delete;
    WakeSocket& operator=(const WakeSocket&) = delete;

private:
    boost::asio::awaitable<void> receive();

    std::string path_;
    boost::asio::local::datagram_protocol::socket socket_;
    std::function<void()> on_wake_;
    std::pair<dev_t, ino_t> bound_{};  // the socket file this one made
};

}  // namespace photodrop::ingest
