#include "api/api.hpp"

#include "api/link.hpp"
#include "api/openapi.hpp"
#include "api/pages.hpp"
#include "api/v1.hpp"
#include "api/webhooks/message.hpp"
#include "catalog/sql.hpp"

#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace photodrop::api {

namespace http = boost::beast::http;
using nlohmann::json;

namespace {
Reply error_reply(const ApiError& e, std::string tenant) {
    Reply reply;
    reply.status = e.status;
    reply.body = json{{"error", {{"status", e.status}, {"code", e.code}, {"message", e.message}}}}.dump();
    if (e.status == 401) reply.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"photodrop\"");
    reply.tenant = std::move(tenant);
    return reply;
}

ApiError from_catalog(const CatalogError& e) {
    switch (e.kind()) {
        case CatalogError::Kind::NotFound: return {404, "not_found", e.what()};
        case CatalogError::Kind::Invalid: return {400, "bad_request", e.what()};
        case CatalogError::Kind::Exists: return {409, "exists", e.what()};
        case CatalogError::Kind::Conflict: return {409, "conflict", e.what()};
    }
    return {409, "conflict", e.what()};
}
}  // namespace

std::string Api::link_key() {
    std::lock_guard lock(link_key_mutex_);
    if (link_key_.empty()) link_key_ = catalogs_.borrow()->link_key(new_link_key());
    return link_key_;
}

Reply Api::handle(const Request& request) {
    Reply reply;
    try {
        Target target = parse_target(std::string_view(request.target().data(), request.target().size()));
        const auto& s = target.segments;
        if (s.size() == 2 && s[0] == "v1" && s[1] == "openapi.json") {
            if (request.method() != http::verb::get && request.method() != http::verb::head)
                throw ApiError{405, "method_not_allowed", "this address takes GET, HEAD"};
            reply.body = openapi_document();
            return reply;
        }
        auto catalog = catalogs_.borrow();
        try {
            auto key = [this] { return link_key(); };
            if (!s.empty() && s[0] == "v1") {
                Caller caller = authenticate(*catalog, tokens_, request, target, key);
                if (caller.tenant) reply.tenant = caller.tenant->slug;
                answer_v1(*catalog, settings_, photos_, request, target, caller, reply);
            } else {
                answer_page(*catalog, tokens_, request, target, key, reply);
            }
        } catch (const sql::Error&) {
            catalog.discard();
            throw;
        }
    } catch (const ApiError& e) {
        reply = error_reply(e, reply.tenant);
    } catch (const CatalogError& e) {
        reply = error_reply(from_catalog(e), reply.tenant);
    } catch (const sql::Error& e) {
        reply = error_reply(ApiError{503, "unavailable", fmt::format("the catalog cannot be reached now: {}", e.what())},
                            reply.tenant);
        reply.headers.emplace_back("Retry-After", "1");
    } catch (const std::exception& e) {
        reply = error_reply(ApiError{500, "internal", fmt::format("the request could not be answered: {}", e.what())},
                            reply.tenant);
    }
    return reply;
}

std::string Api::stream_lines(const EventStream& stream, Id& after) {
    auto catalog = catalogs_.borrow();
    try {
        std::string lines;
        auto tenant = catalog->tenant(stream.tenant_id);
        for (const auto& e : catalog->events(stream.tenant_id, after, 100)) {
            after = e.id;
            if (e.job_id != stream.job_id) continue;
            lines += fmt::format("id: {}\nevent: {}\ndata: {}\n\n", e.id, e.type,
                                 webhooks::event_json(e, tenant ? tenant->slug : "").dump(-1, ' ', false, json::error_handler_t::replace));
        }
        return lines;
    } catch (const sql::Error&) {
        catalog.discard();
        throw;
    }
}

}  // namespace photodrop::api
