#include "api/api.hpp"

#include "api/openapi.hpp"
#include "api/token.hpp"
#include "catalog/sql.hpp"
#include "catalog/text.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <charconv>
#include <ctime>
#include <map>
#include <stdexcept>

namespace photodrop::api {

namespace http = boost::beast::http;
using nlohmann::json;

namespace {

// A refusal of the request: its HTTP status, a stable code and words for a person.
struct ApiError {
    unsigned status;
    std::string code;
    std::string message;
};

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

struct Target {
    std::vector<std::string> segments;  // "/v1/jobs/job1" -> v1, jobs, job1
    std::map<std::string, std::string> query;

    std::optional<std::string> param(const std::string& name) const {
        auto it = query.find(name);
        if (it == query.end()) return std::nullopt;
        return it->second;
    }
};

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
    if (question != std::string_view::npos) {
        std::string_view rest = target.substr(question + 1);
        while (!rest.empty()) {
            size_t amp = rest.find('&');
            std::string_view pair = rest.substr(0, amp);
            size_t eq = pair.find('=');
            std::string key = percent_decoded(pair.substr(0, eq));
            std::string value;
            if (eq != std::string_view::npos) {
                std::string plus(pair.substr(eq + 1));
                for (auto& c : plus)
                    if (c == '+') c = ' ';
                value = percent_decoded(plus);
            }
            if (!key.empty()) t.query[key] = value;
            rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        }
    }
    return t;
}

std::string rfc3339(int64_t ns) {
    std::time_t seconds = static_cast<std::time_t>(ns / 1'000'000'000);
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", fmt::gmtime(seconds), (ns / 1'000'000) % 1000);
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

// A page of items: {"items": [...], "next": "<cursor>"} (null on the last page).
template <class T, class ToJson>
json paged(const std::vector<T>& rows, const Page& page, ToJson to_json) {
    json items = json::array();
    for (const auto& row : rows) items.push_back(to_json(row));
    json out{{"items", std::move(items)}};
    out["next"] = static_cast<int>(rows.size()) == page.limit && !rows.empty() ? json(std::to_string(rows.back().id))
                                                                               : json(nullptr);
    return out;
}

// Who is asking: the token, and the tenant its request is about.
struct Caller {
    ApiToken token;
    std::optional<Tenant> tenant;
};

std::optional<std::string> bearer_token(const Request& request) {
    auto authorization = request[http::field::authorization];
    if (!authorization.empty()) {
        std::string_view value(authorization.data(), authorization.size());
        if (value.size() > 7 && (value.substr(0, 7) == "Bearer " || value.substr(0, 7) == "bearer "))
            return std::string(value.substr(7));
        return std::nullopt;
    }
    return std::nullopt;
}

class Handler {
public:
    Handler(ApiCatalog& catalog, const ApiSettings& settings, const Request& request, Reply& reply)
        : catalog_(catalog), settings_(settings), request_(request), reply_(reply) {}

    void handle() {
        auto method = request_.method();
        Target t = parse_target(std::string_view(request_.target().data(), request_.target().size()));
        const auto& s = t.segments;
        if (s.empty() || s[0] != "v1") throw not_found("no such address; the API is under /v1");
        if (s.size() == 2 && s[1] == "openapi.json") {
            only(method, {http::verb::get, http::verb::head});
            reply_.body = openapi_document();
            return;
        }
        Caller caller = authenticate(t);
        if (caller.token.read_only && method != http::verb::get && method != http::verb::head)
            throw ApiError{403, "read_only", "this token may only read"};

        if (s.size() == 2 && s[1] == "events") {
            only(method, {http::verb::get, http::verb::head});
            return events(caller, t);
        }
        const Tenant& tenant = tenant_of(caller);
        if (s.size() >= 2 && s[1] == "jobs") {
            if (s.size() == 2) {
                only(method, {http::verb::get, http::verb::head, http::verb::post});
                return method == http::verb::post ? create_job(tenant) : list_jobs(tenant, t);
            }
            Job job = job_of(tenant, s[2]);
            if (s.size() == 3) {
                only(method, {http::verb::get, http::verb::head, http::verb::patch});
                if (method == http::verb::patch) return change_job(job);
                return respond(job_json(job));
            }
            if (s.size() == 4) {
                only(method, {http::verb::get, http::verb::head});
                if (s[3] == "albums") return list_albums(job);
                if (s[3] == "uploads") return list_uploads(job, t);
                if (s[3] == "photos") return list_photos(job, t);
            }
        }
        if (s.size() >= 3 && s[1] == "photos") {
            only(method, {http::verb::get, http::verb::head});
            auto [photo, job] = photo_of(tenant, s[2]);
            if (s.size() == 3) return respond(photo_json(photo, job, album_names(job)));
            if (s.size() == 4 && (s[3] == "thumbnail" || s[3] == "preview" || s[3] == "original"))
                return send_file(photo, s[3]);
        }
        throw not_found("no such address; see /v1/openapi.json");
    }

private:
    static void only(http::verb method, std::initializer_list<http::verb> allowed) {
        for (auto m : allowed)
            if (m == method) return;
        std::string names;
        for (auto m : allowed) names += (names.empty() ? "" : ", ") + std::string(http::to_string(m));
        throw ApiError{405, "method_not_allowed", fmt::format("this address takes {}", names)};
    }

    void respond(const json& body, unsigned status = 200) {
        reply_.status = status;
        reply_.body = body.dump();
    }

    Caller authenticate(const Target& t) {
        auto token = bearer_token(request_);
        if (!token) {
            // The job page signs in by a cookie that holds the token.
            auto cookie = request_[http::field::cookie];
            std::string_view cookies(cookie.data(), cookie.size());
            for (size_t at = cookies.find("photodrop_token="); at != std::string_view::npos;) {
                if (at == 0 || cookies[at - 1] == ' ' || cookies[at - 1] == ';') {
                    auto value = cookies.substr(at + 16);
                    token = std::string(value.substr(0, value.find(';')));
                }
                break;
            }
        }
        if (!token)
            throw ApiError{401, "unauthorized", "a token is needed: Authorization: Bearer <token>"};
        auto found = catalog_.token_by_hash(token_hash(*token));
        if (!found) throw ApiError{401, "unauthorized", "the token is not known, or was revoked"};
        Caller caller{*found, std::nullopt};
        auto named = t.param("tenant");
        if (found->tenant_id) {
            caller.tenant = catalog_.tenant(*found->tenant_id);
            if (!caller.tenant || (named && *named != caller.tenant->slug))
                throw not_found(fmt::format("no tenant {}", text::shown(named.value_or(""))));
        } else if (named) {
            caller.tenant = catalog_.tenant(*named);
            if (!caller.tenant) throw not_found(fmt::format("no tenant {}", text::shown(*named)));
        }
        if (caller.tenant) reply_.tenant = caller.tenant->slug;
        return caller;
    }

    static const Tenant& tenant_of(const Caller& caller) {
        if (!caller.tenant)
            throw bad_request("an operator's token names the tenant: add ?tenant=SLUG");
        return *caller.tenant;
    }

    Job job_of(const Tenant& tenant, const std::string& name) {
        auto job = catalog_.job(tenant.id, name);
        if (!job) throw not_found(fmt::format("no job {}", text::shown(name)));
        return *job;
    }

    std::map<Id, std::string> album_names(const Job& job) {
        std::map<Id, std::string> names;
        for (const auto& a : catalog_.albums(job.id)) names[a.id] = a.name;
        return names;
    }

    json job_json(const Job& job) {
        return {{"id", job.id},
                {"name", text::shown(job.name)},
                {"title", text::shown(job.title)},
                {"status", to_string(job.status)},
                {"layout", to_string(job.layout)}};
    }

    void list_jobs(const Tenant& tenant, const Target& t) {
        std::optional<JobStatus> status;
        if (auto word = t.param("status")) {
            status = parse_job_status(*word);
            if (!status) throw bad_request("status must be planned, selling or archived");
        }
        json items = json::array();
        for (const auto& job : catalog_.jobs(tenant.id, status)) items.push_back(job_json(job));
        respond(json{{"items", std::move(items)}, {"next", nullptr}});
    }

    json body() {
        auto type = request_[http::field::content_type];
        if (!std::string_view(type.data(), type.size()).starts_with("application/json"))
            throw ApiError{415, "unsupported_media_type", "send the body as application/json"};
        try {
            json parsed = json::parse(request_.body());
            if (!parsed.is_object()) throw bad_request("the body must be a JSON object");
            return parsed;
        } catch (const json::parse_error& e) {
            throw bad_request(fmt::format("the body is not JSON: {}", e.what()));
        }
    }

    static std::string string_field(const json& body, const char* name, std::optional<std::string> fallback) {
        auto it = body.find(name);
        if (it == body.end() || it->is_null()) {
            if (fallback) return *fallback;
            throw bad_request(fmt::format("the body needs \"{}\"", name));
        }
        if (!it->is_string()) throw bad_request(fmt::format("\"{}\" must be a string", name));
        return it->get<std::string>();
    }

    void create_job(const Tenant& tenant) {
        json b = body();
        std::string name = string_field(b, "name", std::nullopt);
        std::string title = string_field(b, "title", name);
        auto layout = parse_layout(string_field(b, "layout", "albums"));
        if (!layout) throw bad_request("layout must be albums or flat");
        auto status = parse_job_status(string_field(b, "status", "planned"));
        if (!status) throw bad_request("status must be planned, selling or archived");
        Job job = catalog_.add_job(tenant.id, name, title, *layout, *status);
        reply_.headers.emplace_back("Location", fmt::format("/v1/jobs/{}", job.name));
        respond(job_json(job), 201);
    }

    void change_job(const Job& job) {
        json b = body();
        auto status = parse_job_status(string_field(b, "status", std::nullopt));
        if (!status) throw bad_request("status must be planned, selling or archived");
        catalog_.set_job_status(job.id, *status);
        respond(job_json(*catalog_.job(job.id)));
    }

    void list_albums(const Job& job) {
        json items = json::array();
        for (const auto& a : catalog_.albums(job.id)) {
            json sections = json::array({"individuals"});
            if (a.has_group) sections.push_back("group");
            items.push_back({{"id", a.id},
                             {"name", text::shown(a.name)},
                             {"sections", std::move(sections)},
                             {"created_at", rfc3339(a.created_ns)}});
        }
        respond(json{{"items", std::move(items)}, {"next", nullptr}});
    }

    void list_uploads(const Job& job, const Target& t) {
        std::optional<UploadState> state;
        if (auto word = t.param("state")) {
            state = parse_upload_state(*word);
            if (!state) throw bad_request(fmt::format("no upload state {}", text::shown(*word)));
        }
        Page page = page_of(t);
        auto names = album_names(job);
        std::map<Id, std::string> users;
        for (const auto& u : catalog_.users(job.tenant_id)) users[u.id] = u.username;
        auto rows = catalog_.uploads_page(job.id, state, page);
        respond(paged(rows, page, [&](const Upload& u) {
            std::string album = u.folder.album_id ? names[*u.folder.album_id] : "";
            json j{{"id", u.id},
                   {"job", text::shown(job.name)},
                   {"album", u.folder.album_id ? json(text::shown(album)) : json(nullptr)},
                   {"section", to_string(u.folder.section)},
                   {"file", text::shown(u.filename)},
                   {"path", text::shown(path_in_job(u.folder, u.filename, album))},
                   {"size", u.size},
                   {"state", to_string(u.state)},
                   {"reason", text::shown(u.reason)},
                   {"uid", u.uid},
                   {"created_at", rfc3339(u.created_ns)},
                   {"updated_at", rfc3339(u.updated_ns)}};
            j["user"] = u.user_id && users.contains(*u.user_id) ? json(users[*u.user_id]) : json(nullptr);
            j["photo_id"] = u.photo_id && !u.duplicate ? json(*u.photo_id) : json(nullptr);
            j["duplicate_of"] = u.photo_id && u.duplicate ? json(*u.photo_id) : json(nullptr);
            return j;
        }));
    }

    json photo_json(const Photo& p, const Job& job, const std::map<Id, std::string>& names) {
        std::string album;
        if (p.album_id)
            if (auto it = names.find(*p.album_id); it != names.end()) album = it->second;
        struct stat st {};
        int64_t size = ::stat((std::filesystem::path(settings_.data_dir) / p.original_path).c_str(), &st) == 0
                           ? static_cast<int64_t>(st.st_size)
                           : 0;
        std::string base = fmt::format("/v1/photos/{}", p.id);
        return {{"id", p.id},
                {"upload_id", p.upload_id},
                {"job", text::shown(job.name)},
                {"album", p.album_id ? json(text::shown(album)) : json(nullptr)},
                {"section", to_string(p.section)},
                {"file", text::shown(p.filename)},
                {"size", size},
                {"width", p.width},
                {"height", p.height},
                {"captured_at", p.captured_at ? json(*p.captured_at) : json(nullptr)},
                {"camera", {{"make", text::shown(p.camera_make)},
                            {"model", text::shown(p.camera_model)},
                            {"serial", text::shown(p.camera_serial)}}},
                {"orientation", p.orientation},
                {"content_hash", p.content_hash},
                {"subject", nullptr},
                {"note", text::shown(p.note)},
                {"created_at", rfc3339(p.created_ns)},
                {"files", {{"thumbnail", base + "/thumbnail"}, {"preview", base + "/preview"}, {"original", base + "/original"}}}};
    }

    void list_photos(const Job& job, const Target& t) {
        auto names = album_names(job);
        std::optional<Id> album_id;
        if (auto name = t.param("album")) {
            for (const auto& [id, n] : names)
                if (n == *name) album_id = id;
            if (!album_id) throw not_found(fmt::format("no album {} in job {}", text::shown(*name), text::shown(job.name)));
        }
        std::optional<Section> section;
        if (auto word = t.param("section")) {
            section = parse_section(*word);
            if (!section) throw bad_request("section must be individuals or group");
        }
        Page page = page_of(t);
        auto rows = catalog_.photos_page(job.id, album_id, section, page);
        respond(paged(rows, page, [&](const Photo& p) { return photo_json(p, job, names); }));
    }

    std::pair<Photo, Job> photo_of(const Tenant& tenant, const std::string& id_text) {
        Id id = 0;
        auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
        if (ec != std::errc() || end != id_text.data() + id_text.size()) throw not_found("no such photo");
        auto photo = catalog_.photo(id);
        std::optional<Job> job;
        if (photo) job = catalog_.job(photo->job_id);
        if (!photo || !job || job->tenant_id != tenant.id || photo->deleted)
            throw not_found(fmt::format("no photo {}", id));
        return {*photo, *job};
    }

    void send_file(const Photo& photo, const std::string& kind) {
        const std::string& relative = kind == "thumbnail" ? photo.thumbnail_path
                                      : kind == "preview" ? photo.preview_path
                                                          : photo.original_path;
        auto path = std::filesystem::path(settings_.data_dir) / relative;
        FileSliceBody::value_type file;
        struct stat st {};
        if (!file.open(path.c_str()) || ::fstat(*file.fd, &st) != 0)
            throw ApiError{404, "file_missing", fmt::format("the {} of photo {} is not there", kind, photo.id)};
        uint64_t size = static_cast<uint64_t>(st.st_size);
        // A photo's files never change (a new version is a new photo): its content names them.
        std::string etag = fmt::format("\"{}-{}\"", photo.content_hash.substr(0, 32), kind);
        reply_.headers.emplace_back("ETag", etag);
        reply_.headers.emplace_back("Cache-Control", "private, max-age=31536000, immutable");
        reply_.headers.emplace_back("Accept-Ranges", "bytes");
        reply_.content_type = kind == "original" ? content_type_of(photo.original_path) : "image/jpeg";
        if (kind == "original")
            reply_.headers.emplace_back("Content-Disposition", content_disposition(photo.filename));
        auto if_none_match = request_[http::field::if_none_match];
        if (!if_none_match.empty() &&
            (std::string_view(if_none_match.data(), if_none_match.size()).find(etag) != std::string_view::npos ||
             if_none_match == "*")) {
            reply_.status = 304;
            return;
        }
        file.offset = 0;
        file.length = size;
        auto range = request_[http::field::range];
        auto if_range = request_[http::field::if_range];
        bool range_applies = if_range.empty() || std::string_view(if_range.data(), if_range.size()) == etag;
        if (!range.empty() && range_applies) {
            auto slice = parse_range(std::string_view(range.data(), range.size()), size);
            if (!slice) {
                reply_.status = 416;
                reply_.headers.emplace_back("Content-Range", fmt::format("bytes */{}", size));
                reply_.content_type = "application/json";
                reply_.body = json{{"error", {{"status", 416}, {"code", "range_not_satisfiable"},
                                              {"message", fmt::format("the file has {} bytes", size)}}}}
                                  .dump();
                return;
            }
            if (slice->second > 0) {
                reply_.status = 206;
                file.offset = slice->first;
                file.length = slice->second;
                reply_.headers.emplace_back(
                    "Content-Range", fmt::format("bytes {}-{}/{}", file.offset, file.offset + file.length - 1, size));
            }
        }
        reply_.file = std::move(file);
    }

    // One range of "bytes=a-b", "bytes=a-" or "bytes=-n": {offset, length};
    // {0, 0} for a form this server answers with the whole file (several
    // ranges, another unit); nullopt when the range lies past the end.
    static std::optional<std::pair<uint64_t, uint64_t>> parse_range(std::string_view value, uint64_t size) {
        if (!value.starts_with("bytes=") || value.find(',') != std::string_view::npos) return std::pair<uint64_t, uint64_t>{0, 0};
        value.remove_prefix(6);
        auto dash = value.find('-');
        if (dash == std::string_view::npos) return std::pair<uint64_t, uint64_t>{0, 0};
        auto number = [](std::string_view s) -> std::optional<uint64_t> {
            uint64_t n = 0;
            auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
            if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
            return n;
        };
        auto first = number(value.substr(0, dash));
        auto last = number(value.substr(dash + 1));
        if (!first) {  // a suffix: the last n bytes
            if (!last || *last == 0 || size == 0) return std::nullopt;
            uint64_t n = std::min(*last, size);
            return std::pair<uint64_t, uint64_t>{size - n, n};
        }
        if (*first >= size) return std::nullopt;
        uint64_t end = last ? std::min(*last, size - 1) : size - 1;
        if (last && *last < *first) return std::pair<uint64_t, uint64_t>{0, 0};
        return std::pair<uint64_t, uint64_t>{*first, end - *first + 1};
    }

    static std::string content_type_of(const std::string& path) {
        auto dot = path.rfind('.');
        std::string extension = dot == std::string::npos ? "" : path.substr(dot + 1);
        if (extension == "jpg") return "image/jpeg";
        if (extension == "png") return "image/png";
        if (extension == "tif") return "image/tiff";
        if (extension == "heic") return "image/heic";
        if (extension == "webp") return "image/webp";
        return "application/octet-stream";
    }

    // The photographer's file name for a download: RFC 6266, UTF-8, every byte
    // but unreserved ones escaped, so no name can break the header.
    static std::string content_disposition(const std::string& filename) {
        std::string escaped;
        for (unsigned char c : filename) {
            if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') escaped += static_cast<char>(c);
            else escaped += fmt::format("%{:02X}", c);
        }
        return fmt::format("inline; filename*=UTF-8''{}", escaped);
    }

    void events(const Caller& caller, const Target& t) {
        std::optional<Id> tenant_id;
        if (caller.tenant) tenant_id = caller.tenant->id;
        Page page = page_of(t);
        auto rows = catalog_.events(tenant_id, page.after, page.limit);
        std::map<Id, std::string> slugs;
        respond(paged(rows, page, [&](const Event& e) {
            if (!slugs.contains(e.tenant_id))
                if (auto tenant = catalog_.tenant(e.tenant_id)) slugs[e.tenant_id] = tenant->slug;
            return event_json(e, slugs[e.tenant_id]);
        }));
    }

    ApiCatalog& catalog_;
    const ApiSettings& settings_;
    const Request& request_;
    Reply& reply_;
};

Reply error_reply(const ApiError& e) {
    Reply reply;
    reply.status = e.status;
    reply.body = json{{"error", {{"status", e.status}, {"code", e.code}, {"message", e.message}}}}.dump();
    if (e.status == 401) reply.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"photodrop\"");
    return reply;
}

}  // namespace

json event_json(const Event& e, const std::string& tenant_slug) {
    json data = json::parse(e.data, nullptr, false);
    if (data.is_discarded()) data = json::object();
    auto id_or_null = [](const std::optional<Id>& id) { return id ? json(*id) : json(nullptr); };
    return {{"id", e.id},
            {"type", e.type},
            {"timestamp", rfc3339(e.occurred_ns)},
            {"tenant", tenant_slug},
            {"job_id", id_or_null(e.job_id)},
            {"album_id", id_or_null(e.album_id)},
            {"upload_id", id_or_null(e.upload_id)},
            {"photo_id", id_or_null(e.photo_id)},
            {"data", std::move(data)}};
}

Reply Api::handle(const Request& request) {
    Reply reply;
    try {
        auto catalog = catalogs_.borrow();
        try {
            Handler(*catalog, settings_, request, reply).handle();
        } catch (const sql::Error&) {
            catalog.discard();
            throw;
        }
    } catch (const ApiError& e) {
        auto tenant = reply.tenant;
        reply = error_reply(e);
        reply.tenant = tenant;
    } catch (const CatalogError& e) {
        auto tenant = reply.tenant;
        unsigned status = e.kind() == CatalogError::Kind::NotFound ? 404
                          : e.kind() == CatalogError::Kind::Invalid ? 400
                                                                    : 409;
        std::string code = e.kind() == CatalogError::Kind::NotFound  ? "not_found"
                           : e.kind() == CatalogError::Kind::Invalid ? "bad_request"
                           : e.kind() == CatalogError::Kind::Exists  ? "exists"
                                                                     : "conflict";
        reply = error_reply(ApiError{status, code, e.what()});
        reply.tenant = tenant;
    } catch (const sql::Error& e) {
        auto tenant = reply.tenant;
        reply = error_reply(ApiError{503, "unavailable", fmt::format("the catalog cannot be reached now: {}", e.what())});
        reply.headers.emplace_back("Retry-After", "1");
        reply.tenant = tenant;
    } catch (const std::exception& e) {
        auto tenant = reply.tenant;
        reply = error_reply(ApiError{500, "internal", fmt::format("the request could not be answered: {}", e.what())});
        reply.tenant = tenant;
    }
    return reply;
}

}  // namespace photodrop::api
