#include "api/request.hpp"

#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <cctype>
#include <charconv>

namespace photodrop::api {

namespace http = boost::beast::http;

ApiError not_found(std::string message) { return {404, "not_found", std::move(message)}; }
ApiError bad_request(std::string message) { return {400, "bad_request", std::move(message)}; }

std::string percent_decoded(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        int value = 0;
        auto [end, ec] = i + 2 < s.size() ? std::from_chars(s.data() + i + 1, s.data() + i + 3, value, 16)
                                          : std::from_chars_result{nullptr, std::errc::invalid_argument};
        if (ec != std::errc() || end != s.data() + i + 3) throw bad_request("the address has a bad %-escape");
        out += static_cast<char>(value);
        i += 2;
    }
    return out;
}

std::string percent_encoded(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') out += static_cast<char>(c);
        else out += fmt::format("%{:02X}", c);
    }
    return out;
}

std::optional<std::string> Target::param(const std::string& name) const {
    auto it = query.find(name);
    if (it == query.end()) return std::nullopt;
    return it->second;
}

std::map<std::string, std::string> parse_form(std::string_view text) {
    std::map<std::string, std::string> out;
    while (!text.empty()) {
        size_t amp = text.find('&');
        std::string pair(text.substr(0, amp));
        for (auto& c : pair)
            if (c == '+') c = ' ';
        size_t eq = pair.find('=');
        std::string key = percent_decoded(std::string_view(pair).substr(0, eq));
        if (!key.empty()) out[key] = eq == std::string::npos ? "" : percent_decoded(std::string_view(pair).substr(eq + 1));
        text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    }
    return out;
}

Target parse_target(std::string_view target) {
    Target t;
    auto question = target.find('?');
    std::string_view path = target.substr(0, question);
    if (!path.starts_with('/')) throw bad_request("the address must start with /");
    for (size_t start = 1; start <= path.size();) {
        size_t slash = path.find('/', start);
        if (slash == std::string_view::npos) slash = path.size();
        if (slash > start) t.segments.push_back(percent_decoded(path.substr(start, slash - start)));
        start = slash + 1;
    }
    if (question != std::string_view::npos) t.query = parse_form(target.substr(question + 1));
    return t;
}

int64_t number_param(const Target& t, const std::string& name, int64_t fallback, int64_t min, int64_t max) {
    auto text = t.param(name);
    if (!text) return fallback;
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc() || end != text->data() + text->size() || value < min || value > max)
        throw bad_request(fmt::format("{} must be a whole number from {} to {}", name, min, max));
    return value;
}

Page page_of(const Target& t) {
    return Page{number_param(t, "after", 0, 0, INT64_MAX),
                static_cast<int>(number_param(t, "limit", Api::default_page, 1, Api::max_page))};
}

std::optional<std::string> cookie(const Request& request, std::string_view name) {
    for (auto it = request.find(http::field::cookie); it != request.end() && it->name() == http::field::cookie; ++it) {
        std::string_view cookies(it->value().data(), it->value().size());
        while (!cookies.empty()) {
            size_t semi = cookies.find(';');
            std::string_view pair = cookies.substr(0, semi);
            while (pair.starts_with(' ')) pair.remove_prefix(1);
            if (pair.starts_with(name) && pair.size() > name.size() && pair[name.size()] == '=')
                return std::string(pair.substr(name.size() + 1));
            cookies = semi == std::string_view::npos ? std::string_view{} : cookies.substr(semi + 1);
        }
    }
    return std::nullopt;
}

std::string html_escaped(std::string_view text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

}  // namespace photodrop::api
