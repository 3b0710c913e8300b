#include "catalog/text.hpp"
#include "tools/commands/commands.hpp"
#include "tools/context.hpp"
#include "tools/photodropctl.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <iostream>

namespace photodrop::ctl {

namespace {

// "photodropctl job add": the deepest command given, to point at its --help.
std::string command_path(const CLI::App& app) {
    std::string path = app.get_name();
    const CLI::App* at = &app;
    for (;;) {
        auto given = at->get_subcommands();
        if (given.empty()) return path;
        at = given.front();
        path += " " + at->get_name();
    }
}

const char* overview = R"(photodropctl: manage photodrop's tenants, jobs, SFTP users, uploads, photos, events, API tokens, webhooks, ingest queue and disk usage.

Settings come from /etc/photodrop/photodrop.conf (or $PHOTODROP_CONFIG), then
PHOTODROP_<KEY> variables (PHOTODROP_CATALOG, PHOTODROP_DATA, ...), then these flags.
Exit status: 0 success, 1 failure (unknown tenant, duplicate job, a failed check, ...), 2 usage error.)";

}  // namespace

int run_photodropctl(const std::vector<std::string>& args, Console io) {
    auto fail = [&](int status, const std::string& reason) {
        io.err << "photodropctl: " << text::shown(reason) << '\n';
        return status;
    };

    Config config;
    try {
        config = load_config();
    } catch (const std::exception& e) {
        return fail(exit_failure, e.what());
    }
    Context ctx(io, std::move(config));

    CLI::App app(overview, "photodropctl");
    app.fallthrough();  // global flags may come after the command too
    app.require_subcommand(1);
    app.add_option("--catalog", ctx.config.catalog, "The catalog: a SQLite file, or a postgresql:// URL")->type_name("FILE|URL")->capture_default_str();
    app.add_option("--data", ctx.config.data, "The data directory: tenants' bytes, DATA/<tenant>/...")
        ->type_name("DIR")
        ->capture_default_str();
    app.add_option("--mounts", ctx.config.mounts, "Where tenants are mounted: tenant T at MOUNTS/T")
        ->type_name("DIR")
        ->capture_default_str();
    app.add_option("--keys-dir", ctx.keys_dir, "Where SFTP users' authorized keys are kept: DIR/<user>")
        ->type_name("DIR")
        ->capture_default_str();
    app.add_flag("--json", ctx.json, "Print JSON instead of text (listings, show, queue, doctor, purge, usage)");

    add_init_command(app, ctx);
    add_tenant_commands(app, ctx);
    add_job_commands(app, ctx);
    add_listing_commands(app, ctx);
    add_queue_commands(app, ctx);
    add_user_commands(app, ctx);
    add_sshd_config_command(app, ctx);
    add_ftpd_config_command(app, ctx);
    add_doctor_command(app, ctx);
    add_purge_commands(app, ctx);
    add_events_command(app, ctx);
    add_token_commands(app, ctx);
    add_webhook_commands(app, ctx);
    add_subjects_commands(app, ctx);

    std::vector<const char*> argv;
    if (args.empty()) argv.push_back("photodropctl");
    for (const auto& a : args) argv.push_back(a.c_str());
    try {
        app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e, io.out, io.err);  // --help
        return fail(exit_usage, fmt::format("{} (see `{} --help`)", e.what(), command_path(app)));
    }

    try {
        if (!ctx.action) return fail(exit_usage, fmt::format("nothing to do (see `{} --help`)", command_path(app)));
        return ctx.action();
    } catch (const UsageError& e) {
        return fail(exit_usage, e.what());
    } catch (const std::exception& e) {
        return fail(exit_failure, e.what());
    }
}

int run_photodropctl(int argc, char** argv, std::ostream& out, std::ostream& err) {
    return run_photodropctl(std::vector<std::string>(argv, argv + argc), Console{std::cin, out, err, false});
}

}  // namespace photodrop::ctl
