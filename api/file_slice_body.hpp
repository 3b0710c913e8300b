#pragma once
// A Beast body that sends bytes [offset, offset + length) of an open file,
// read as it is written out: a Range request for part of a 50 MB original
// costs a 64 KiB buffer, not the file in memory. (Boost 1.74's file_body
// sends whole files only.)

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <utility>

namespace photodrop::api {

struct FileSliceBody {
    struct value_type {
        std::shared_ptr<int> fd;  // closed with the last copy
        uint64_t offset = 0;
        uint64_t length = 0;

        // Opens `path` for reading; false (errno set) if it cannot.
        bool open(const char* path) {
            int raw = ::open(path, O_RDONLY | O_CLOEXEC);
            if (raw < 0) return false;
            fd = std::shared_ptr<int>(new int(raw), [](int* p) {
                ::close(*p);
                delete p;
            });
            return true;
        }
    };

    static uint64_t size(const value_type& body) { return body.length; }

    class writer {
    public:
        using const_buffers_type = boost::asio::const_buffer;

        template <bool isRequest, class Fields>
        writer(const boost::beast::http::header<isRequest, Fields>&, const value_type& body)
            : body_(body), position_(body.offset), remaining_(body.length) {}

        void init(boost::beast::error_code& ec) { ec = {}; }

        boost::optional<std::pair<const_buffers_type, bool>> get(boost::beast::error_code& ec) {
            ec = {};
            if (remaining_ == 0) return boost::none;
            size_t want = static_cast<size_t>(std::min<uint64_t>(remaining_, buffer_->size()));
            ssize_t got = ::pread(*body_.fd, buffer_->data(), want, static_cast<off_t>(position_));
            if (got < 0) {
                ec = boost::beast::error_code(errno, boost::system::generic_category());
                return boost::none;
            }
            if (got == 0) {  // the file became shorter than its Content-Length promised
                ec = boost::beast::error_code(EIO, boost::system::generic_category());
                return boost::none;
            }
            position_ += static_cast<uint64_t>(got);
            remaining_ -= static_cast<uint64_t>(got);
            return std::make_pair(const_buffers_type(buffer_->data(), static_cast<size_t>(got)), remaining_ > 0);
        }

    private:
        const value_type& body_;
        uint64_t position_;
        uint64_t remaining_;
        std::unique_ptr<std::array<char, 65536>> buffer_ = std::make_unique<std::array<char, 65536>>();
    };
};

}  // namespace photodrop::api
