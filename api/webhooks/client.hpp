#pragma once
// The HTTP(S) client that takes a message to an endpoint: one POST per
// attempt on a fresh connection, bounded by one deadline from the name
// lookup to the response's status line. https is verified against the
// system's certificate store, with SNI and a check of the host name. The
// response body is not read: only its status counts.

#include "api/webhooks/message.hpp"
#include "api/webhooks/url.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace photodrop::webhooks {

// What came of one attempt. Not an exception: an endpoint that is down is
// an expected outcome, retried later.
struct Outcome {
    std::optional<int> status;  // the endpoint's HTTP status, if it answered
    std::string error;          // why it was not delivered: no answer ("connection refused", ...) or the status
    std::chrono::milliseconds took{0};
    bool delivered() const { return status && *status >= 200 && *status < 300; }
};

class HttpClient {
public:
    // Loads the system's certificate store (throws if OpenSSL cannot set up TLS).
    HttpClient();

    // POSTs `body` with `headers` to `url`, within `timeout` in all. Runs on
    // the caller's executor; an instance serves any number of posts at once
    // from the thread that runs that executor.
    boost::asio::awaitable<Outcome> post(Url url, Headers headers, std::string body, std::chrono::milliseconds timeout);

    // The same, on an io_context of its own, waiting for the outcome.
    Outcome post_now(const Url& url, const Headers& headers, const std::string& body,
                     std::chrono::milliseconds timeout);

private:
    boost::asio::ssl::context tls_;
};

}  // namespace photodrop::webhooks
