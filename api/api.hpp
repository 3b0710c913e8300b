#pragma once
// The HTTP API's requests and replies, without the sockets: a request in, a
// reply out (api/server.cpp serves it). Routes, under /v1, JSON:
//
//   GET   /v1/openapi.json                       the OpenAPI 3 document (no token)
//   GET   /v1/jobs[?status=]                     POST /v1/jobs
//   GET   /v1/jobs/{job}                         PATCH /v1/jobs/{job}  {"status": ...}
//   GET   /v1/jobs/{job}/albums
//   GET   /v1/jobs/{job}/uploads[?state=&after=&limit=]
//   GET   /v1/jobs/{job}/photos[?album=&section=&after=&limit=]
//   GET   /v1/photos/{id}
//   GET   /v1/photos/{id}/thumbnail|preview|original   ETag, Range, Cache-Control
//   GET   /v1/events[?after=&limit=]
//   GET   /v1/jobs/{job}/stream                  the job's events as server-sent events
//
// and the job page (api/pages.cpp): GET /jobs/{job}, POST /signin, /assets/.
//
// A bearer token names its tenant; an operator's token names it with
// ?tenant=SLUG (and reads every tenant's events without). A tenant's token
// reaches nothing of another tenant: what is not its own is "not found".

#include "api/caller.hpp"
#include "api/catalog_pool.hpp"
#include "api/file_slice.hpp"
#include "catalog/config.hpp"

#include <boost/beast/http/string_body.hpp>

#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace photodrop::api {

using Request = boost::beast::http::request<boost::beast::http::string_body>;

// A reply that goes on: the job's events as server-sent events, from `after` on.
struct EventStream {
    Id tenant_id = 0;
    Id job_id = 0;
    Id after = 0;
};

struct Reply {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::optional<FileSlice> file;       // sent instead of `body`
    std::optional<EventStream> stream;              // sent instead of `body`
    std::string tenant;                             // whose request it was, for the log line
};

struct ApiSettings {
    std::string data_dir;  // the tenants' files: DATA/<tenant>/...
    // How photographers reach the upload servers, for the client set-up files
    // the job page offers: public_host, sftp_port, sftp_host_key, ftp_port,
    // ftp_tls_certificate.
    Config clients;
};

class Api {
public:
    Api(CatalogPool& catalogs, ApiSettings settings) : catalogs_(catalogs), settings_(std::move(settings)) {}
    // Never throws for what a client sent: a refusal is a JSON error reply.
    Reply handle(const Request& request);
    // The events of `stream` after `after`, at most 100, for a stream's next
    // lines: "id: N\nevent: TYPE\ndata: JSON\n\n" each; "" if none yet.
    // Throws what the catalog throws.
    std::string stream_lines(const EventStream& stream, Id& after);

    static constexpr int default_page = 100;
    static constexpr int max_page = 1000;

private:
    // The key that signs job links, read from the catalog once.
    std::string link_key();

    CatalogPool& catalogs_;
    ApiSettings settings_;
    TokenCache tokens_;
    RecentPhotos photos_{recent_photo_ttl};
    std::mutex link_key_mutex_;  // protects link_key_
    std::string link_key_;
};

}  // namespace photodrop::api
