// doctor: what usually breaks a deployment, one line per check.
#include "catalog/sql.hpp"
#include "ingest/disk_space.hpp"
#include "tools/accounts.hpp"
#include "tools/client_config.hpp"
#include "tools/commands/commands.hpp"
#include "tools/context.hpp"
#include "tools/format.hpp"
#include "tools/ftpd_config.hpp"
#include "tools/health.hpp"
#include "tools/mounts.hpp"
#include "tools/sshd_snippet.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>
#include <sstream>

namespace photodrop::ctl {

namespace fs = std::filesystem;

namespace {

struct DoctorOptions {
    int64_t min_free_mb = -1;  // unset: the setting free_space_reserve
    std::string sshd_snippet = sshd_snippet_path;
    std::string sshd_config = "/etc/ssh/sshd_config";
    std::string ftpd_config = ftpd_config_path;
    std::string ingest;  // default: config.ingest_listen
    int64_t timeout_ms = 2000;
};

class Report {
public:
    explicit Report(Context& ctx) : ctx_(ctx) {}
    void add(const std::string& check, bool ok, const std::string& detail) {
        if (!ok) ++failed_;
        checks_.push_back({{"check", check}, {"ok", ok}, {"detail", detail}});
        if (!ctx_.json) ctx_.io.out << fmt::format("{:<4}  {}: {}\n", ok ? "ok" : "FAIL", check, detail);
    }
    int finish() {
        if (ctx_.json) ctx_.print_json({{"checks", checks_}, {"failed", failed_}});
        else ctx_.io.out << fmt::format("{} checks, {} failed\n", checks_.size(), failed_);
        return failed_ == 0 ? exit_ok : exit_failure;
    }

private:
    Context& ctx_;
    nlohmann::json checks_ = nlohmann::json::array();
    int failed_ = 0;
};

std::string errno_text(int error) { return std::strerror(error); }

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream file(path);
    if (!file) return std::nullopt;
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

void check_catalog(Context& ctx, Report& report, std::unique_ptr<Catalog>& catalog) {
    const auto path = sql::redacted(ctx.config.catalog);
    try {
        if (!sql::catalog_exists(ctx.config.catalog)) {
            report.add("catalog", false, fmt::format("{} does not exist (create it with `photodropctl init`)", path));
            return;
        }
        catalog = open_catalog(ctx.config.catalog);
        auto tenants = catalog->tenants().size();
        auto users = catalog->users().size();
        report.add("catalog", true, fmt::format("{} opens: {} tenant{}, {} SFTP user{}", path, tenants,
                                                tenants == 1 ? "" : "s", users, users == 1 ? "" : "s"));
    } catch (const std::exception& e) {
        catalog.reset();
        report.add("catalog", false, fmt::format("{}: {}", path, e.what()));
    }
}

void check_data_dir(Context& ctx, Report& report, const DoctorOptions& o) {
    const auto& dir = ctx.config.data;
    if (!fs::is_directory(dir)) {
        report.add("data directory", false, fmt::format("{} does not exist (create it with `photodropctl init`)", dir));
    } else {
        std::string probe = dir + "/.photodropctl-doctor-XXXXXX";
        int fd = ::mkstemp(probe.data());
        if (fd < 0) {
            report.add("data directory", false, fmt::format("{} is not writable: {}", dir, errno_text(errno)));
        } else {
            ::close(fd);
            ::unlink(probe.c_str());
            report.add("data directory", true, fmt::format("{} exists and is writable", dir));
        }
    }

    // The space that matters is that of the file system the data lands on.
    auto space = ingest::disk_space(dir);
    if (!space) {
        report.add("disk space", false, fmt::format("statvfs {}: {}", dir, errno_text(errno)));
        return;
    }
    int64_t free_bytes = space->free_bytes;
    bool reserve = o.min_free_mb < 0;
    int64_t threshold = reserve ? ctx.config.free_space_reserve : o.min_free_mb * 1024 * 1024;
    std::string against = reserve ? fmt::format("free_space_reserve {}", format_size(threshold))
                                  : fmt::format("threshold {}", format_size(threshold));
    if (free_bytes >= threshold) {
        report.add("disk space", true, fmt::format("{} free on {} (above the {})", format_size(free_bytes), dir, against));
        return;
    }
    int64_t floor = ingest::ingest_space_floor(ctx.config);
    report.add("disk space", false,
               fmt::format("{} free on {} (BELOW the {}: photodrop-fs refuses new uploads; {}; "
                           "`photodropctl usage` shows what a purge would free)",
                           format_size(free_bytes), dir, against,
                           free_bytes < floor ? fmt::format("the ingest service claims nothing below {}", format_size(floor))
                                              : fmt::format("the ingest service goes on down to {}", format_size(floor))));
}

// sshd refuses ChrootDirectory unless it and every directory above it is
// root-owned and writable by no one else.
void check_chroot(Report& report, const std::string& check, const std::string& mount_point) {
    struct stat st {};
    if (::stat(mount_point.c_str(), &st) != 0) return;  // reported by the mount check
    auto mode = st.st_mode & 07777;
    if (st.st_uid != 0 || mode != 0755) {
        report.add(check, false, fmt::format("{} is owned by uid {} with mode {:04o}; sshd's ChrootDirectory needs "
                                             "root and 0755",
                                             mount_point, st.st_uid, mode));
        return;
    }
    for (fs::path dir = fs::path(mount_point).parent_path();; dir = dir.parent_path()) {
        if (::stat(dir.c_str(), &st) != 0) {
            report.add(check, false, fmt::format("stat {}: {}", dir.string(), errno_text(errno)));
            return;
        }
        if (st.st_uid != 0 || (st.st_mode & 022) != 0) {
            report.add(check, false, fmt::format("{} is owned by uid {} with mode {:04o}; every directory above a "
                                                 "chroot must be root-owned and not group- or world-writable",
                                                 dir.string(), st.st_uid, st.st_mode & 07777));
            return;
        }
        if (dir == dir.parent_path()) break;
    }
    report.add(check, true, fmt::format("{} and every directory above it are root-owned, 0755 or stricter",
                                        mount_point));
}

// Which of the protocol groups the account is in, in protocol_groups' order.
std::vector<std::string> protocol_groups_of(const accounts::Account& account) {
    std::vector<std::string> in;
    for (const auto& group : all_protocol_groups())
        if (accounts::in_group(account, group)) in.push_back(group);
    return in;
}

void check_tenant(Context& ctx, Report& report, Catalog& catalog, const Tenant& tenant) {
    std::string mount_point = ctx.mount_point(tenant);
    std::string name = fmt::format("tenant {}", tenant.slug);
    struct stat st {};
    if (::stat(mount_point.c_str(), &st) != 0) {
        int error = errno;
        report.add(name + " mount", false,
                   error == ENOTCONN
                       ? fmt::format("{}: {} (photodrop-fs died: unmount it and restart photodrop-fs@{})",
                                     mount_point, errno_text(error), tenant.slug)
                       : fmt::format("{}: {}", mount_point, errno_text(error)));
        return;
    }
    auto mount = mount_at(mount_point);
    bool fuse = mount && mount->fstype.starts_with("fuse");
    if (!fuse) {
        report.add(name + " mount", false,
                   mount ? fmt::format("{} is a {} mount, not photodrop-fs", mount_point, mount->fstype)
                         : fmt::format("{} is not mounted (start photodrop-fs@{})", mount_point, tenant.slug));
    } else {
        report.add(name + " mount", true, fmt::format("{} is a live {} mount", mount_point, mount->fstype));
        bool allow_other = has_option(mount->super_options, "allow_other") || has_option(mount->options, "allow_other");
        report.add(name + " allow_other", allow_other,
                   allow_other ? "mounted with allow_other"
                               : "mounted without allow_other: SFTP users (not root) cannot enter it");
    }
    check_chroot(report, name + " chroot", mount_point);

    for (const auto& user : catalog.users(tenant.id)) {
        std::string check = fmt::format("user {}", user.username);
        auto account = accounts::find(user.username);
        // A camera account's home is its album, by the names the catalog has now.
        std::optional<std::string> album_home;
        if (user.camera_album_id) {
            auto album = catalog.album(*user.camera_album_id);
            auto job = album ? catalog.job(album->job_id) : std::nullopt;
            if (job) album_home = ctx.camera_home(tenant, *job, *album);
        }
        if (!account) report.add(check, false, "no system account of that name");
        else if (account->uid != user.uid)
            report.add(check, false, fmt::format("system uid {}, catalog uid {}", account->uid, user.uid));
        else if (user.camera_album_id && !album_home)
            report.add(check, false, "a camera account whose album is gone from the catalog");
        else if (album_home && account->home != *album_home)
            report.add(check, false, fmt::format("home is {}, not its album {}: the camera cannot log in (usermod -d {} {})",
                                                 account->home, *album_home, *album_home, user.username));
        else if (!album_home && account->home != mount_point)
            report.add(check, false, fmt::format("home is {}, not the tenant's mount {}", account->home, mount_point));
        else if (!accounts::in_group(*account, sftp_group))
            report.add(check, false, fmt::format("not in group {}: sshd will not chroot it", sftp_group));
        else if (auto groups = protocol_groups_of(*account); groups != protocol_groups(user.protocols, user.camera_album_id.has_value()))
            report.add(check, false, fmt::format("in groups [{}], but the catalog's protocols {} need [{}]",
                                                 fmt::join(groups, ", "), to_string(user.protocols),
                                                 fmt::join(protocol_groups(user.protocols, user.camera_album_id.has_value()), ", ")));
        else report.add(check, true, fmt::format("uid {}, home {}, {}", account->uid, account->home,
                                                 user.enabled ? "enabled" : "disabled"));
    }
}

void check_sshd(Context& ctx, Report& report, const DoctorOptions& o) {
    auto installed = read_file(o.sshd_snippet);
    if (!installed) {
        report.add("sshd snippet", false, fmt::format("{} is missing (install it: photodropctl sshd-config > {})",
                                                      o.sshd_snippet, o.sshd_snippet));
    } else if (*installed != sshd_snippet(ctx.keys_dir)) {
        report.add("sshd snippet", false,
                   fmt::format("{} differs from `photodropctl sshd-config`", o.sshd_snippet));
    } else {
        // The snippet counts only if the main configuration includes its directory.
        auto main_config = read_file(o.sshd_config).value_or("");
        std::string dir = fs::path(o.sshd_snippet).parent_path().filename().string();
        bool included = false;
        std::istringstream lines(main_config);
        for (std::string line; std::getline(lines, line);) {
            auto start = line.find_first_not_of(" \t");
            if (start == std::string::npos) continue;
            std::string_view l(line.c_str() + start);
            if ((l.starts_with("Include") || l.starts_with("include")) && l.find(dir) != std::string::npos)
                included = true;
        }
        report.add("sshd snippet", included,
                   included ? fmt::format("{} is installed", o.sshd_snippet)
                            : fmt::format("{} is installed but {} does not Include {}/*.conf", o.sshd_snippet,
                                          o.sshd_config, dir));
    }
}

// The FTP server: checked once a login may use FTP.
void check_ftpd(Context& ctx, Report& report, Catalog* catalog, const DoctorOptions& o) {
    bool wanted = false;
    if (catalog)
        for (const auto& u : catalog->users()) wanted = wanted || u.protocols.ftps || u.protocols.ftp;
    auto installed = read_file(o.ftpd_config);
    if (!wanted && !installed) {
        report.add("ftpd", true, "no login may use FTP: the FTP server is not needed");
        return;
    }
    if (::access("/usr/sbin/proftpd", X_OK) != 0 || ::access("/usr/lib/proftpd/mod_tls.so", R_OK) != 0)
        report.add("ftpd", false, "ProFTPD is not installed (apt-get install proftpd-core proftpd-mod-crypto)");
    if (!installed)
        report.add("ftpd config", false, fmt::format("{} is missing (install it: photodropctl ftpd-config > {})",
                                                     o.ftpd_config, o.ftpd_config));
    else if (*installed != ftpd_config(ctx.config))
        report.add("ftpd config", false,
                   fmt::format("{} differs from `photodropctl ftpd-config` (the settings changed since it was written?)",
                               o.ftpd_config));
    else report.add("ftpd config", true, fmt::format("{} is installed", o.ftpd_config));
    std::string problem, expires;
    try {
        auto cert = photodrop::client_config::read_tls_certificate(ctx.config.ftp_tls_certificate);
        expires = cert.expires;
        if (cert.expired) problem = fmt::format("{} expired on {}", ctx.config.ftp_tls_certificate, expires);
    } catch (const std::exception& e) {
        problem = e.what();
    }
    if (problem.empty() && ::access(ctx.config.ftp_tls_key.c_str(), R_OK) != 0)
        problem = fmt::format("{}: {}", ctx.config.ftp_tls_key, errno_text(errno));
    report.add("ftpd certificate", problem.empty(),
               problem.empty() ? fmt::format("{} is valid until {}", ctx.config.ftp_tls_certificate, expires) : problem);
}

void check_group(Report& report, Catalog* catalog) {
    std::string check = fmt::format("group {}", sftp_group);
    if (accounts::group_exists(sftp_group)) report.add(check, true, "exists");
    else if (catalog && !catalog->users().empty()) report.add(check, false, "missing: sshd's Match Group matches no one");
    else report.add(check, true, "not created yet: the first `photodropctl user add` creates it");
}

}  // namespace

void add_doctor_command(CLI::App& app, Context& ctx) {
    auto o = std::make_shared<DoctorOptions>();
    auto* cmd = app.add_subcommand("doctor", "Check the deployment: catalog, data directory, disk space, each "
                                             "tenant's mount and chroot, the logins' accounts, the sshd snippet, the FTP "
                                             "server, ingest");
    cmd->add_option("--min-free-mb", o->min_free_mb,
                    "Free space the data directory needs, in MiB (default: the setting free_space_reserve)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--sshd-snippet", o->sshd_snippet, "Where the sshd snippet should be installed")
        ->type_name("FILE")
        ->capture_default_str();
    cmd->add_option("--sshd-config", o->sshd_config, "sshd's main configuration, which must include the snippet")
        ->type_name("FILE")
        ->capture_default_str();
    cmd->add_option("--ftpd-config", o->ftpd_config, "Where the FTP server's configuration should be installed")
        ->type_name("FILE")
        ->capture_default_str();
    cmd->add_option("--ingest", o->ingest, "The ingest service's health listener (default: setting ingest_listen)")
        ->type_name("HOST:PORT");
    cmd->add_option("--timeout-ms", o->timeout_ms, "How long to wait for the ingest service")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    cmd->footer("Exit status 0 when every check passes, 1 otherwise.");
    ctx.on(cmd, [&ctx, o] {
        Report report(ctx);
        std::unique_ptr<Catalog> catalog;
        check_catalog(ctx, report, catalog);
        check_data_dir(ctx, report, *o);
        if (catalog)
            for (const auto& tenant : catalog->tenants()) check_tenant(ctx, report, *catalog, tenant);
        check_group(report, catalog.get());
        check_sshd(ctx, report, *o);
        check_ftpd(ctx, report, catalog.get(), *o);
        auto health = check_ingest_health(o->ingest.empty() ? ctx.config.ingest_listen : o->ingest,
                                          std::chrono::milliseconds(o->timeout_ms));
        report.add("ingest", health.ok, health.detail);
        return report.finish();
    });
}

}  // namespace photodrop::ctl
