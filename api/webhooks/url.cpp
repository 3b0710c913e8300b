#include "api/webhooks/url.hpp"

#include <boost/asio/ip/address.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace photodrop::webhooks {

std::string Url::host_header() const {
    std::string name = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (port == (tls ? "443" : "80")) return name;
    return name + ":" + port;
}

Url parse_url(std::string_view text) {
    auto bad = [&](std::string_view why) { return UrlError(fmt::format("invalid URL '{}': {}", text, why)); };
    if (std::any_of(text.begin(), text.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; }))
        throw bad("it holds spaces or control characters");
    Url url;
    std::string_view rest;
    auto scheme_end = text.find("://");
    if (scheme_end == std::string_view::npos) throw bad("it must start with http:// or https://");
    std::string scheme(text.substr(0, scheme_end));
    std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
    if (scheme == "https")
        url.tls = true;
    else if (scheme != "http")
        throw bad(fmt::format("the scheme '{}' is not http or https", scheme));
    rest = text.substr(scheme_end + 3);

    auto authority_end = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, authority_end);
    std::string_view tail = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
    if (authority.find('@') != std::string_view::npos) throw bad("user names and passwords do not belong in it");
    if (auto hash = tail.find('#'); hash != std::string_view::npos) tail = tail.substr(0, hash);
    url.target = tail.empty() ? "/" : tail.front() == '?' ? "/" + std::string(tail) : std::string(tail);

    std::string_view port;
    if (authority.starts_with('[')) {
        auto close = authority.find(']');
        if (close == std::string_view::npos) throw bad("an IPv6 address without its ']'");
        url.host = std::string(authority.substr(1, close - 1));
        auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') throw bad("unexpected text after the IPv6 address");
            port = after.substr(1);
        }
    } else {
        auto colon = authority.rfind(':');
        url.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    }
    if (url.host.empty()) throw bad("no host");
    if (!port.empty() || authority.ends_with(':')) {
        int number = 0;
        auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
        if (ec != std::errc{} || end != port.data() + port.size() || number < 1 || number > 65535)
            throw bad(fmt::format("the port '{}' is not a number from 1 to 65535", port));
        url.port = std::to_string(number);
    } else {
        url.port = url.tls ? "443" : "80";
    }
    std::transform(url.host.begin(), url.host.end(), url.host.begin(), [](unsigned char c) { return std::tolower(c); });
    return url;
}

bool is_loopback_host(std::string_view host) {
    if (host == "localhost") return true;
    // An address literal only: "127.example.com" is a name like any other.
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(std::string(host), ec);
    return !ec && address.is_loopback();
}

Url check_endpoint_url(std::string_view text) {
    Url url = parse_url(text);
    if (!url.tls && !is_loopback_host(url.host))
        throw UrlError(
            fmt::format("invalid URL '{}': plain http is allowed only to this machine (127.0.0.1, ::1, "
                        "localhost); use https",
                        text));
    return url;
}

}  // namespace photodrop::webhooks
