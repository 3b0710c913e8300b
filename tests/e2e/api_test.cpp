// photodrop-api over real uploads: photos written through a real mount by a
// photographer, filed by the real ingest service, read over HTTP with tokens
// made by photodropctl. Every answer of the first test case is checked
// against the OpenAPI document by an independent validator (Python's
// jsonschema). Run on SQLite and on PostgreSQL.

#include "tests/support/deployment.hpp"
#include "tests/support/ftpd.hpp"
#include "tests/support/files.hpp"
#include "tests/support/http.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

using namespace photodrop;
using namespace photodrop::test;
using json = nlohmann::json;

namespace {

// Two studios, photos of the first uploaded through its mount and ingested,
// photodrop-api running, and tokens.
struct Studio {
    Deployment d{{"studio-a", "studio-b"}};
    std::string user;
    std::string other_job_user;  // may see job00002 only
    TempDir servers;             // the SSH host key and the FTP certificate the set-up files name
    FtpSettings ftp = make_ftp_settings(servers.path());
    unsigned short port = 0;
    std::string token_a, token_a_read_only, token_b, token_operator;
    std::string photo;  // the bytes of IMG_0001.jpg
    json exchanges = json::array();

    Studio() {
        user = d.add_user("pdta", "studio-a");
        other_job_user = d.add_user("pdtj", "studio-a", {"--jobs", "job00002"});
        d.start_ingest();
        REQUIRE(run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", (servers.path() / "host_key").string()}) == 0);
        auto settings = ftp_setting_variables(ftp);
        settings.insert(settings.end(), {"PHOTODROP_PUBLIC_HOST=upload.example.test", "PHOTODROP_SFTP_PORT=2222",
                                         "PHOTODROP_SFTP_HOST_KEY=" + (servers.path() / "host_key.pub").string()});
        port = d.start_api({}, settings);
        token_a = make_token({"--tenant", "studio-a", "--label", "platform"});
        token_a_read_only = make_token({"--tenant", "studio-a", "--read-only"});
        token_b = make_token({"--tenant", "studio-b"});
        token_operator = make_token({"--operator"});
        upload_photos();
    }

    std::string make_token(const std::vector<std::string>& args) {
        std::vector<std::string> argv{"--json", "token", "add"};
        argv.insert(argv.end(), args.begin(), args.end());
        std::string out;
        REQUIRE_MESSAGE(d.ctl(argv, "", &out) == 0, out);
        return json::parse(out)["token"].get<std::string>();
    }

    // A request with `token`; recorded for the OpenAPI check under `path` (the document's template) if given.
    HttpResponse call(const std::string& method, const std::string& target, const std::string& token,
                      const std::string& path = {}, const std::string& body = {},
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
        HttpRequest r{method, target, std::move(headers), body};
        if (!token.empty()) r.headers.emplace_back("Authorization", "Bearer " + token);
        bool typed = false;
        for (const auto& [name, value] : r.headers) typed = typed || name == "Content-Type";
        if (!body.empty() && !typed) r.headers.emplace_back("Content-Type", "application/json");
        auto answer = http_request(port, r);
        bool is_json = answer.header("content-type").starts_with("application/json");
        if (!path.empty())
            exchanges.push_back({{"method", method}, {"path", path}, {"status", answer.status},
                                 {"content_type", answer.header("content-type")}, {"body", is_json ? answer.body : ""}});
        return answer;
    }

    json get_json(const std::string& target, const std::string& token, const std::string& path = {}) {
        auto answer = call("GET", target, token, path);
        INFO(target, " answered ", answer.status, ": ", answer.body);
        REQUIRE(answer.status == 200);
        return json::parse(answer.body);
    }

    // Every item of a paged list, following `next`, `limit` at a time.
    std::vector<json> all_pages(const std::string& target, const std::string& token, int limit, const std::string& path = {}) {
        std::vector<json> items;
        std::string after;
        for (int page = 0; page < 1000; ++page) {
            std::string sep = target.find('?') == std::string::npos ? "?" : "&";
            auto body = get_json(fmt::format("{}{}limit={}{}", target, sep, limit, after.empty() ? "" : "&after=" + after),
                                 token, path);
            for (auto& item : body["items"]) items.push_back(item);
            if (body["next"].is_null()) return items;
            after = body["next"].get<std::string>();
        }
        FAIL("paging did not end");
        return items;
    }

    void upload_photos() {
        TempDir local;
        photo = make_jpeg(local.path(), "photo.jpg", 1200, 800);
        const passwd* account = ::getpwnam(user.c_str());
        REQUIRE(account);
        auto& t = d.tenant(0);
        AsUser as(account->pw_uid, account->pw_gid);
        REQUIRE(make_dir(t.path("job00001/Class 1A")) == 0);
        REQUIRE(make_dir(t.path("job00001/Class 1A/group")) == 0);
        for (int i = 1; i <= 5; ++i)
            REQUIRE(write_file(t.path(fmt::format("job00001/Class 1A/IMG_000{}.jpg", i)),
                               i == 1 ? photo : jpeg_variant(photo, i)) == 0);
        for (int i = 6; i <= 7; ++i)
            REQUIRE(write_file(t.path(fmt::format("job00001/Class 1A/group/IMG_000{}.jpg", i)), jpeg_variant(photo, i)) == 0);
        // The same bytes again, and text named as a photo.
        REQUIRE(write_file(t.path("job00001/Class 1A/IMG_0001 copy.jpg"), photo) == 0);
        REQUIRE(write_file(t.path("job00001/Class 1A/IMG_0009.jpg"), "these are not the pixels you are looking for") == 0);
    }

    // Waits (at most 60 s) until the job's uploads are settled: 7 photos.
    void wait_until_filed() {
        bool settled = within(60, [&] {
            auto uploads = all_pages("/v1/jobs/job00001/uploads", token_a, 1000);
            int done = 0;
            for (const auto& u : uploads)
                if (u["state"] == "ingested" || u["state"] == "rejected") ++done;
            return uploads.size() == 9 && done == 9;
        });
        REQUIRE_MESSAGE(settled, d.api().log());
    }
};

const std::set<std::string> photo_names{"IMG_0001.jpg", "IMG_0002.jpg", "IMG_0003.jpg", "IMG_0004.jpg",
                                        "IMG_0005.jpg", "IMG_0006.jpg", "IMG_0007.jpg"};

std::string with_tenant(const std::string& target, const std::string& slug) {
    return target + (target.find('?') == std::string::npos ? "?" : "&") + "tenant=" + slug;
}

}  // namespace

TEST_CASE("every route answers what the OpenAPI document says, over real uploads") {
    REQUIRE_DEPLOYABLE();
    Studio s;
    s.wait_until_filed();
    const auto& a = s.token_a;

    auto document = s.get_json("/v1/openapi.json", "", "/v1/openapi.json");
    CHECK(document["openapi"] == "3.1.0");

    // Jobs: list, show, create, change status.
    auto jobs = s.get_json("/v1/jobs", a, "/v1/jobs");
    REQUIRE(jobs["items"].size() == 2);
    CHECK(jobs["items"][0]["name"] == "job00001");
    CHECK(s.get_json("/v1/jobs?status=selling", a, "/v1/jobs")["items"].empty());
    CHECK(s.get_json("/v1/jobs/job00002", a, "/v1/jobs/{job}")["layout"] == "flat");
    auto made = s.call("POST", "/v1/jobs", a, "/v1/jobs", R"({"name": "job00003", "title": "Spring 2027", "layout": "flat"})");
    CHECK(made.status == 201);
    CHECK(made.header("location") == "/v1/jobs/job00003");
    CHECK(json::parse(made.body)["title"] == "Spring 2027");
    CHECK(s.call("POST", "/v1/jobs", a, "/v1/jobs", R"({"name": "job00003"})").status == 409);
    CHECK(s.call("POST", "/v1/jobs", a, "/v1/jobs", R"({"name": "../etc"})").status == 400);
    CHECK(s.call("POST", "/v1/jobs", a, "/v1/jobs", R"({"title": "no name"})").status == 400);
    CHECK(s.call("POST", "/v1/jobs", a, "/v1/jobs", R"({"name": "job00004", "layout": "spiral"})").status == 400);
    CHECK(s.call("POST", "/v1/jobs", a, "/v1/jobs", R"({"name": )").status == 400);
    CHECK(s.call("POST", "/v1/jobs", a, "/v1/jobs", "name=job00004", {{"Content-Type", "text/plain"}}).status == 415);
    CHECK(s.call("GET", "/v1/jobs/job09999", a, "/v1/jobs/{job}").status == 404);
    Id before = s.get_json("/v1/events", a, "/v1/events")["items"].back()["id"].get<Id>();
    auto changed = s.call("PATCH", "/v1/jobs/job00003", a, "/v1/jobs/{job}", R"({"status": "selling"})");
    CHECK(changed.status == 200);
    CHECK(json::parse(changed.body)["status"] == "selling");
    CHECK(s.call("PATCH", "/v1/jobs/job00003", a, "/v1/jobs/{job}", R"({"status": "sold"})").status == 400);
    auto after_change = s.get_json(fmt::format("/v1/events?after={}", before), a, "/v1/events")["items"];
    REQUIRE(after_change.size() == 1);
    CHECK(after_change[0]["type"] == "job.status_changed");
    CHECK(after_change[0]["data"]["to"] == "selling");
    CHECK(after_change[0]["tenant"] == "studio-a");

    // Albums.
    auto albums = s.get_json("/v1/jobs/job00001/albums", a, "/v1/jobs/{job}/albums")["items"];
    REQUIRE(albums.size() == 1);
    CHECK(albums[0]["name"] == "Class 1A");
    CHECK(albums[0]["sections"] == json::array({"individuals", "group"}));

    // Uploads, two at a time: each once, in id order, with state, reason, who sent it.
    auto uploads = s.all_pages("/v1/jobs/job00001/uploads", a, 2, "/v1/jobs/{job}/uploads");
    REQUIRE(uploads.size() == 9);
    std::set<Id> upload_ids;
    for (size_t i = 0; i < uploads.size(); ++i) {
        upload_ids.insert(uploads[i]["id"].get<Id>());
        if (i > 0) CHECK(uploads[i]["id"].get<Id>() > uploads[i - 1]["id"].get<Id>());
        CHECK(uploads[i]["user"] == s.user);
    }
    CHECK(upload_ids.size() == 9);
    json copy, refused;
    for (const auto& u : uploads) {
        if (u["file"] == "IMG_0001 copy.jpg") copy = u;
        if (u["file"] == "IMG_0009.jpg") refused = u;
    }
    REQUIRE(copy.is_object());
    REQUIRE(refused.is_object());
    CHECK(copy["state"] == "ingested");
    CHECK(copy["duplicate_of"].is_number());
    CHECK(refused["state"] == "rejected");
    CHECK_FALSE(refused["reason"].get<std::string>().empty());
    CHECK(refused["path"] == "Class 1A/IMG_0009.jpg");
    auto rejected = s.get_json("/v1/jobs/job00001/uploads?state=rejected", a, "/v1/jobs/{job}/uploads")["items"];
    REQUIRE(rejected.size() == 1);
    CHECK(rejected[0]["id"] == refused["id"]);
    CHECK(s.call("GET", "/v1/jobs/job00001/uploads?state=lost", a, "/v1/jobs/{job}/uploads").status == 400);
    CHECK(s.call("GET", "/v1/jobs/job00001/uploads?limit=0", a, "/v1/jobs/{job}/uploads").status == 400);
    CHECK(s.call("GET", "/v1/jobs/job00001/uploads?after=abc", a, "/v1/jobs/{job}/uploads").status == 400);

    // Photos: paged, by album and section, with their metadata.
    auto photos = s.all_pages("/v1/jobs/job00001/photos", a, 3, "/v1/jobs/{job}/photos");
    std::set<std::string> names;
    for (const auto& p : photos) names.insert(p["file"].get<std::string>());
    CHECK(names == photo_names);
    CHECK(s.get_json("/v1/jobs/job00001/photos?section=group", a, "/v1/jobs/{job}/photos")["items"].size() == 2);
    CHECK(s.get_json("/v1/jobs/job00001/photos?album=Class%201A&section=individuals", a,
                     "/v1/jobs/{job}/photos")["items"].size() == 5);
    CHECK(s.call("GET", "/v1/jobs/job00001/photos?album=Class%202B", a, "/v1/jobs/{job}/photos").status == 404);
    json first;
    for (const auto& p : photos)
        if (p["file"] == "IMG_0001.jpg") first = p;
    REQUIRE(first.is_object());
    CHECK(first["id"] == copy["duplicate_of"]);
    CHECK(first["width"] == 1200);
    CHECK(first["height"] == 800);
    CHECK(first["album"] == "Class 1A");
    CHECK(first["size"] == static_cast<int64_t>(s.photo.size()));
    std::string base = fmt::format("/v1/photos/{}", first["id"].get<Id>());
    CHECK(s.get_json(base, a, "/v1/photos/{photo}") == first);
    CHECK(s.call("GET", "/v1/photos/999999", a, "/v1/photos/{photo}").status == 404);

    // Files: the original as uploaded, JPEG renditions; ETag, Range, HEAD.
    auto original = s.call("GET", base + "/original", a, "/v1/photos/{photo}/original");
    CHECK(original.status == 200);
    CHECK(original.body == s.photo);
    CHECK(original.header("content-type") == "image/jpeg");
    CHECK(original.header("cache-control").find("immutable") != std::string::npos);
    std::string etag = original.header("etag");
    CHECK_FALSE(etag.empty());
    for (const char* kind : {"thumbnail", "preview"}) {
        auto rendition = s.call("GET", base + "/" + kind, a, std::string("/v1/photos/{photo}/") + kind);
        CHECK(rendition.status == 200);
        CHECK(rendition.body.substr(0, 2) == "\xFF\xD8");
        CHECK(rendition.body.size() < s.photo.size());
        CHECK(rendition.header("etag") != etag);
    }
    CHECK(s.call("GET", base + "/original", a, "/v1/photos/{photo}/original", {}, {{"If-None-Match", etag}}).status == 304);
    auto part = s.call("GET", base + "/original", a, "/v1/photos/{photo}/original", {}, {{"Range", "bytes=100-199"}});
    CHECK(part.status == 206);
    CHECK(part.body == s.photo.substr(100, 100));
    CHECK(part.header("content-range") == fmt::format("bytes 100-199/{}", s.photo.size()));
    auto tail = s.call("GET", base + "/original", a, "/v1/photos/{photo}/original", {}, {{"Range", "bytes=-10"}});
    CHECK(tail.status == 206);
    CHECK(tail.body == s.photo.substr(s.photo.size() - 10));
    auto rest = s.call("GET", base + "/original", a, "/v1/photos/{photo}/original", {},
                       {{"Range", fmt::format("bytes={}-", s.photo.size() - 5)}});
    CHECK(rest.body == s.photo.substr(s.photo.size() - 5));
    auto past = s.call("GET", base + "/original", a, "/v1/photos/{photo}/original", {},
                       {{"Range", fmt::format("bytes={}-", s.photo.size())}});
    CHECK(past.status == 416);
    CHECK(past.header("content-range") == fmt::format("bytes */{}", s.photo.size()));
    auto stale = s.call("GET", base + "/original", a, "/v1/photos/{photo}/original", {},
                        {{"Range", "bytes=0-9"}, {"If-Range", "\"another\""}});
    CHECK(stale.status == 200);
    CHECK(stale.body == s.photo);
    auto head = s.call("HEAD", base + "/original", a, "/v1/photos/{photo}/original");
    CHECK(head.status == 200);
    CHECK(head.header("content-length") == std::to_string(s.photo.size()));
    CHECK(head.body.empty());

    // Events since a cursor: what happened to the job's uploads, in order, each once.
    auto events = s.all_pages("/v1/events", a, 4, "/v1/events");
    std::multiset<std::string> types;
    for (size_t i = 0; i < events.size(); ++i) {
        types.insert(events[i]["type"].get<std::string>());
        if (i > 0) CHECK(events[i]["id"].get<Id>() > events[i - 1]["id"].get<Id>());
    }
    CHECK(types.count("photo.ingested") == 7);
    CHECK(types.count("photo.duplicate") == 1);
    CHECK(types.count("upload.rejected") == 1);
    CHECK(types.count("album.created") == 1);

    // The job's events as a stream: what happens from `after` on.
    auto streamed = raw_exchange(s.port, fmt::format("GET /v1/jobs/job00003/stream?after={} HTTP/1.1\r\nHost: x\r\n"
                                                     "Authorization: Bearer {}\r\n\r\n", before, a),
                                 std::chrono::milliseconds(1500));
    CHECK(streamed.starts_with("HTTP/1.1 200"));
    CHECK(streamed.find("Content-Type: text/event-stream") != std::string::npos);
    CHECK(streamed.find("event: job.status_changed\ndata: {") != std::string::npos);
    s.exchanges.push_back({{"method", "GET"}, {"path", "/v1/jobs/{job}/stream"}, {"status", 200},
                           {"content_type", "text/event-stream"}, {"body", ""}});

    // Set-up files for the logins that may upload into the job, as the job page offers them.
    auto logins = s.get_json("/v1/jobs/job00001/logins", a, "/v1/jobs/{job}/logins")["items"];
    REQUIRE(logins.size() == 1);  // not the login of job00002 only
    CHECK(logins[0]["username"] == s.user);
    CHECK(logins[0]["protocols"] == "sftp,ftps");
    CHECK(logins[0]["camera"].is_null());
    auto filezilla = logins[0]["client_config"]["sftp"]["filezilla"].get<std::string>();
    CHECK(filezilla == fmt::format("/v1/jobs/job00001/logins/{}/client-config?format=filezilla&protocol=sftp", s.user));
    auto site = s.call("GET", filezilla, a, "/v1/jobs/{job}/logins/{login}/client-config");
    CHECK(site.status == 200);
    CHECK(site.header("content-type") == "application/xml");
    CHECK(site.header("content-disposition") ==
          fmt::format("attachment; filename=\"photodrop-{}-sftp-filezilla.xml\"", s.user));
    for (const auto& part : {std::string("<Host>upload.example.test</Host>"), std::string("<Port>2222</Port>"),
                             fmt::format("<User>{}</User>", s.user), std::string("SHA256:")})
        CHECK_MESSAGE(site.body.find(part) != std::string::npos, part);
    CHECK(site.body.find("<Pass") == std::string::npos);  // never a password
    auto rclone = s.call("GET", logins[0]["client_config"]["ftps"]["rclone"].get<std::string>(), a,
                         "/v1/jobs/{job}/logins/{login}/client-config");
    CHECK(rclone.status == 200);
    CHECK(rclone.body.find("explicit_tls = true") != std::string::npos);
    CHECK(rclone.body.find(fmt::format("port = {}", s.ftp.port)) != std::string::npos);
    auto config_of = [&](const std::string& who, const std::string& query) {
        return s.call("GET", fmt::format("/v1/jobs/job00001/logins/{}/client-config?{}", who, query), a,
                      "/v1/jobs/{job}/logins/{login}/client-config")
            .status;
    };
    CHECK(config_of(s.user, "format=putty") == 400);
    CHECK(config_of(s.user, "format=winscp&protocol=ftp") == 400);
    CHECK(config_of(s.other_job_user, "format=winscp") == 404);
    CHECK(config_of("nobody", "format=winscp") == 404);
    // Another studio's job00001 has no logins of the first's.
    CHECK(s.get_json("/v1/jobs/job00001/logins", s.token_b, "/v1/jobs/{job}/logins")["items"].empty());

    // The answers against the document.
    TempDir dir;
    auto recorded = dir.path() / "exchanges.json";
    std::ofstream(recorded) << s.exchanges.dump();
    int status = 0;
    auto report = output_of({"/usr/bin/python3", PHOTODROP_E2E_DIR "/check_openapi.py", PHOTODROP_OPENAPI, recorded.string()},
                            &status);
    INFO(report);
    CHECK(status == 0);
}

TEST_CASE("a tenant's token reaches nothing of another tenant, on every route; an operator's names the tenant") {
    REQUIRE_DEPLOYABLE();
    Studio s;
    s.wait_until_filed();
    const auto& b = s.token_b;
    auto photos = s.get_json("/v1/jobs/job00001/photos", s.token_a)["items"];
    REQUIRE_FALSE(photos.empty());
    std::string photo = fmt::format("/v1/photos/{}", photos[0]["id"].get<Id>());

    // studio-b has its own job00001, empty: it sees that one, never studio-a's.
    CHECK(s.get_json("/v1/jobs/job00001/photos", b)["items"].empty());
    CHECK(s.get_json("/v1/jobs/job00001/uploads", b)["items"].empty());
    CHECK(s.get_json("/v1/jobs/job00001/albums", b)["items"].empty());
    for (const auto& suffix : {"", "/thumbnail", "/preview", "/original"}) {
        CAPTURE(suffix);
        auto answer = s.call("GET", photo + suffix, b);
        CHECK(answer.status == 404);
        CHECK(answer.body.find("studio-a") == std::string::npos);
    }
    for (const auto& target : {"/v1/jobs", "/v1/jobs/job00001", "/v1/jobs/job00001/albums", "/v1/jobs/job00001/uploads",
                               "/v1/jobs/job00001/photos", "/v1/events"}) {
        CAPTURE(target);
        CHECK(s.call("GET", with_tenant(target, "studio-a"), b).status == 404);
    }
    CHECK(s.call("GET", with_tenant(photo, "studio-a"), b).status == 404);
    CHECK(s.call("POST", with_tenant("/v1/jobs", "studio-a"), b, {}, R"({"name": "job00005"})").status == 404);
    CHECK(s.call("PATCH", with_tenant("/v1/jobs/job00001", "studio-a"), b, {}, R"({"status": "archived"})").status == 404);
    // A change by b's token changes b's job of that name, not a's.
    CHECK(s.call("PATCH", "/v1/jobs/job00001", b, {}, R"({"status": "archived"})").status == 200);
    CHECK(s.get_json("/v1/jobs/job00001", s.token_a)["status"] == "planned");
    for (const auto& e : s.all_pages("/v1/events", b, 1000)) CHECK(e["tenant"] == "studio-b");

    // The operator's token: every tenant, named with ?tenant=.
    const auto& op = s.token_operator;
    auto refused = s.call("GET", "/v1/jobs", op);
    CHECK(refused.status == 400);
    CHECK(refused.body.find("?tenant=") != std::string::npos);
    CHECK(s.get_json(with_tenant("/v1/jobs/job00001/photos", "studio-a"), op)["items"].size() == photos.size());
    CHECK(s.call("GET", with_tenant(photo + "/thumbnail", "studio-a"), op).status == 200);
    CHECK(s.call("GET", with_tenant(photo, "studio-b"), op).status == 404);
    CHECK(s.call("GET", with_tenant("/v1/jobs", "studio-x"), op).status == 404);
    std::set<std::string> tenants;
    for (const auto& e : s.all_pages("/v1/events", op, 1000)) tenants.insert(e["tenant"].get<std::string>());
    CHECK(tenants == std::set<std::string>{"studio-a", "studio-b"});
}

TEST_CASE("bad tokens, malformed requests and oversize ones get clear errors, and the server keeps serving") {
    REQUIRE_DEPLOYABLE();
    Deployment d({"studio-a"});
    auto port = d.start_api();
    std::string out;
    REQUIRE(d.ctl({"--json", "token", "add", "--tenant", "studio-a", "--read-only"}, "", &out) == 0);
    auto made = json::parse(out);
    std::string token = made["token"];
    auto get = [&](const std::string& target, std::vector<std::pair<std::string, std::string>> headers = {}) {
        return http_request(port, HttpRequest{"GET", target, std::move(headers), {}});
    };
    auto serving = [&] {
        return get("/v1/jobs", {{"Authorization", "Bearer " + token}}).status == 200;
    };
    auto error_of = [](const HttpResponse& r) { return json::parse(r.body)["error"]; };

    REQUIRE(serving());
    auto none = get("/v1/jobs");
    CHECK(none.status == 401);
    CHECK(none.header("www-authenticate").starts_with("Bearer"));
    CHECK(error_of(none)["message"].get<std::string>().find("token") != std::string::npos);
    CHECK(get("/v1/jobs", {{"Authorization", "Bearer pd_not-a-token"}}).status == 401);
    CHECK(get("/v1/jobs", {{"Authorization", "Basic dXNlcjpwYXNz"}}).status == 401);
    auto read_only = http_request(port, HttpRequest{"POST", "/v1/jobs", {{"Authorization", "Bearer " + token},
                                                                         {"Content-Type", "application/json"}},
                                                    R"({"name": "job00009"})"});
    CHECK(read_only.status == 403);
    CHECK(error_of(read_only)["code"] == "read_only");
    CHECK(get("/v2/jobs", {{"Authorization", "Bearer " + token}}).status == 404);
    CHECK(get("/v1/nothing", {{"Authorization", "Bearer " + token}}).status == 404);
    CHECK(get("/v1/jobs/job%zz", {{"Authorization", "Bearer " + token}}).status == 400);
    CHECK(http_request(port, HttpRequest{"DELETE", "/v1/jobs/job00001", {{"Authorization", "Bearer " + token}}, {}}).status ==
          403);
    CHECK(serving());

    // Not HTTP; headers over the limit; a body over the limit; a body that never comes.
    constexpr char tls_hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 hello\r\n\r\n";
    auto garbage = raw_exchange(port, std::string(tls_hello, sizeof tls_hello - 1));
    CHECK(garbage.starts_with("HTTP/1.1 400"));
    CHECK(serving());
    auto huge_header = get("/v1/jobs", {{"Authorization", "Bearer " + token}, {"X-Filler", std::string(20000, 'x')}});
    CHECK(huge_header.status == 431);
    CHECK(serving());
    auto huge_body = http_request(port, HttpRequest{"POST", "/v1/jobs", {{"Authorization", "Bearer " + token},
                                                                         {"Content-Type", "application/json"}},
                                                    std::string(1 << 20, ' ')});
    CHECK(huge_body.status == 413);
    CHECK(error_of(huge_body)["code"] == "too_large");
    CHECK(serving());
    auto half = raw_exchange(port, "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"na",
                             std::chrono::milliseconds(500));
    CHECK(half.empty());  // still waiting for the body when the client gave up
    CHECK(serving());

    // The job page's files are public and cached; its templates are not files.
    auto script = get("/assets/job.js");
    CHECK(script.status == 200);
    CHECK(script.header("content-type").starts_with("text/javascript"));
    CHECK(script.header("cache-control") == "public, max-age=300");
    CHECK(get("/assets/job.html").status == 404);
    CHECK(get("/assets/../v1/jobs").status != 200);

    // A revoked token opens nothing any more, once photodrop-api's memory of
    // it (a second from its last lookup, made before the revocation) is over.
    REQUIRE(serving());
    REQUIRE(d.ctl({"token", "revoke", std::to_string(made["id"].get<Id>())}) == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    auto revoked = get("/v1/jobs", {{"Authorization", "Bearer " + token}});
    CHECK(revoked.status == 401);
    CHECK(error_of(revoked)["message"].get<std::string>().find("revoked") != std::string::npos);
    CHECK(get("/v1/photos/1/thumbnail", {{"Authorization", "Bearer " + token}}).status == 401);
    CHECK(d.api().running());
}

TEST_CASE("a photo deleted through the mount: its metadata is gone at once, its files within a second") {
    REQUIRE_DEPLOYABLE();
    Studio s;
    s.wait_until_filed();
    const auto& a = s.token_a;
    std::string id;
    for (const auto& p : s.all_pages("/v1/jobs/job00001/photos", a, 100))
        if (p["file"] == "IMG_0002.jpg") id = std::to_string(p["id"].get<Id>());
    REQUIRE(!id.empty());
    auto thumbnail = "/v1/photos/" + id + "/thumbnail";
    REQUIRE(s.call("GET", thumbnail, a).status == 200);  // remembered from now for a second
    {
        const passwd* account = ::getpwnam(s.user.c_str());
        REQUIRE(account);
        AsUser as(account->pw_uid, account->pw_gid);
        REQUIRE(::unlink(s.d.tenant(0).path("job00001/Class 1A/IMG_0002.jpg").c_str()) == 0);
    }
    CHECK(s.call("GET", "/v1/photos/" + id, a).status == 404);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    for (const char* kind : {"thumbnail", "preview", "original"})
        CHECK_MESSAGE(s.call("GET", "/v1/photos/" + id + "/" + kind, a).status == 404, kind);
    CHECK(s.call("GET", "/v1/photos/" + id, a).status == 404);
}
