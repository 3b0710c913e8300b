// The job page in a real browser: Debian's chromium, headless, driven
// through chromedriver (W3C WebDriver). A studio signs in with a token (or
// opens a signed link), sees its albums, thumbnails and refused files, and
// a photo uploaded through the mount appears without a reload. A screenshot
// of the page is saved as the test's artifact (job-page.png in the working
// directory).

#include "tests/support/deployment.hpp"
#include "tests/support/ftpd.hpp"
#include "tests/support/files.hpp"
#include "tests/support/http.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <openssl/evp.h>

#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

using namespace photodrop;
using namespace photodrop::test;
using json = nlohmann::json;

namespace {

constexpr const char* element_key = "element-6066-11e4-a52e-4f735466cecf";

// chromedriver on a free port, and one browser session, ended (and the browser closed) at the end.
class Browser {
public:
    explicit Browser(const std::filesystem::path& profile) {
        REQUIRE_MESSAGE(std::filesystem::exists("/usr/bin/chromedriver"), "the page test needs chromium-driver");
        port_ = static_cast<unsigned short>(free_port());
        // TMPDIR: Chromium's own scratch folders go with the profile.
        driver_ = Process({"/usr/bin/chromedriver", fmt::format("--port={}", port_)}, (profile / "chromedriver.log").string(),
                          {"TMPDIR=" + profile.string()});
        bool up = within(20, [&] { return call("GET", "/status").value("value", json::object()).value("ready", false); });
        REQUIRE_MESSAGE(up, "chromedriver did not start: ", driver_.log());
        json capabilities{{"browserName", "chrome"},
                          {"goog:chromeOptions",
                           {{"binary", "/usr/bin/chromium"},
                            {"args", {"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                      "--user-data-dir=" + (profile / "chromium").string(), "--window-size=412,915",
                                      "--no-first-run"}}}}};
        auto session = call("POST", "/session", {{"capabilities", {{"alwaysMatch", capabilities}}}});
        REQUIRE_MESSAGE(session["value"].contains("sessionId"), session.dump(), driver_.log());
        session_ = session["value"]["sessionId"];
    }
    ~Browser() {
        if (!session_.empty()) call("DELETE", "/session/" + session_);
    }

    void go(const std::string& url) { command("POST", "/url", {{"url", url}}); }
    std::string element(const std::string& css) {
        auto found = command("POST", "/element", {{"using", "css selector"}, {"value", css}});
        REQUIRE_MESSAGE(found["value"].contains(element_key), "no element ", css, ": ", found.dump());
        return found["value"][element_key];
    }
    void type(const std::string& css, const std::string& text) {
        command("POST", "/element/" + element(css) + "/value", {{"text", text}});
    }
    void click(const std::string& css) { command("POST", "/element/" + element(css) + "/click", json::object()); }
    json run(const std::string& script) {
        return command("POST", "/execute/sync", {{"script", script}, {"args", json::array()}})["value"];
    }
    // The page as a PNG.
    std::string screenshot() {
        std::string encoded = command("GET", "/screenshot")["value"];
        std::string png(encoded.size(), '\0');
        int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(png.data()),
                                reinterpret_cast<const unsigned char*>(encoded.data()), static_cast<int>(encoded.size()));
        REQUIRE(n > 0);
        png.resize(static_cast<size_t>(n) - (encoded.ends_with("==") ? 2 : encoded.ends_with('=') ? 1 : 0));
        return png;
    }

private:
    json call(const std::string& method, const std::string& path, const json& body = nullptr) {
        HttpRequest r{method, path, {}, body.is_null() ? "" : body.dump(), std::chrono::milliseconds(60000)};
        if (!body.is_null()) r.headers.emplace_back("Content-Type", "application/json");
        auto answer = http_request(port_, r);
        if (answer.status == 0) return json::object();
        return json::parse(answer.body, nullptr, false);
    }
    json command(const std::string& method, const std::string& path, const json& body = nullptr) {
        return call(method, "/session/" + session_ + path, body);
    }

    unsigned short port_ = 0;
    Process driver_;
    std::string session_;
};

}  // namespace

TEST_CASE("the job page in a real browser: sign in, albums and thumbnails, a new photo live, refused files") {
    REQUIRE_DEPLOYABLE();
    Deployment d({"studio-p"});
    auto user = d.add_user("pdtp", "studio-p");
    d.start_ingest();
    // The SSH host key and FTP certificate the page's set-up files name.
    TempDir servers;
    REQUIRE(run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", (servers.path() / "host_key").string()}) == 0);
    auto settings = ftp_setting_variables(make_ftp_settings(servers.path()));
    settings.insert(settings.end(), {"PHOTODROP_PUBLIC_HOST=upload.example.test",
                                     "PHOTODROP_SFTP_HOST_KEY=" + (servers.path() / "host_key.pub").string()});
    auto port = d.start_api({}, settings);
    std::string out;
    REQUIRE(d.ctl({"--json", "token", "add", "--tenant", "studio-p", "--read-only"}, "", &out) == 0);
    std::string token = json::parse(out)["token"];

    TempDir local;
    auto photo = make_jpeg(local.path(), "photo.jpg", 1200, 800);
    const passwd* account = ::getpwnam(user.c_str());
    REQUIRE(account);
    auto& t = d.tenant(0);
    auto upload = [&](const std::string& path, const std::string& bytes) {
        AsUser as(account->pw_uid, account->pw_gid);
        return write_file(t.path(path), bytes);
    };
    {
        AsUser as(account->pw_uid, account->pw_gid);
        REQUIRE(make_dir(t.path("job00001/Class 1A")) == 0);
        REQUIRE(make_dir(t.path("job00001/Class 1A/group")) == 0);
    }
    REQUIRE(upload("job00001/Class 1A/IMG_0001.jpg", photo) == 0);
    REQUIRE(upload("job00001/Class 1A/group/IMG_0002.jpg", jpeg_variant(photo, 2)) == 0);
    REQUIRE(upload("job00001/Class 1A/IMG_0009.jpg", "these are not the pixels you are looking for") == 0);
    auto settled = [&](size_t photos) {
        HttpRequest r{"GET", "/v1/jobs/job00001/uploads?tenant=studio-p", {{"Authorization", "Bearer " + token}}, {}};
        auto answer = http_request(port, r);
        if (answer.status != 200) return false;
        size_t ingested = 0, rejected = 0;
        auto uploads = json::parse(answer.body);
        for (const auto& u : uploads["items"]) {
            ingested += u["state"] == "ingested";
            rejected += u["state"] == "rejected";
        }
        return ingested == photos && rejected == 1;
    };
    REQUIRE_MESSAGE(within(60, [&] { return settled(2); }),
                    http_request(port, {"GET", "/v1/jobs/job00001/uploads?tenant=studio-p",
                                        {{"Authorization", "Bearer " + token}}, {}}).body, d.api().log());

    TempDir profile;
    Browser browser(profile.path());
    std::string page = fmt::format("http://127.0.0.1:{}/jobs/job00001?tenant=studio-p", port);

    // Signed out: the sign-in form; a wrong token is refused with words; the right one opens the page.
    browser.go(page);
    CHECK(browser.run("return document.querySelector('h1').textContent").get<std::string>().find("Sign in") !=
          std::string::npos);
    browser.type("#token", "pd_wrong");
    browser.click("button[type=submit]");
    CHECK(within(10, [&] {
        return browser.run("var e = document.querySelector('.error'); return e ? e.textContent : ''")
                   .get<std::string>()
                   .find("not known") != std::string::npos;
    }));
    browser.type("#token", token);
    browser.click("button[type=submit]");
    auto thumbnails = [&] {
        return browser.run("return Array.from(document.querySelectorAll('.grid img'))"
                           ".filter(i => i.complete && i.naturalWidth > 0).length")
            .get<int>();
    };
    REQUIRE_MESSAGE(within(15, [&] { return thumbnails() == 2; }), d.api().log());
    CHECK(browser.run("return document.querySelector('#albums h2').textContent") == "Class 1A");
    CHECK(browser.run("return Array.from(document.querySelectorAll('h3')).map(h => h.textContent).join(',')") ==
          "Individuals,Group");
    CHECK(browser.run("return Array.from(document.querySelectorAll('.grid img')).every(i => i.alt.includes('.jpg'))") ==
          true);
    CHECK(browser.run("return document.documentElement.lang") == "en");
    auto refused = browser.run("return document.querySelector('#refused tbody').textContent").get<std::string>();
    CHECK(refused.find("Class 1A/IMG_0009.jpg") != std::string::npos);
    CHECK(refused.find(user) != std::string::npos);
    CHECK(browser.run("return document.querySelector('#refused-section').hidden") == false);
    REQUIRE(within(10, [&] { return browser.run("return document.getElementById('live').textContent") == "Live"; }));

    // The photographers' set-up files: the login, a file per client for SFTP and for FTPS, fetched as signed in.
    CHECK(browser.run("return document.querySelector('#connect-section').hidden") == false);
    auto login = browser.run("return document.querySelector('#logins tbody tr').textContent").get<std::string>();
    CHECK(login.find(user) != std::string::npos);
    CHECK(login.find("FileZilla") != std::string::npos);
    CHECK(browser.run("return document.querySelectorAll('#logins a[download]').length") == 8);
    auto site = browser.run("var x = new XMLHttpRequest(); "
                            "x.open('GET', document.querySelector('#logins a[download]').href, false); x.send(); "
                            "return x.status + ' ' + x.responseText")
                    .get<std::string>();
    CAPTURE(site);
    CHECK(site.starts_with("200 "));
    CHECK(site.find("<Host>upload.example.test</Host>") != std::string::npos);
    CHECK(site.find(fmt::format("<User>{}</User>", user)) != std::string::npos);

    // A photo uploaded now appears without a reload, newest first.
    browser.run("window.notReloaded = true; return true");
    auto closed = std::chrono::steady_clock::now();
    REQUIRE(upload("job00001/Class 1A/IMG_0003.jpg", jpeg_variant(photo, 3)) == 0);
    REQUIRE(within(60, [&] { return settled(3); }));
    auto filed = std::chrono::steady_clock::now();
    bool appeared = within(2, [&] { return thumbnails() == 3; });
    auto shown = std::chrono::steady_clock::now();
    MESSAGE(fmt::format("close to ingested {:.0f} ms, ingested to shown on the page {:.0f} ms",
                        std::chrono::duration<double, std::milli>(filed - closed).count(),
                        std::chrono::duration<double, std::milli>(shown - filed).count()));
    CHECK_MESSAGE(appeared, "the new photo did not appear within 2 s of being filed");
    CHECK(browser.run("return window.notReloaded === true") == true);
    CHECK(browser.run("return document.querySelector('.grid li .name').textContent") == "IMG_0003.jpg");

    // Who is in a photo: the roster's name, shown live when an operator assigns it, and gone when that is undone.
    auto subject_of = [&](const std::string& file) {
        return browser.run(fmt::format("var l = Array.from(document.querySelectorAll('.grid li'))"
                                       ".find(l => l.querySelector('.name').textContent === '{}'); "
                                       "return l ? l.querySelector('.subject').textContent : 'missing'",
                                       file))
            .get<std::string>();
    };
    CHECK(subject_of("IMG_0001.jpg") == "");
    auto roster = local_file(local.path(), "roster.csv", "S-1,Ada Lovelace,1A\n");
    REQUIRE(d.ctl({"roster", "import", "--tenant", "studio-p", "--job", "job00001", roster.string()}) == 0);
    std::string first;
    for (const auto& p : t.catalog().photos(t.albums_job.id))
        if (p.filename == "IMG_0001.jpg") first = std::to_string(p.id);
    REQUIRE_FALSE(first.empty());
    auto assign = [&](const std::string& how) {
        std::vector<std::string> args{"subjects", "assign", "--tenant", "studio-p", "--job", "job00001", first, how};
        if (how == "--to") args.push_back("S-1");
        return d.ctl(args);
    };
    REQUIRE(assign("--to") == 0);
    CHECK(within(10, [&] { return subject_of("IMG_0001.jpg") == "Ada Lovelace"; }));
    REQUIRE(assign("--unassigned") == 0);
    CHECK(within(10, [&] { return subject_of("IMG_0001.jpg") == ""; }));
    REQUIRE(assign("--to") == 0);
    CHECK(within(10, [&] { return subject_of("IMG_0001.jpg") == "Ada Lovelace"; }));
    CHECK(subject_of("IMG_0003.jpg") == "");
    CHECK(browser.run("return window.notReloaded === true") == true);

    // A refused file arrives live too.
    REQUIRE(upload("job00001/Class 1A/notes.jpg", "more words than pixels") == 0);
    CHECK(within(20, [&] {
        return browser.run("return document.querySelector('#refused tbody').textContent").get<std::string>().find(
                   "notes.jpg") != std::string::npos;
    }));
    std::ofstream("job-page.png", std::ios::binary) << browser.screenshot();
    CHECK(std::filesystem::file_size("job-page.png") > 1000);
}

TEST_CASE("a signed job link opens that job's page read-only, and no other") {
    REQUIRE_DEPLOYABLE();
    Deployment d({"studio-p"});
    auto port = d.start_api();
    std::string out;
    REQUIRE(d.ctl({"--json", "job", "link", "--tenant", "studio-p", "job00001", "--base-url",
                   fmt::format("http://127.0.0.1:{}", port)},
                  "", &out) == 0);
    std::string link = json::parse(out)["url"];
    TempDir profile;
    Browser browser(profile.path());
    browser.go(link);
    REQUIRE_MESSAGE(within(15, [&] { return browser.run("return document.getElementById('live').textContent") == "Live"; }),
                    d.api().log());
    CHECK(browser.run("return location.search.includes('grant')") == false);  // the grant went into a cookie
    // With the link's cookie, the browser reads this job and nothing else.
    auto status = [&](const std::string& url, const std::string& method = "GET") {
        return browser.run(fmt::format("var x = new XMLHttpRequest(); x.open('{}', '{}', false); x.send(); return x.status",
                                       method, url))
            .get<int>();
    };
    CHECK(status("/v1/jobs/job00001/photos") == 200);
    CHECK(status("/v1/jobs/job00002/photos") == 404);
    CHECK(status("/v1/events") == 403);
    CHECK(status("/v1/jobs/job00001", "PATCH") == 403);
    browser.go(fmt::format("http://127.0.0.1:{}/jobs/job00002?tenant=studio-p", port));
    CHECK(browser.run("return document.body.textContent").get<std::string>().find("No job") != std::string::npos);
    // A forged link opens nothing.
    std::string forged = link.substr(0, link.size() - 4) + "AAAA";
    browser.go(forged);
    CHECK(browser.run("return document.querySelector('.error').textContent").get<std::string>().find("expired") !=
          std::string::npos);
    // The log names the request, never the grant it carried.
    std::string grant = link.substr(link.find("grant=") + 6);
    CHECK(d.api().log().find("grant=...") != std::string::npos);
    CHECK(d.api().log().find(grant) == std::string::npos);
}
