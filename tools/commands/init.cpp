#include "catalog/migrations.hpp"
#include "tools/commands/commands.hpp"
#include "tools/context.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <ostream>

namespace photodrop::ctl {

namespace fs = std::filesystem;

namespace {

// Creates `dir` and its missing parents, rwxr-xr-x. Returns whether it was missing.
bool make_directories(const fs::path& dir) {
    if (fs::is_directory(dir)) return false;
    fs::create_directories(dir);
    fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
    return true;
}

}  // namespace

void add_init_command(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand("init", "Create the catalog, or bring an older one to the current schema; "
                                           "create the data directory");
    cmd->footer("Safe to run again: an up-to-date catalog is left as it is.");
    ctx.on(cmd, [&ctx] {
        const std::string& location = ctx.config.catalog;
        if (fs::path catalog_path = location; !sql::is_postgres_url(location) && catalog_path.has_parent_path())
            make_directories(catalog_path.parent_path());
        bool existed = sql::catalog_exists(location);
        open_catalog(location);  // creates and migrates
        int version = sql::latest_schema_version();
        bool data_made = make_directories(ctx.config.data);

        if (ctx.json) {
            ctx.print_json({{"catalog", sql::redacted(location)},
                            {"catalog_created", !existed},
                            {"schema_version", version},
                            {"data", ctx.config.data},
                            {"data_created", data_made}});
            return exit_ok;
        }
        ctx.io.out << fmt::format("catalog {}: {}, schema version {}\n", sql::redacted(location),
                                  existed ? "ready" : "created", version);
        ctx.io.out << fmt::format("data directory {}: {}\n", ctx.config.data, data_made ? "created" : "ready");
        return exit_ok;
    });
}

}  // namespace photodrop::ctl
