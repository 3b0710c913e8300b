#include "tools/commands/commands.hpp"
#include "tools/context.hpp"
#include "tools/format.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <ostream>

namespace photodrop::ctl {

namespace {

// A slug names a directory, a mount point and a systemd instance.
bool valid_slug(const std::string& slug) {
    auto ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; };
    return !slug.empty() && slug.size() <= 63 && slug.front() != '-' && std::all_of(slug.begin(), slug.end(), ok);
}

}  // namespace

void add_tenant_commands(CLI::App& app, Context& ctx) {
    auto* tenant = app.add_subcommand("tenant", "Add and list tenants (studio accounts)");
    tenant->require_subcommand(1);

    struct AddOptions {
        std::string slug, name;
    };
    auto add_opts = std::make_shared<AddOptions>();
    auto* add = tenant->add_subcommand("add", "Add a tenant; it gets its own data directory and mount");
    add->add_option("slug", add_opts->slug, "Short name: lowercase letters, digits and '-' (e.g. demo)")
        ->required();
    add->add_option("--name", add_opts->name, "The studio's name as people say it (default: the slug)");
    ctx.on(add, [&ctx, o = add_opts] {
        if (!valid_slug(o->slug))
            throw std::runtime_error(
                fmt::format("invalid tenant slug '{}': use lowercase letters, digits and '-'", o->slug));
        auto t = ctx.catalog().add_tenant(o->slug, o->name.empty() ? o->slug : o->name);
        if (ctx.json) {
            auto j = to_json(t);
            j["mount_point"] = ctx.mount_point(t);
            ctx.print_json(j);
        } else {
            ctx.io.out << fmt::format("tenant {} added; its mount point is {}\n", t.slug, ctx.mount_point(t));
        }
        return exit_ok;
    });

    auto* list = tenant->add_subcommand("list", "List tenants with their mount points and job counts");
    ctx.on(list, [&ctx] {
        auto& cat = ctx.catalog();
        auto tenants = cat.tenants();
        if (ctx.json) {
            auto rows = nlohmann::json::array();
            for (const auto& t : tenants) {
                auto j = to_json(t);
                j["mount_point"] = ctx.mount_point(t);
                j["jobs"] = cat.jobs(t.id).size();
                j["users"] = cat.users(t.id).size();
                rows.push_back(j);
            }
            ctx.print_json(rows);
            return exit_ok;
        }
        if (tenants.empty()) {
            ctx.io.out << "no tenants yet: add one with `photodropctl tenant add SLUG`\n";
            return exit_ok;
        }
        Table table({"SLUG", "NAME", "JOBS", "USERS", "MOUNT POINT"});
        for (const auto& t : tenants)
            table.add({t.slug, t.name, std::to_string(cat.jobs(t.id).size()), std::to_string(cat.users(t.id).size()),
                       ctx.mount_point(t)});
        table.print(ctx.io.out);
        return exit_ok;
    });
}

}  // namespace photodrop::ctl
