#include "api/pages.hpp"

#include "api/link.hpp"
#include "api/token.hpp"
#include "catalog/text.hpp"

#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <map>

namespace photodrop::api {

namespace http = boost::beast::http;

namespace {
constexpr int64_t token_cookie_seconds = 30 * 86400;

// `page` with each {{name}} replaced by its value (values are escaped by the caller).
std::string fill(std::string_view page, const std::map<std::string, std::string>& values) {
    std::string out;
    size_t at = 0;
    while (at < page.size()) {
        size_t open = page.find("{{", at);
        if (open == std::string_view::npos) break;
        size_t close = page.find("}}", open);
        if (close == std::string_view::npos) break;
        out.append(page.substr(at, open - at));
        auto it = values.find(std::string(page.substr(open + 2, close - open - 2)));
        if (it != values.end()) out += it->second;
        at = close + 2;
    }
    out.append(page.substr(at));
    return out;
}

void html(Reply& reply, unsigned status, std::string body) {
    reply.status = status;
    reply.content_type = "text/html; charset=utf-8";
    reply.body = std::move(body);
    reply.headers.emplace_back("Content-Security-Policy",
                               "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'");
    reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
    reply.headers.emplace_back("Referrer-Policy", "no-referrer");
}

void sign_in_page(Reply& reply, unsigned status, const std::string& job, const std::string& next, const std::string& error) {
    html(reply, status,
         fill(*page_asset("signin.html"), {{"job", html_escaped(text::shown(job))},
                                           {"next_attr", html_escaped(next)},
                                           {"error", html_escaped(error)}}));
}

void redirect(Reply& reply, const std::string& location) {
    reply.status = 303;
    reply.content_type = "text/plain; charset=utf-8";
    reply.headers.emplace_back("Location", location);
}

std::string set_cookie(const Request& request, std::string_view name, const std::string& value, int64_t seconds) {
    auto proto = request["X-Forwarded-Proto"];
    bool secure = std::string_view(proto.data(), proto.size()) == "https";
    return fmt::format("{}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{}", name, value, seconds,
                       secure ? "; Secure" : "");
}

void job_page(ApiCatalog& catalog, TokenCache& tokens, const Request& request, const Target& target,
              const std::function<std::string()>& link_key, Reply& reply) {
    const std::string& name = target.segments[1];
    std::string self = std::string(request.target().data(), request.target().size());
    if (auto grant_text = target.param("grant")) {
        auto grant = check_grant(*grant_text, link_key(), now_ns() / 1'000'000'000);
        if (!grant || grant->job != name)
            return sign_in_page(reply, 401, name, "", "This link has expired or is not a link to this job. Ask for a new one, or sign in with a token.");
        reply.headers.emplace_back("Set-Cookie", set_cookie(request, grant_cookie, *grant_text,
                                                            grant->expires_s - now_ns() / 1'000'000'000));
        return redirect(reply, page_address(grant->job, grant->tenant));
    }
    std::optional<Caller> caller;
    try {
        caller = find_caller(catalog, tokens, request, target, link_key);
    } catch (const ApiError& e) {
        if (e.status != 401) throw;
        return sign_in_page(reply, 401, name, self, "That sign-in no longer works: " + e.message + ".");
    }
    if (!caller) return sign_in_page(reply, 401, name, self, "");
    if (!caller->tenant)
        return html(reply, 400, "<!doctype html><title>photodrop</title><p>Name the tenant: add ?tenant=SLUG to the address.");
    reply.tenant = caller->tenant->slug;
    auto job = catalog.job(caller->tenant->id, name);
    if (!job || (caller->only_job && *caller->only_job != name))
        return html(reply, 404, fmt::format("<!doctype html><title>photodrop</title><p>No job {} here.",
                                            html_escaped(text::shown(name))));
    html(reply, 200,
         fill(*page_asset("job.html"), {{"job", html_escaped(text::shown(job->name))},
                                        {"job_attr", html_escaped(job->name)},
                                        {"title", html_escaped(text::shown(job->title.empty() ? job->name : job->title))},
                                        {"subtitle", job->title.empty() ? "" : html_escaped(text::shown(job->name))},
                                        {"tenant_attr", html_escaped(caller->tenant->slug)},
                                        {"after", std::to_string(catalog.last_event(job->tenant_id))}}));
    reply.headers.emplace_back("Cache-Control", "no-store");
}

void sign_in(ApiCatalog& catalog, const Request& request, Reply& reply) {
    auto form = parse_form(request.body());
    std::string next = form["next"];
    if (!next.starts_with("/jobs/")) next = "/";  // never elsewhere: no open redirect
    std::string job = next.size() > 6 ? percent_decoded(next.substr(6, next.find('?') - 6)) : "";
    const std::string& token = form["token"];
    if (token.empty() || !catalog.token_by_hash(token_hash(token)))
        return sign_in_page(reply, 401, job, next, "That token is not known, or was revoked.");
    reply.headers.emplace_back("Set-Cookie", set_cookie(request, token_cookie, token, token_cookie_seconds));
    redirect(reply, next);
}
}  // namespace

void answer_page(ApiCatalog& catalog, TokenCache& tokens, const Request& request, const Target& target,
                 const std::function<std::string()>& link_key, Reply& reply) {
    const auto& s = target.segments;
    auto method = request.method();
    bool reading = method == http::verb::get || method == http::verb::head;
    if (s.size() == 2 && s[0] == "jobs" && reading) return job_page(catalog, tokens, request, target, link_key, reply);
    if (s.size() == 1 && s[0] == "signin" && method == http::verb::post) return sign_in(catalog, request, reply);
    if (s.size() == 2 && s[0] == "assets" && reading && s[1] != "job.html" && s[1] != "signin.html") {
        if (auto asset = page_asset(s[1])) {
            reply.content_type = s[1].ends_with(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8";
            reply.body = std::string(*asset);
            reply.headers.emplace_back("Cache-Control", "public, max-age=300");
            return;
        }
    }
    throw not_found("no such address; the API is under /v1, job pages under /jobs/JOB");
}

}  // namespace photodrop::api
