#pragma once
// A plain HTTP/1.1 client for the tests (Boost.Beast, one connection per
// request, bounded in time): what the server answered, headers and all.

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace photodrop::test {

struct HttpResponse {
    int status = 0;  // 0: no answer (refused, timed out)
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? "" : it->second;
    }
};

struct HttpRequest {
    std::string method = "GET";
    std::string target = "/";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::chrono::milliseconds timeout{10000};
};

HttpResponse http_request(unsigned short port, const HttpRequest& request);

// Raw bytes to the server and whatever it sends back until it closes or `timeout` passes.
std::string raw_exchange(unsigned short port, const std::string& bytes,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

}  // namespace photodrop::test
