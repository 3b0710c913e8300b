#pragma once
// What every photodropctl command shares: the settings after the global flags,
// the catalog (opened on first use, never created outside `init`), the
// console, and the lookups that turn an operator's words (a tenant slug, a job
// name) into catalog rows or one-line errors.

#include "catalog/catalog.hpp"
#include "catalog/config.hpp"
#include "tools/photodropctl.hpp"

#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

namespace CLI {
class App;
class Option;
}

namespace photodrop::ctl {

// A command line that parses but makes no sense ("--upload with --job"); exits 2.
// Every other failure is a std::exception and exits 1.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Where `user add --key` installs keys; sshd reads them before the chroot.
inline constexpr const char* default_keys_dir = "/etc/photodrop/authorized_keys";
// The group whose members sshd chroots into their tenant's mount.
inline constexpr const char* sftp_group = "photodrop";

class Context {
public:
    Context(Console console, Config config) : io(console), config(std::move(config)) {}

    Console io;
    Config config;  // the global flags write into it
    bool json = false;
    std::string keys_dir = default_keys_dir;

    // The catalog at config.catalog. Throws when the file does not exist:
    // only `init` creates one.
    Catalog& catalog();

    // The tenant with this slug; with an empty slug, the only tenant there is.
    Tenant tenant(const std::string& slug);
    Job job(const Tenant& tenant, const std::string& name);
    std::string mount_point(const Tenant& tenant) const { return config.mount_point(tenant.slug); }
    // A camera account's home, and so its root: its album's path in the mount.
    std::string camera_home(const Tenant& tenant, const Job& job, const Album& album) const {
        return mount_point(tenant) + "/" + job.name + "/" + album.name;
    }

    void print_json(const nlohmann::json& value);

    // A password from the first line of standard input (a trailing CR dropped);
    // throws when there is none or it is empty.
    std::string read_password();

    // The command that parsing selected; returns the exit status.
    std::function<int()> action;
    // Registers `run` as the action of `command` when the command is given.
    void on(CLI::App* command, std::function<int()> run);

private:
    std::unique_ptr<Catalog> catalog_;
};

// Adds `--tenant SLUG` to a command (optional when the catalog holds one tenant).
CLI::Option* add_tenant_option(CLI::App* command, std::string& slug);

// --tenant and --job, for the commands about one job.
struct JobOptions {
    std::string tenant, job;
};
void add_job_options(CLI::App* command, JobOptions& o, bool required = true);

}  // namespace photodrop::ctl
