// user add|list|show|disable|enable|passwd|remove: SFTP logins and the system
// accounts behind them. The system account is made first and undone if the
// catalog refuses the user, so the two never disagree for long.
#include "fusefs/policy.hpp"
#include "tools/accounts.hpp"
#include "tools/authorized_keys.hpp"
#include "tools/commands/commands.hpp"
#include "tools/context.hpp"
#include "tools/format.hpp"
#include "tools/ftpd_config.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <istream>
#include <ostream>

namespace photodrop::ctl {

namespace {

SftpUser must_find(Context& ctx, const std::string& name) {
    auto u = ctx.catalog().user(name);
    if (!u) throw std::runtime_error(fmt::format("no SFTP user '{}'", name));
    return *u;
}

// The system account of a catalog user; refuses one whose uid is not the catalog's.
accounts::Account system_account(const SftpUser& u) {
    auto a = accounts::find(u.username);
    if (!a) throw std::runtime_error(fmt::format("SFTP user {} has no system account", u.username));
    if (a->uid != u.uid)
        throw std::runtime_error(fmt::format("system account {} has uid {}, the catalog says {}: not touching it",
                                             u.username, a->uid, u.uid));
    return *a;
}

std::vector<std::string> job_names(Catalog& cat, const SftpUser& u) {
    std::vector<std::string> names;
    for (Id id : u.job_ids)
        if (auto j = cat.job(id)) names.push_back(j->name);
    return names;
}

std::string jobs_text(const std::vector<std::string>& names) {
    return names.empty() ? "all" : fmt::format("{}", fmt::join(names, ","));
}

// Undoes a half-made user: the account and its key file, unless dismissed.
class AddRollback {
public:
    AddRollback(std::string name, std::string keys_dir) : name_(std::move(name)), keys_dir_(std::move(keys_dir)) {}
    ~AddRollback() {
        if (!armed_) return;
        try {
            authorized_keys::remove(keys_dir_, name_);
            accounts::remove(name_);
        } catch (...) {
            // The error that got us here is the one to report.
        }
    }
    AddRollback(const AddRollback&) = delete;
    AddRollback& operator=(const AddRollback&) = delete;
    void dismiss() { armed_ = false; }

private:
    std::string name_, keys_dir_;
    bool armed_ = true;
};

struct AddOptions {
    std::string tenant, name, key_file;
    bool password_stdin = false;
    std::vector<std::string> jobs;
    int64_t uid = -1;
    std::string protocols = "sftp,ftps";
    bool ftp_plain = false;
    bool camera = false;
    std::string job, album;  // a camera account's
};

Protocols protocols_of(const std::string& list, bool ftp_plain) {
    auto p = parse_protocols(list);
    if (!p)
        throw UsageError(fmt::format("--protocols '{}': a comma list of sftp, ftps and ftp (plain FTP, as --ftp-plain)",
                                     list));
    p->ftp = p->ftp || ftp_plain;
    return *p;
}

// A camera account's job and album ({"job", "album"}), or null.
nlohmann::json camera_json(Catalog& cat, const SftpUser& u) {
    if (!u.camera_album_id) return nullptr;
    auto album = cat.album(*u.camera_album_id);
    auto job = album ? cat.job(album->job_id) : std::nullopt;
    return {{"job", job ? job->name : "?"}, {"album", album ? album->name : "?"}};
}

int add_user(Context& ctx, const AddOptions& o) {
    auto& cat = ctx.catalog();
    if (!accounts::valid_name(o.name))
        throw std::runtime_error(fmt::format("invalid user name '{}': lowercase letters, digits, '_' and '-', "
                                             "starting with a letter, at most 32",
                                             o.name));
    auto protocols = protocols_of(o.protocols, o.ftp_plain);
    auto tenant = ctx.tenant(o.tenant);
    if (cat.user(o.name)) throw std::runtime_error(fmt::format("SFTP user {} exists already", o.name));
    std::vector<Id> job_ids;
    for (const auto& j : o.jobs) job_ids.push_back(ctx.job(tenant, j).id);
    std::optional<Job> camera_job;
    std::string album_name;
    if (o.camera) {
        if (o.job.empty() || o.album.empty()) throw UsageError("--camera needs --job and --album: the album it uploads into");
        if (!o.jobs.empty()) throw UsageError("--camera takes one job, with --job; not --jobs");
        camera_job = ctx.job(tenant, o.job);
        if (camera_job->layout != Layout::Albums)
            throw std::runtime_error(fmt::format("job {} has the flat layout: a camera account needs an album", o.job));
        auto folder = policy::make_folder(Layout::Albums, policy::Level::Job, o.album);
        if (!folder.verdict)
            throw std::runtime_error(fmt::format("album '{}': {}", o.album, folder.verdict.reason()));
        album_name = folder.name;
        job_ids = {camera_job->id};
    } else if (!o.job.empty() || !o.album.empty()) {
        throw UsageError("--job and --album are for a camera account (--camera)");
    }
    std::optional<uint32_t> uid;
    if (o.uid >= 0) {
        uid = static_cast<uint32_t>(o.uid);
        if (cat.user_by_uid(*uid)) throw std::runtime_error(fmt::format("uid {} belongs to another SFTP user", *uid));
        if (auto taken = accounts::find(*uid))
            throw std::runtime_error(fmt::format("uid {} belongs to system account {}", *uid, taken->name));
    }
    if (accounts::find(o.name))
        throw std::runtime_error(fmt::format("a system account named {} exists already", o.name));
    // Everything that can be refused is checked before anything is made.
    std::string password = o.password_stdin ? ctx.read_password() : "";
    std::string keys = o.key_file.empty() ? "" : authorized_keys::read_public_keys(o.key_file);

    accounts::ensure_group(sftp_group);
    for (const auto& group : all_protocol_groups()) accounts::ensure_group(group);
    std::string home = ctx.mount_point(tenant);
    std::optional<Album> camera_album;
    if (camera_job) {
        camera_album = cat.album(camera_job->id, album_name);
        if (!camera_album) camera_album = cat.add_album(camera_job->id, album_name);
        home = ctx.camera_home(tenant, *camera_job, *camera_album);
    }
    AddRollback rollback(o.name, ctx.keys_dir);
    uint32_t made_uid = accounts::create({o.name, home, sftp_group, protocol_groups(protocols, o.camera), uid,
                                          fmt::format("photodrop {}", tenant.slug)});
    if (!password.empty()) accounts::set_password(o.name, password);
    if (!keys.empty()) authorized_keys::install(ctx.keys_dir, o.name, keys);
    auto u = cat.add_user(tenant.id, o.name, made_uid, job_ids, protocols,
                          camera_album ? std::optional<Id>(camera_album->id) : std::nullopt);
    rollback.dismiss();

    if (ctx.json) {
        ctx.print_json({{"username", u.username},
                        {"tenant", tenant.slug},
                        {"uid", u.uid},
                        {"home", home},
                        {"jobs", job_names(cat, u)},
                        {"protocols", to_string(u.protocols)},
                        {"camera", camera_json(cat, u)},
                        {"password", !password.empty()},
                        {"key_file", keys.empty() ? "" : authorized_keys::path_of(ctx.keys_dir, u.username)}});
        return exit_ok;
    }
    ctx.io.out << fmt::format("{} {} added: uid {}, tenant {}, jobs {}, protocols {}, home {}\n",
                              o.camera ? "camera account" : "user", u.username, u.uid, tenant.slug,
                              jobs_text(job_names(cat, u)), to_string(u.protocols), home);
    if (!keys.empty()) ctx.io.out << fmt::format("key installed in {}\n", authorized_keys::path_of(ctx.keys_dir, u.username));
    if (password.empty() && keys.empty())
        ctx.io.out << fmt::format("{} cannot log in yet: give it a password with `photodropctl user passwd {}`\n",
                                  u.username, u.username);
    return exit_ok;
}

nlohmann::json user_json(Context& ctx, const SftpUser& u) {
    auto& cat = ctx.catalog();
    auto tenant = cat.tenant(u.tenant_id);
    return {{"username", u.username},
            {"tenant", tenant ? tenant->slug : ""},
            {"uid", u.uid},
            {"enabled", u.enabled},
            {"jobs", job_names(cat, u)},
            {"protocols", to_string(u.protocols)},
            {"camera", camera_json(cat, u)}};
}

int list_users(Context& ctx, const std::string& tenant_slug) {
    auto& cat = ctx.catalog();
    std::optional<Id> tenant_id;
    if (!tenant_slug.empty()) tenant_id = ctx.tenant(tenant_slug).id;
    auto users = cat.users(tenant_id);
    if (ctx.json) {
        auto rows = nlohmann::json::array();
        for (const auto& u : users) rows.push_back(user_json(ctx, u));
        ctx.print_json(rows);
        return exit_ok;
    }
    if (users.empty()) {
        ctx.io.out << "no SFTP users\n";
        return exit_ok;
    }
    Table table({"USER", "TENANT", "UID", "STATUS", "JOBS", "PROTOCOLS"});
    for (const auto& u : users) {
        auto t = cat.tenant(u.tenant_id);
        table.add({u.username, t ? t->slug : "?", std::to_string(u.uid), u.enabled ? "enabled" : "disabled",
                   jobs_text(job_names(cat, u)), to_string(u.protocols)});
    }
    table.print(ctx.io.out);
    return exit_ok;
}

int show_user(Context& ctx, const std::string& name) {
    auto u = must_find(ctx, name);
    auto account = accounts::find(name);
    std::string key_path = authorized_keys::path_of(ctx.keys_dir, name);
    bool has_key = std::filesystem::exists(key_path);
    std::string password = account ? accounts::password_status(name) : "";
    bool expired = account && accounts::expired(name);
    bool in_group = account && accounts::in_group(*account, sftp_group);
    if (ctx.json) {
        auto out = user_json(ctx, u);
        nlohmann::json system = nullptr;
        if (account)
            system = {{"uid", account->uid},
                      {"home", account->home},
                      {"shell", account->shell},
                      {"in_group", in_group},
                      {"password", password},
                      {"expired", expired}};
        out["account"] = system;
        out["key_file"] = has_key ? key_path : "";
        ctx.print_json(out);
        return exit_ok;
    }
    auto& out = ctx.io.out;
    auto tenant = ctx.catalog().tenant(u.tenant_id);
    auto line = [&](std::string_view label, const std::string& value) { out << fmt::format("{:<9} {}\n", label, value); };
    line("user", u.username);
    line("tenant", tenant ? tenant->slug : "?");
    line("status", u.enabled ? "enabled" : "disabled");
    line("jobs", jobs_text(job_names(ctx.catalog(), u)));
    line("protocols", to_string(u.protocols));
    if (auto camera = camera_json(ctx.catalog(), u); !camera.is_null())
        line("camera", fmt::format("uploads into album {} of job {}, whatever folders it makes",
                                   camera["album"].get<std::string>(), camera["job"].get<std::string>()));
    line("uid", std::to_string(u.uid));
    if (!account) {
        line("account", "missing: no system account of that name");
        return exit_ok;
    }
    line("home", account->home);
    line("shell", account->shell);
    line("group", in_group ? std::string(sftp_group) : fmt::format("NOT in {}: sshd will not chroot it", sftp_group));
    std::string password_text = password == "P" ? "set" : password == "L" ? "locked or not set" : password == "NP" ? "empty" : password;
    line("password", password_text);
    line("expired", expired ? "yes (sshd refuses it)" : "no");
    line("key", has_key ? key_path : "none");
    return exit_ok;
}

int set_enabled(Context& ctx, const std::string& name, bool enabled) {
    auto u = must_find(ctx, name);
    system_account(u);
    if (enabled) accounts::enable(name);
    else accounts::disable(name);
    ctx.catalog().set_user_enabled(u.id, enabled);
    if (ctx.json) ctx.print_json({{"username", name}, {"enabled", enabled}});
    else ctx.io.out << fmt::format("SFTP user {} {}\n", name, enabled ? "enabled" : "disabled: sshd and the FTP server refuse it");
    return exit_ok;
}

int set_password(Context& ctx, const std::string& name) {
    auto u = must_find(ctx, name);
    system_account(u);
    accounts::set_password(name, ctx.read_password());
    if (ctx.json) ctx.print_json({{"username", name}, {"password", true}});
    else ctx.io.out << fmt::format("password of {} set\n", name);
    return exit_ok;
}

struct SetOptions {
    std::string name;
    std::optional<std::string> protocols;
    bool ftp_plain = false;
    std::vector<std::string> jobs;
    bool all_jobs = false;
};

// Changes what a login may connect with and which jobs it sees. The servers
// read the groups at each login; the mount sees the jobs within a second.
int set_user(Context& ctx, const SetOptions& o) {
    auto& cat = ctx.catalog();
    auto u = must_find(ctx, o.name);
    bool jobs_given = !o.jobs.empty() || o.all_jobs;
    if (!o.protocols && !o.ftp_plain && !jobs_given)
        throw UsageError("nothing to set: give --protocols, --ftp-plain, --jobs or --all-jobs");
    if (!o.jobs.empty() && o.all_jobs) throw UsageError("--jobs or --all-jobs, not both");
    if (jobs_given && u.camera_album_id)
        throw std::runtime_error(fmt::format("{} is a camera account: its job is its album's (remove it and add it "
                                             "again for another album)",
                                             o.name));
    auto protocols = protocols_of(o.protocols.value_or(to_string(u.protocols)), o.ftp_plain);
    std::vector<Id> job_ids = u.job_ids;
    if (jobs_given) {
        auto tenant = cat.tenant(u.tenant_id);
        if (!tenant) throw std::runtime_error(fmt::format("the tenant of {} is gone", o.name));
        job_ids.clear();
        for (const auto& j : o.jobs) job_ids.push_back(ctx.job(*tenant, j).id);
    }
    system_account(u);
    // Everything that can be refused is checked before anything is changed.
    auto join = protocol_groups(protocols, u.camera_album_id.has_value());
    std::vector<std::string> leave;
    for (const auto& group : all_protocol_groups()) {
        accounts::ensure_group(group);
        if (std::find(join.begin(), join.end(), group) == join.end()) leave.push_back(group);
    }
    accounts::set_groups(o.name, join, leave);
    cat.set_user_protocols(u.id, protocols);
    if (jobs_given) cat.set_user_jobs(u.id, job_ids);
    auto now = must_find(ctx, o.name);
    if (ctx.json) {
        ctx.print_json(user_json(ctx, now));
        return exit_ok;
    }
    ctx.io.out << fmt::format("user {}: jobs {}, protocols {} (the servers apply it at its next login)\n", o.name,
                              jobs_text(job_names(cat, now)), to_string(now.protocols));
    return exit_ok;
}

int remove_user(Context& ctx, const std::string& name) {
    auto& cat = ctx.catalog();
    auto u = must_find(ctx, name);
    bool had_account = accounts::find(name).has_value();
    if (had_account) {
        system_account(u);
        accounts::remove(name);
    }
    authorized_keys::remove(ctx.keys_dir, name);
    cat.remove_user(u.id);
    if (ctx.json) {
        ctx.print_json({{"username", name}, {"removed", true}, {"had_system_account", had_account}});
        return exit_ok;
    }
    ctx.io.out << fmt::format("SFTP user {} removed{}; its uploads are kept (listed under uid {})\n", name,
                              had_account ? "" : " (it had no system account)", u.uid);
    return exit_ok;
}

}  // namespace

void add_user_commands(CLI::App& app, Context& ctx) {
    auto* user = app.add_subcommand("user", "Logins (SFTP, FTPS, FTP): system accounts chrooted into their tenant's "
                                                    "mount");
    user->require_subcommand(1);

    auto add_opts = std::make_shared<AddOptions>();
    auto* add = user->add_subcommand("add", "Add a login: a system account (shell nologin, group photodrop) whose home "
                                            "is its tenant's mount point; sshd and the FTP server chroot it there");
    add_tenant_option(add, add_opts->tenant);
    add->add_option("name", add_opts->name, "The login name")->required();
    add->add_flag("--password-stdin", add_opts->password_stdin, "Read the password from the first line of stdin");
    add->add_option("--key", add_opts->key_file, "Install this public key file (e.g. id_ed25519.pub)")
        ->type_name("FILE");
    add->add_option("--jobs", add_opts->jobs, "Only these jobs are visible to it (default: all of the tenant's)")
        ->delimiter(',')
        ->type_name("J1,J2");
    add->add_option("--protocols", add_opts->protocols,
                    "What it may connect with: sftp, ftps (FTP with TLS), ftp (plain FTP)")
        ->type_name("LIST")
        ->capture_default_str();
    add->add_flag("--ftp-plain", add_opts->ftp_plain,
                  "Also plain FTP, without TLS (for cameras that have nothing else): its password crosses the "
                  "network in the clear");
    add->add_flag("--camera", add_opts->camera,
                  "A camera account: its root is one album (--job, --album; made if missing); any folder the camera "
                  "makes there is accepted and its files go to the album; a name sent again with other content is a "
                  "new photo, never a replacement");
    add->add_option("--job", add_opts->job, "A camera account's job")->type_name("JOB");
    add->add_option("--album", add_opts->album, "A camera account's album")->type_name("ALBUM");
    add->add_option("--uid", add_opts->uid, "Use this uid (default: the next free one)")
        ->type_name("N")
        ->check(CLI::Range(int64_t{1}, int64_t{4294967294}));
    add->footer("Example: echo 'secret' | photodropctl user add --tenant demo alice --password-stdin");
    ctx.on(add, [&ctx, o = add_opts] { return add_user(ctx, *o); });

    auto list_tenant = std::make_shared<std::string>();
    auto* list = user->add_subcommand("list", "List SFTP users");
    list->add_option("--tenant,-t", *list_tenant, "Only this tenant's users")->type_name("SLUG");
    ctx.on(list, [&ctx, list_tenant] { return list_users(ctx, *list_tenant); });

    auto set_opts = std::make_shared<SetOptions>();
    auto* set = user->add_subcommand("set", "Change what a login may connect with (--protocols, --ftp-plain) and which "
                                            "jobs it sees (--jobs, --all-jobs)");
    set->add_option("name", set_opts->name, "The login name")->required();
    set->add_option("--protocols", set_opts->protocols,
                    "What it may connect with from now on: sftp, ftps (FTP with TLS), ftp (plain FTP)")
        ->type_name("LIST");
    set->add_flag("--ftp-plain", set_opts->ftp_plain, "Also plain FTP, without TLS");
    set->add_option("--jobs", set_opts->jobs, "Only these jobs are visible to it")->delimiter(',')->type_name("J1,J2");
    set->add_flag("--all-jobs", set_opts->all_jobs, "Every job of its tenant is visible to it");
    set->footer("Example: photodropctl user set alice --protocols sftp --jobs job00001,job00002");
    ctx.on(set, [&ctx, o = set_opts] { return set_user(ctx, *o); });

    auto name_command = [&](const char* verb, const char* help, auto run) {
        auto name = std::make_shared<std::string>();
        auto* cmd = user->add_subcommand(verb, help);
        cmd->add_option("name", *name, "The login name")->required();
        ctx.on(cmd, [&ctx, name, run] { return run(ctx, *name); });
        return cmd;
    };
    name_command("show", "Show an SFTP user and the state of its system account", show_user);
    name_command("disable", "Refuse an SFTP user's logins (locks and expires the account); its files stay",
                 [](Context& c, const std::string& n) { return set_enabled(c, n, false); });
    name_command("enable", "Allow a disabled SFTP user's logins again",
                 [](Context& c, const std::string& n) { return set_enabled(c, n, true); });
    name_command("passwd", "Set an SFTP user's password from the first line of stdin", set_password)
        ->footer("Example: printf '%s\\n' \"$NEW_PASSWORD\" | photodropctl user passwd alice");
    name_command("remove", "Remove an SFTP user and its system account; its uploads are kept", remove_user);
    add_client_config_command(*user, ctx);
}

}  // namespace photodrop::ctl
