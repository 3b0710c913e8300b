// user add|list|show|disable|enable|passwd|remove, with real system accounts.
// Each test uses its own name (pdtest-<pid>-N) and a guard that deletes the
// account and, if this test made it, the photodrop group, whatever happens.
#include "tests/tools/ctl_fixture.hpp"
#include "tools/spawn.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

using namespace photodrop;
using photodrop::test::Ctl;

namespace {

bool is_root() { return ::geteuid() == 0; }

// Leaves no account (and no group this test created) behind.
class AccountGuard {
public:
    AccountGuard() : name_("pdtest-" + std::to_string(::getpid()) + "-" + std::to_string(++counter_)) {
        for (const char* group : groups)
            if (!::getgrnam(group)) made_.push_back(group);
    }
    ~AccountGuard() {
        if (::getpwnam(name_.c_str())) ctl::run_program({"userdel", name_});
        for (const auto& group : made_)
            if (auto* gr = ::getgrnam(group.c_str()); gr && (!gr->gr_mem || !gr->gr_mem[0]))
                ctl::run_program({"groupdel", group});  // refused if some user's primary group: fine
    }
    AccountGuard(const AccountGuard&) = delete;
    AccountGuard& operator=(const AccountGuard&) = delete;
    const std::string& name() const { return name_; }

private:
    static constexpr const char* groups[] = {"photodrop", "photodrop-ftp", "photodrop-ftp-plain", "photodrop-no-sftp",
                                             "photodrop-camera"};
    static inline int counter_ = 0;
    std::string name_;
    std::vector<std::string> made_;  // the groups that did not exist before
};

std::string password_status(const std::string& name) {
    auto r = ctl::run_program({"passwd", "--status", name});
    auto fields = r.output.substr(name.size() + 1);
    return fields.substr(0, fields.find(' '));
}

}  // namespace

TEST_CASE("user add makes a nologin system account in group photodrop, homed at the tenant's mount; "
          "user remove deletes it and keeps its uploads") {
    REQUIRE_MESSAGE(is_root(), "managing system accounts needs root: run the tests as root");
    Ctl ctl;
    ctl.init_demo();
    REQUIRE(ctl.run({"job", "add", "--tenant", "demo", "job00002"}).status == 0);
    AccountGuard guard;
    const auto& name = guard.name();

    auto key_file = ctl.dir.path() / "id_ed25519.pub";
    std::ofstream(key_file) << "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl "
                               "photographer@laptop\n";

    auto added = ctl.run({"user", "add", "--tenant", "demo", name, "--password-stdin", "--key", key_file.string(),
                          "--jobs", "job00002"},
                         "s3cret-Pass\n");
    REQUIRE_MESSAGE(added.status == 0, added.err);
    CHECK(added.err.empty());
    CHECK(added.out.find("user " + name + " added: uid ") == 0);
    CHECK(added.out.find("jobs job00002, protocols sftp,ftps, home " + ctl.mounts + "/demo") != std::string::npos);

    passwd* pw = ::getpwnam(name.c_str());
    REQUIRE(pw);
    CHECK(std::string(pw->pw_shell) == "/usr/sbin/nologin");
    CHECK(std::string(pw->pw_dir) == ctl.mounts + "/demo");
    group* gr = ::getgrnam("photodrop");
    REQUIRE(gr);
    CHECK(pw->pw_gid == gr->gr_gid);
    uint32_t uid = pw->pw_uid;
    // The home is the FUSE mount: never created by user add.
    CHECK_FALSE(std::filesystem::exists(ctl.mounts + "/demo"));
    CHECK(password_status(name) == "P");

    struct stat st {};
    REQUIRE(::stat((ctl.keys + "/" + name).c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0644);
    CHECK(st.st_uid == 0);

    auto cat = ctl.catalog();
    auto user = cat->user(name);
    REQUIRE(user);
    CHECK(user->uid == uid);
    CHECK(user->job_ids == std::vector<Id>{cat->job(1, "job00002")->id});

    auto list = ctl.run({"user", "list", "--tenant", "demo", "--json"});
    REQUIRE(list.status == 0);
    auto rows = list.json();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0]["username"] == name);
    CHECK(rows[0]["uid"] == uid);
    CHECK(rows[0]["enabled"] == true);
    CHECK(rows[0]["jobs"] == nlohmann::json::array({"job00002"}));

    auto show = ctl.run({"user", "show", name, "--json"});
    REQUIRE(show.status == 0);
    auto shown = show.json();
    CHECK(shown["account"]["shell"] == "/usr/sbin/nologin");
    CHECK(shown["account"]["in_group"] == true);
    CHECK(shown["account"]["password"] == "P");
    CHECK(shown["key_file"] == ctl.keys + "/" + name);

    auto again = ctl.run({"user", "add", "--tenant", "demo", name});
    CHECK(again.status == 1);
    CHECK(again.err == "photodropctl: SFTP user " + name + " exists already\n");

    // An upload it made stays after it is gone.
    auto job = *cat->job(1, "job00001");
    auto album = cat->add_album(job.id, "Class 1A");
    auto upload = test::add_upload(*cat, job.id, album.id, "a.jpg", UploadState::Queued, "", uid);
    auto listed = ctl.run({"uploads", "--tenant", "demo", "--job", "job00001", "--json"}).json();
    CHECK(listed[0]["user"] == name);

    auto removed = ctl.run({"user", "remove", name});
    CHECK(removed.status == 0);
    CHECK(removed.out.find("SFTP user " + name + " removed; its uploads are kept") == 0);
    CHECK(::getpwnam(name.c_str()) == nullptr);
    CHECK_FALSE(cat->user(name));
    CHECK_FALSE(std::filesystem::exists(ctl.keys + "/" + name));
    auto kept = cat->upload(upload.id);
    REQUIRE(kept);
    CHECK(kept->uid == uid);
    CHECK(ctl.run({"uploads", "--tenant", "demo", "--job", "job00001", "--json"}).json()[0]["user"] ==
          "uid " + std::to_string(uid));
}

TEST_CASE("user disable locks and expires the account; enable undoes it; passwd sets a password") {
    REQUIRE_MESSAGE(is_root(), "managing system accounts needs root: run the tests as root");
    Ctl ctl;
    ctl.init_demo();
    AccountGuard guard;
    const auto& name = guard.name();

    auto added = ctl.run({"user", "add", "--tenant", "demo", name});
    REQUIRE_MESSAGE(added.status == 0, added.err);
    CHECK(added.out.find("cannot log in yet") != std::string::npos);

    auto passwd = ctl.run({"user", "passwd", name}, "An0ther-pass\n");
    CHECK(passwd.status == 0);
    CHECK(passwd.out == "password of " + name + " set\n");
    CHECK(password_status(name) == "P");

    auto disabled = ctl.run({"user", "disable", name});
    CHECK(disabled.status == 0);
    CHECK(disabled.out == "SFTP user " + name + " disabled: sshd and the FTP server refuse it\n");
    CHECK(password_status(name) == "L");
    CHECK(ctl.catalog()->user(name)->enabled == false);
    auto shown = ctl.run({"user", "show", name});
    CHECK(shown.out.find("status    disabled\n") != std::string::npos);
    CHECK(shown.out.find("expired   yes") != std::string::npos);
    auto listed = ctl.run({"user", "list"});
    CHECK(listed.out.find(name + "  demo") != std::string::npos);
    CHECK(listed.out.find("disabled") != std::string::npos);

    auto enabled = ctl.run({"user", "enable", name});
    CHECK(enabled.status == 0);
    CHECK(password_status(name) == "P");
    CHECK(ctl.catalog()->user(name)->enabled == true);
    CHECK(ctl.run({"user", "show", name}).out.find("expired   no") != std::string::npos);

    auto empty = ctl.run({"user", "passwd", name}, "");
    CHECK(empty.status == 1);
    CHECK(empty.err == "photodropctl: no password on standard input\n");

    CHECK(ctl.run({"user", "remove", name}).status == 0);
    CHECK(::getpwnam(name.c_str()) == nullptr);
}

TEST_CASE("user add refuses bad input before it creates anything") {
    Ctl ctl;
    ctl.init_demo();
    AccountGuard guard;
    const auto& name = guard.name();

    auto unknown_job = ctl.run({"user", "add", "--tenant", "demo", name, "--jobs", "job404"});
    CHECK(unknown_job.status == 1);
    CHECK(unknown_job.err == "photodropctl: tenant demo has no job 'job404'\n");

    auto unknown_tenant = ctl.run({"user", "add", "--tenant", "nobody", name});
    CHECK(unknown_tenant.status == 1);
    CHECK(unknown_tenant.err == "photodropctl: unknown tenant 'nobody'\n");

    auto bad_name = ctl.run({"user", "add", "--tenant", "demo", "Bad Name"});
    CHECK(bad_name.status == 1);
    CHECK(bad_name.err.starts_with("photodropctl: invalid user name 'Bad Name'"));

    auto not_a_key = ctl.dir.path() / "notes.txt";
    std::ofstream(not_a_key) << "hello\n";
    auto bad_key = ctl.run({"user", "add", "--tenant", "demo", name, "--key", not_a_key.string()});
    CHECK(bad_key.status == 1);
    CHECK(bad_key.err == "photodropctl: " + not_a_key.string() + ":1: not an OpenSSH public key\n");

    auto root_name = ctl.run({"user", "add", "--tenant", "demo", "root"});
    CHECK(root_name.status == 1);
    CHECK(root_name.err == "photodropctl: a system account named root exists already\n");

    auto no_password = ctl.run({"user", "add", "--tenant", "demo", name, "--password-stdin"}, "");
    CHECK(no_password.status == 1);
    CHECK(no_password.err == "photodropctl: no password on standard input\n");

    CHECK(::getpwnam(name.c_str()) == nullptr);
    CHECK(ctl.catalog()->users().empty());

    auto missing = ctl.run({"user", "show", name});
    CHECK(missing.status == 1);
    CHECK(missing.err == "photodropctl: no SFTP user '" + name + "'\n");
    CHECK(ctl.run({"user", "remove", name}).status == 1);
    CHECK(ctl.run({"user", "disable", name}).status == 1);
}

namespace {
// The members of a group, by name.
bool member_of(const std::string& user, const char* group) {
    auto* gr = ::getgrnam(group);
    if (!gr) return false;
    for (char** m = gr->gr_mem; m && *m; ++m)
        if (user == *m) return true;
    return false;
}
}  // namespace

TEST_CASE("user add --protocols puts the login in the groups that sshd and the FTP server read, and the catalog "
          "says the same") {
    REQUIRE_MESSAGE(is_root(), "managing system accounts needs root: run the tests as root");
    Ctl ctl;
    ctl.init_demo();
    struct Case {
        std::vector<std::string> flags;
        std::string protocols;
        bool ftp, plain, no_sftp;
    };
    for (const auto& c : std::vector<Case>{{{}, "sftp,ftps", true, false, false},
                                           {{"--protocols", "sftp"}, "sftp", false, false, false},
                                           {{"--protocols", "ftps"}, "ftps", true, false, true},
                                           {{"--protocols", "ftps", "--ftp-plain"}, "ftps,ftp", true, true, true},
                                           {{"--protocols", "sftp,ftp"}, "sftp,ftp", true, true, false}}) {
        AccountGuard guard;
        const auto& name = guard.name();
        CAPTURE(c.protocols);
        std::vector<std::string> args{"user", "add", "--tenant", "demo", name, "--json"};
        args.insert(args.end(), c.flags.begin(), c.flags.end());
        auto added = ctl.run(args);
        REQUIRE_MESSAGE(added.status == 0, added.err);
        CHECK(added.json()["protocols"] == c.protocols);
        CHECK(member_of(name, "photodrop-ftp") == c.ftp);
        CHECK(member_of(name, "photodrop-ftp-plain") == c.plain);
        CHECK(member_of(name, "photodrop-no-sftp") == c.no_sftp);
        CHECK(to_string(ctl.catalog()->user(name)->protocols) == c.protocols);
        CHECK(ctl.run({"user", "list", "--json"}).json()[0]["protocols"] == c.protocols);
        CHECK(ctl.run({"user", "remove", name}).status == 0);
    }

    AccountGuard guard;
    for (const char* bad : {"", "sftp,telnet", "sftp,,ftps", "SFTP"}) {
        CAPTURE(bad);
        auto refused = ctl.run({"user", "add", "--tenant", "demo", guard.name(), "--protocols", bad});
        CHECK(refused.status == 2);
        CHECK(refused.err.find("a comma list of sftp, ftps and ftp") != std::string::npos);
        CHECK(::getpwnam(guard.name().c_str()) == nullptr);
        CHECK_FALSE(ctl.catalog()->user(guard.name()));
    }
}

TEST_CASE("user set changes what a login may connect with and which jobs it sees: groups and catalog agree after "
          "each change, one made twice and then undone; a refused change changes nothing") {
    REQUIRE_MESSAGE(is_root(), "managing system accounts needs root: run the tests as root");
    Ctl ctl;
    ctl.init_demo();
    REQUIRE(ctl.run({"job", "add", "--tenant", "demo", "job00002"}).status == 0);
    AccountGuard guard;
    const auto& name = guard.name();
    REQUIRE(ctl.run({"user", "add", "--tenant", "demo", name}).status == 0);
    auto is = [&](const std::string& protocols, bool ftp, bool plain, bool no_sftp) {
        CAPTURE(protocols);
        CHECK(to_string(ctl.catalog()->user(name)->protocols) == protocols);
        CHECK(member_of(name, "photodrop-ftp") == ftp);
        CHECK(member_of(name, "photodrop-ftp-plain") == plain);
        CHECK(member_of(name, "photodrop-no-sftp") == no_sftp);
        CHECK(member_of(name, "photodrop-camera") == false);
    };
    is("sftp,ftps", true, false, false);
    for (int twice = 0; twice < 2; ++twice) {
        auto r = ctl.run({"user", "set", name, "--protocols", "ftps", "--json"});
        REQUIRE_MESSAGE(r.status == 0, r.err);
        CHECK(r.json()["protocols"] == "ftps");
        is("ftps", true, false, true);
    }
    auto plain = ctl.run({"user", "set", name, "--ftp-plain"});  // added to what it has
    REQUIRE_MESSAGE(plain.status == 0, plain.err);
    CHECK(plain.out == fmt::format("user {}: jobs all, protocols ftps,ftp (the servers apply it at its next login)\n",
                                   name));
    is("ftps,ftp", true, true, true);
    REQUIRE(ctl.run({"user", "set", name, "--protocols", "sftp"}).status == 0);
    is("sftp", false, false, false);
    REQUIRE(ctl.run({"user", "set", name, "--protocols", "sftp,ftps"}).status == 0);
    is("sftp,ftps", true, false, false);

    auto one = ctl.run({"user", "set", name, "--jobs", "job00002", "--json"});
    REQUIRE_MESSAGE(one.status == 0, one.err);
    CHECK(one.json()["jobs"] == nlohmann::json::array({"job00002"}));
    CHECK(ctl.catalog()->user(name)->job_ids.size() == 1);
    REQUIRE(ctl.run({"user", "set", name, "--all-jobs"}).status == 0);
    CHECK(ctl.catalog()->user(name)->job_ids.empty());
    REQUIRE(ctl.run({"user", "set", name, "--jobs", "job00001,job00002"}).status == 0);
    CHECK(ctl.catalog()->user(name)->job_ids.size() == 2);

    struct Refusal {
        std::vector<std::string> args;
        int status;
        std::string says;
    };
    for (const auto& bad : std::vector<Refusal>{
             {{name}, 2, "nothing to set"},
             {{name, "--protocols", ""}, 2, "a comma list of sftp, ftps and ftp"},
             {{name, "--protocols", "sftp,telnet"}, 2, "a comma list of sftp, ftps and ftp"},
             {{name, "--protocols", "ftps", "--jobs", "job404"}, 1, "tenant demo has no job 'job404'"},
             {{name, "--jobs", "job00001", "--all-jobs"}, 2, "--jobs or --all-jobs, not both"},
             {{"pd-nobody", "--protocols", "sftp"}, 1, "no SFTP user 'pd-nobody'"}}) {
        auto args = std::vector<std::string>{"user", "set"};
        args.insert(args.end(), bad.args.begin(), bad.args.end());
        CAPTURE(fmt::format("{}", fmt::join(args, " ")));
        auto refused = ctl.run(args);
        CHECK(refused.status == bad.status);
        CHECK(refused.err.find(bad.says) != std::string::npos);
        is("sftp,ftps", true, false, false);
        CHECK(ctl.catalog()->user(name)->job_ids.size() == 2);
    }
}

TEST_CASE("user add --camera makes a login homed at its album (made if missing), in group photodrop-camera, that "
          "sees one job; what it cannot be is refused before anything is made") {
    REQUIRE_MESSAGE(is_root(), "managing system accounts needs root: run the tests as root");
    Ctl ctl;
    ctl.init_demo();
    REQUIRE(ctl.run({"job", "add", "--tenant", "demo", "job00002", "--layout", "flat"}).status == 0);
    AccountGuard guard;
    const auto& name = guard.name();
    for (const auto& bad : std::vector<std::vector<std::string>>{
             {"--camera", "--job", "job00001"},                                // no album
             {"--camera", "--album", "finish"},                               // no job
             {"--camera", "--job", "job00002", "--album", "finish"},          // a flat job has no albums
             {"--camera", "--job", "job00001", "--album", ".."},              // not a folder name
             {"--camera", "--job", "job00001", "--album", "a/b"},
             {"--camera", "--job", "job00001", "--album", "finish", "--jobs", "job00001"},
             {"--job", "job00001", "--album", "finish"}}) {                   // not a camera
        auto args = std::vector<std::string>{"user", "add", "--tenant", "demo", name};
        args.insert(args.end(), bad.begin(), bad.end());
        CAPTURE(fmt::format("{}", fmt::join(bad, " ")));
        auto refused = ctl.run(args);
        CHECK(refused.status != 0);
        CHECK_FALSE(refused.err.empty());
        CHECK(::getpwnam(name.c_str()) == nullptr);
        CHECK_FALSE(ctl.catalog()->user(name));
    }
    auto cat = ctl.catalog();
    CHECK_FALSE(cat->album(cat->job(cat->tenant("demo")->id, "job00001")->id, "finish"));

    auto added = ctl.run({"user", "add", "--tenant", "demo", name, "--camera", "--job", "job00001", "--album",
                          "finish", "--protocols", "ftps", "--ftp-plain", "--json"});
    REQUIRE_MESSAGE(added.status == 0, added.err);
    CHECK(added.json()["camera"] == nlohmann::json{{"job", "job00001"}, {"album", "finish"}});
    CHECK(added.json()["home"] == ctl.mounts + "/demo/job00001/finish");
    CHECK(added.json()["jobs"] == nlohmann::json::array({"job00001"}));
    auto* pw = ::getpwnam(name.c_str());
    REQUIRE(pw);
    CHECK(std::string(pw->pw_dir) == ctl.mounts + "/demo/job00001/finish");
    CHECK(member_of(name, "photodrop-camera"));
    CHECK(member_of(name, "photodrop-ftp-plain"));
    auto user = cat->user(name);
    REQUIRE(user);
    auto album = cat->album(cat->job(cat->tenant("demo")->id, "job00001")->id, "finish");
    REQUIRE(album);
    CHECK(user->camera_album_id == album->id);
    auto shown = ctl.run({"user", "show", name});
    CHECK(shown.out.find("uploads into album finish of job job00001") != std::string::npos);

    // user set: a camera keeps its one job; its protocols change, and it stays a camera.
    for (const auto& jobs : std::vector<std::vector<std::string>>{{"--jobs", "job00001"}, {"--all-jobs"}}) {
        auto args = std::vector<std::string>{"user", "set", name};
        args.insert(args.end(), jobs.begin(), jobs.end());
        auto refused = ctl.run(args);
        CHECK(refused.status == 1);
        CHECK(refused.err.find("is a camera account") != std::string::npos);
    }
    auto tls_only = ctl.run({"user", "set", name, "--protocols", "ftps"});
    REQUIRE_MESSAGE(tls_only.status == 0, tls_only.err);
    CHECK(member_of(name, "photodrop-camera"));
    CHECK_FALSE(member_of(name, "photodrop-ftp-plain"));
    CHECK(member_of(name, "photodrop-ftp"));
    CHECK(to_string(cat->user(name)->protocols) == "ftps");
    CHECK(cat->user(name)->job_ids == std::vector<Id>{album->job_id});
    CHECK(ctl.run({"user", "remove", name}).status == 0);
}

TEST_CASE("doctor checks each login against the catalog: a login and a camera account pass; a camera whose album "
          "has another name now, and groups that are not the catalog's protocols, fail with the fix") {
    REQUIRE_MESSAGE(is_root(), "managing system accounts needs root: run the tests as root");
    Ctl ctl;
    ctl.init_demo();
    std::filesystem::create_directories(ctl.mounts + "/demo");  // not mounted: doctor says so, and checks the logins
    AccountGuard login_guard, camera_guard;
    const auto& login = login_guard.name();
    const auto& camera = camera_guard.name();
    REQUIRE(ctl.run({"user", "add", "--tenant", "demo", login}).status == 0);
    REQUIRE(ctl.run({"user", "add", "--tenant", "demo", camera, "--camera", "--job", "job00001", "--album", "finish"})
                .status == 0);
    auto user_checks = [&] {
        auto r = ctl.run({"doctor", "--json", "--min-free-mb", "0", "--ingest", "127.0.0.1:1", "--timeout-ms", "200"});
        auto report = r.json();
        std::map<std::string, nlohmann::json> checks;
        for (const auto& c : report["checks"])
            if (c["check"].get<std::string>().starts_with("user ")) checks[c["check"]] = c;
        return checks;
    };
    auto checks = user_checks();
    CAPTURE(nlohmann::json(checks).dump());
    CHECK(checks.size() == 2);
    CHECK(checks["user " + login]["ok"] == true);
    CHECK(checks["user " + camera]["ok"] == true);
    CHECK(checks["user " + camera]["detail"].get<std::string>().find(ctl.mounts + "/demo/job00001/finish") !=
          std::string::npos);

    // The album renamed behind the camera's back (as the mount allowed before it refused that).
    auto cat = ctl.catalog();
    auto album = cat->album(cat->job(cat->tenant("demo")->id, "job00001")->id, "finish");
    REQUIRE(album);
    cat->rename_album(album->id, "finish-line");
    checks = user_checks();
    CAPTURE(nlohmann::json(checks).dump());
    CHECK(checks["user " + camera]["ok"] == false);
    CHECK(checks["user " + camera]["detail"] ==
          fmt::format("home is {0}/demo/job00001/finish, not its album {0}/demo/job00001/finish-line: the camera "
                      "cannot log in (usermod -d {0}/demo/job00001/finish-line {1})",
                      ctl.mounts, camera));
    REQUIRE(ctl::run_program({"usermod", "-d", ctl.mounts + "/demo/job00001/finish-line", camera}).exit_status == 0);
    CHECK(user_checks()["user " + camera]["ok"] == true);

    // Out of the FTP group behind photodropctl's back; user set puts it right.
    REQUIRE(ctl::run_program({"gpasswd", "--delete", login, "photodrop-ftp"}).exit_status == 0);
    checks = user_checks();
    CHECK(checks["user " + login]["ok"] == false);
    CHECK(checks["user " + login]["detail"].get<std::string>().find("the catalog's protocols sftp,ftps need") !=
          std::string::npos);
    REQUIRE(ctl.run({"user", "set", login, "--protocols", "sftp,ftps"}).status == 0);
    CHECK(user_checks()["user " + login]["ok"] == true);
}
