#pragma once
// Webhook endpoints' URLs: what the HTTP client needs of them, and which ones
// a tenant may register.

#include <stdexcept>
#include <string>
#include <string_view>

namespace photodrop::webhooks {

// A URL the client cannot send to, with what is wrong in an operator's words.
class UrlError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

struct Url {
    bool tls = false;    // https
    std::string host;    // without the brackets of an IPv6 literal
    std::string port;    // "80" and "443" when the URL gives none
    std::string target;  // path and query, "/" at least
    // The Host header: the host (bracketed if IPv6), and the port unless the scheme's default.
    std::string host_header() const;
};

// Parses an absolute http:// or https:// URL. Throws UrlError.
Url parse_url(std::string_view url);

// 127.0.0.1 (any of 127/8), ::1 or localhost.
bool is_loopback_host(std::string_view host);

// The rule for registering an endpoint: http or https, and plain http only to
// this machine (a secret-signed body still travels in the clear otherwise).
// Returns the parsed URL; throws UrlError.
Url check_endpoint_url(std::string_view url);

}  // namespace photodrop::webhooks
