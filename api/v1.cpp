#include "api/v1.hpp"

#include "api/files.hpp"
#include "api/webhooks/message.hpp"
#include "catalog/text.hpp"
#include "tools/client_config.hpp"

#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <iterator>
#include <map>

namespace photodrop::api {

namespace http = boost::beast::http;
using nlohmann::json;

namespace {

// `text` as a JSON string, appended to `out`: as nlohmann::json writes it
// (which it does for any text but plain printable ASCII).
void append_json_string(std::string& out, std::string_view text) {
    bool plain = std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
    if (!plain) {
        out += json(text).dump();
        return;
    }
    out += '"';
    out += text;
    out += '"';
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

class Handler {
public:
    Handler(ApiCatalog& catalog, const ApiSettings& settings, RecentPhotos& photos, const Request& request,
            const Caller& caller, Reply& reply)
        : catalog_(catalog), settings_(settings), photos_(photos), request_(request), caller_(caller), reply_(reply) {}

    void handle(const Target& t) {
        auto method = request_.method();
        const auto& s = t.segments;
        if (caller_.read_only && method != http::verb::get && method != http::verb::head)
            throw ApiError{403, "read_only", caller_.only_job ? "a job link may only read" : "this token may only read"};
        if (s.size() == 2 && s[1] == "events") {
            only(method, {http::verb::get, http::verb::head});
            if (caller_.only_job) throw ApiError{403, "job_link", "a job link reads its job, not the event feed"};
            return events(t);
        }
        const Tenant& tenant = tenant_of(caller_);
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
                if (s[3] == "stream") return stream(job, t);
                if (s[3] == "logins") return list_logins(job);
            }
            if (s.size() == 6 && s[3] == "logins" && s[5] == "client-config") {
                only(method, {http::verb::get, http::verb::head});
                return client_config(job, s[4], t);
            }
        }
        if (s.size() >= 3 && s[1] == "photos") {
            only(method, {http::verb::get, http::verb::head});
            if (s.size() == 3) {
                auto [photo, job] = photo_of(tenant, s[2], false);
                return append_photo(reply_.body, photo, job, album_names(job),
                                    roster_of(job, photo.photo.subject.has_value()));
            }
            if (s.size() == 4 && (s[3] == "thumbnail" || s[3] == "preview" || s[3] == "original"))
                return send_photo_file(photo_of(tenant, s[2], true).first.photo, s[3]);
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

    static const Tenant& tenant_of(const Caller& caller) {
        if (!caller.tenant)
            throw bad_request("an operator's token names the tenant: add ?tenant=SLUG");
        return *caller.tenant;
    }

    Job job_of(const Tenant& tenant, const std::string& name) {
        auto job = catalog_.job(tenant.id, name);
        if (!job || (caller_.only_job && *caller_.only_job != name))
            throw not_found(fmt::format("no job {}", text::shown(name)));
        return *job;
    }

    std::map<Id, std::string> album_names(const Job& job) {
        std::map<Id, std::string> names;
        for (const auto& a : catalog_.albums(job.id)) names[a.id] = a.name;
        return names;
    }

    // The job's roster by code, read only when a photo has a subject to name.
    using Roster = std::map<std::string, RosterEntry>;
    Roster roster_of(const Job& job, bool needed) {
        Roster roster;
        if (needed)
            for (auto& entry : catalog_.roster(job.id)) roster.emplace(entry.code, std::move(entry));
        return roster;
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
        for (const auto& job : catalog_.jobs(tenant.id, status))
            if (!caller_.only_job || *caller_.only_job == job.name) items.push_back(job_json(job));
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
                             {"created_at", webhooks::rfc3339(a.created_ns)}});
        }
        respond(json{{"items", std::move(items)}, {"next", nullptr}});
    }

    // The enabled logins that may upload into the job: a camera account into
    // its album of it, any other into it unless limited to other jobs.
    std::vector<SftpUser> logins_of(const Job& job) {
        auto users = catalog_.users(job.tenant_id);
        std::erase_if(users, [&](const SftpUser& u) {
            return !u.enabled || (!u.job_ids.empty() &&
                                  std::find(u.job_ids.begin(), u.job_ids.end(), job.id) == u.job_ids.end());
        });
        return users;
    }

    static std::vector<std::string_view> set_up_protocols(const SftpUser& u) {
        std::vector<std::string_view> out;
        if (u.protocols.sftp) out.push_back("sftp");
        if (u.protocols.ftps) out.push_back("ftps");
        return out;
    }

    void list_logins(const Job& job) {
        json items = json::array();
        for (const auto& u : logins_of(job)) {
            json files = json::object();
            for (auto protocol : set_up_protocols(u))
                for (const char* format : {"filezilla", "winscp", "cyberduck", "rclone"})
                    files[std::string(protocol)][format] =
                        fmt::format("/v1/jobs/{}/logins/{}/client-config?format={}&protocol={}", job.name,
                                    u.username, format, protocol);
            json camera = nullptr;
            if (u.camera_album_id)
                if (auto album = catalog_.album(*u.camera_album_id)) camera = {{"album", text::shown(album->name)}};
            items.push_back({{"username", u.username},
                             {"protocols", to_string(u.protocols)},
                             {"camera", std::move(camera)},
                             {"client_config", std::move(files)}});
        }
        respond(json{{"items", std::move(items)}, {"next", nullptr}});
    }

    // A login's client set-up file, as `photodropctl user client-config`
    // writes it without the password (the API never has it).
    void client_config(const Job& job, const std::string& username, const Target& t) {
        namespace cc = photodrop::client_config;
        auto logins = logins_of(job);
        auto user = std::find_if(logins.begin(), logins.end(), [&](const SftpUser& u) { return u.username == username; });
        if (user == logins.end()) throw not_found(fmt::format("no login {} uploads into {}", text::shown(username), job.name));
        auto format = cc::parse_format(t.param("format").value_or(""));
        if (!format) throw bad_request("format: filezilla, winscp, cyberduck or rclone");
        auto protocol_word = t.param("protocol").value_or("sftp");
        auto protocols = set_up_protocols(*user);
        auto protocol = cc::parse_protocol(protocol_word);
        if (!protocol || std::find(protocols.begin(), protocols.end(), protocol_word) == protocols.end())
            throw bad_request(fmt::format("protocol: {} may use {}", username,
                                          protocols.empty() ? "neither sftp nor ftps" : fmt::format("{}", fmt::join(protocols, " or "))));
        cc::Account account;
        try {
            account = cc::account_for(settings_.clients, *user, *protocol);
        } catch (const std::exception& e) {
            throw ApiError{503, "not_configured", fmt::format("set-up files cannot be made here: {}", e.what())};
        }
        reply_.content_type = cc::media_type(*format);
        reply_.headers.emplace_back("Content-Disposition",
                                    fmt::format("attachment; filename=\"{}\"", cc::file_name(*format, account)));
        reply_.body = cc::write(*format, account);
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
                   {"created_at", webhooks::rfc3339(u.created_ns)},
                   {"updated_at", webhooks::rfc3339(u.updated_ns)}};
            j["user"] = u.user_id && users.contains(*u.user_id) ? json(users[*u.user_id]) : json(nullptr);
            j["photo_id"] = u.photo_id && !u.duplicate ? json(*u.photo_id) : json(nullptr);
            j["duplicate_of"] = u.photo_id && u.duplicate ? json(*u.photo_id) : json(nullptr);
            return j;
        }));
    }

    // A photo as JSON, appended to `out`: written straight, not through a
    // json tree (a page is 100 of them), with the members in the order
    // nlohmann::json gives (by name) as every other answer has them.
    void append_photo(std::string& out, const ListedPhoto& listed, const Job& job,
                      const std::map<Id, std::string>& names, const Roster& roster) {
        const Photo& p = listed.photo;
        auto put = [&out](std::string_view text) { out += text; };
        auto number = [&out](int64_t n) { fmt::format_to(std::back_inserter(out), "{}", n); };
        auto string = [&out](std::string_view text) { append_json_string(out, text); };
        put("{\"album\":");
        auto album = p.album_id ? names.find(*p.album_id) : names.end();
        if (!p.album_id) put("null");
        else string(text::shown(album == names.end() ? "" : album->second));
        put(",\"camera\":{\"make\":");
        string(text::shown(p.camera_make));
        put(",\"model\":");
        string(text::shown(p.camera_model));
        put(",\"serial\":");
        string(text::shown(p.camera_serial));
        put("},\"captured_at\":");
        if (p.captured_at) string(*p.captured_at);
        else put("null");
        put(",\"content_hash\":");
        string(p.content_hash);
        put(",\"created_at\":");
        string(webhooks::rfc3339(p.created_ns));
        put(",\"file\":");
        string(text::shown(p.filename));
        fmt::format_to(std::back_inserter(out),
                       ",\"files\":{{\"original\":\"/v1/photos/{0}/original\",\"preview\":\"/v1/photos/{0}/preview\","
                       "\"thumbnail\":\"/v1/photos/{0}/thumbnail\"}},\"height\":{1},\"id\":{0},\"job\":",
                       p.id, p.height);
        string(text::shown(job.name));
        put(",\"note\":");
        string(text::shown(p.note));
        put(",\"orientation\":");
        number(p.orientation);
        put(",\"section\":");
        string(to_string(p.section));
        put(",\"size\":");
        number(listed.size);
        put(",\"subject\":");
        if (p.subject) {
            auto entry = roster.find(*p.subject);
            bool on_roster = entry != roster.end();
            auto roster_string = [&](std::string RosterEntry::*field) {
                if (on_roster) string(text::shown(entry->second.*field));
                else put("null");
            };
            put("{\"card\":");
            put(p.card_code == p.subject ? "true" : "false");
            put(",\"class\":");
            roster_string(&RosterEntry::class_name);
            put(",\"code\":");
            string(text::shown(*p.subject));
            put(",\"external_id\":");
            roster_string(&RosterEntry::external_id);
            put(",\"manual\":");
            put(p.subject_manual ? "true" : "false");
            put(",\"name\":");
            roster_string(&RosterEntry::name);
            put(",\"on_roster\":");
            put(on_roster ? "true" : "false");
            put("}");
        } else {
            put("null");
        }
        fmt::format_to(std::back_inserter(out), ",\"upload_id\":{},\"width\":{}}}", p.upload_id, p.width);
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
        auto roster = roster_of(job, std::any_of(rows.begin(), rows.end(),
                                                 [](const ListedPhoto& row) { return row.photo.subject.has_value(); }));
        // As paged() writes it.
        std::string& out = reply_.body;
        out.reserve(rows.size() * 900);
        out += "{\"items\":[";
        for (const auto& row : rows) {
            if (&row != &rows.front()) out += ',';
            append_photo(out, row, job, names, roster);
        }
        if (static_cast<int>(rows.size()) == page.limit && !rows.empty())
            fmt::format_to(std::back_inserter(out), "],\"next\":\"{}\"}}", rows.back().photo.id);
        else
            out += "],\"next\":null}";
    }

    // A photo of the caller's; `recent`: as read within the last second (RecentPhotos).
    std::pair<ListedPhoto, Job> photo_of(const Tenant& tenant, const std::string& id_text, bool recent) {
        Id id = 0;
        auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
        if (ec != std::errc() || end != id_text.data() + id_text.size()) throw not_found("no such photo");
        auto found = recent ? photos_.find(id) : std::nullopt;
        if (!found) {
            found = catalog_.listed_photo(id);
            if (found) photos_.remember(id, *found);
        }
        if (!found || found->second.tenant_id != tenant.id || found->first.photo.deleted ||
            (caller_.only_job && *caller_.only_job != found->second.name))
            throw not_found(fmt::format("no photo {}", id));
        return std::move(*found);
    }

    void send_photo_file(const Photo& photo, const std::string& kind) {
        const std::string& relative = kind == "thumbnail" ? photo.thumbnail_path
                                      : kind == "preview" ? photo.preview_path
                                                          : photo.original_path;
        if (kind == "original") reply_.headers.emplace_back("Content-Disposition", content_disposition(photo.filename));
        // A photo's files never change (a new version is a new photo): its content names them.
        send_file(request_, reply_, std::filesystem::path(settings_.data_dir) / relative,
                  fmt::format("\"{}-{}\"", photo.content_hash.substr(0, 32), kind),
                  kind == "original" ? content_type_of(photo.original_path) : "image/jpeg");
    }

    // Server-sent events of the job from ?after= (or Last-Event-ID, or now) on.
    void stream(const Job& job, const Target& t) {
        auto resume = request_["Last-Event-ID"];
        Id after = resume.empty() ? 0 : number_param(Target{{}, {{"after", std::string(resume)}}}, "after", 0, 0, INT64_MAX);
        if (resume.empty()) after = t.param("after") ? number_param(t, "after", 0, 0, INT64_MAX) : catalog_.last_event(job.tenant_id);
        reply_.content_type = "text/event-stream";
        reply_.stream = EventStream{job.tenant_id, job.id, after};
    }

    void events(const Target& t) {
        std::optional<Id> tenant_id;
        if (caller_.tenant) tenant_id = caller_.tenant->id;
        Page page = page_of(t);
        auto rows = catalog_.events(tenant_id, page.after, page.limit);
        std::map<Id, std::string> slugs;
        respond(paged(rows, page, [&](const Event& e) {
            if (!slugs.contains(e.tenant_id))
                if (auto tenant = catalog_.tenant(e.tenant_id)) slugs[e.tenant_id] = tenant->slug;
            return webhooks::event_json(e, slugs[e.tenant_id]);
        }));
    }

    ApiCatalog& catalog_;
    const ApiSettings& settings_;
    RecentPhotos& photos_;
    const Request& request_;
    const Caller& caller_;
    Reply& reply_;
};

}  // namespace

void answer_v1(ApiCatalog& catalog, const ApiSettings& settings, RecentPhotos& photos, const Request& request,
               const Target& target, const Caller& caller, Reply& reply) {
    Handler(catalog, settings, photos, request, caller, reply).handle(target);
}

}  // namespace photodrop::api
