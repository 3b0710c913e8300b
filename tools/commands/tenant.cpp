#include "catalog/config.hpp"
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

// `--quota`: a size (parse_size), or "none" for no quota. 0 is refused: it
// would refuse every upload, and reads too much like "no limit".
std::optional<int64_t> parse_quota(const std::string& value) {
    if (value == "none") return std::nullopt;
    int64_t bytes = 0;
    try {
        bytes = parse_size(value, "--quota");
    } catch (const std::runtime_error&) {
        throw std::runtime_error(fmt::format("invalid quota '{}': give a size (a number of bytes, or with K, M, G or T, "
                                             "e.g. 50G), or 'none' for no quota",
                                             value));
    }
    if (bytes == 0)
        throw std::runtime_error(
            fmt::format("invalid quota '{}': a quota of 0 would refuse every upload; 'none' removes the quota", value));
    return bytes;
}

std::string shown_quota(const std::optional<int64_t>& quota) { return quota ? format_size(*quota) : "none"; }

// The tenant as JSON, with its quota (null: none) and the bytes it uses.
nlohmann::json tenant_json(const Tenant& t, int64_t used) {
    auto j = to_json(t);
    j["quota_bytes"] = t.quota ? nlohmann::json(*t.quota) : nlohmann::json(nullptr);
    j["used_bytes"] = used;
    return j;
}

}  // namespace

void add_tenant_commands(CLI::App& app, Context& ctx) {
    auto* tenant = app.add_subcommand("tenant", "Add, list and set up tenants (studio accounts)");
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

    struct SetOptions {
        std::string slug, quota;
    };
    auto set_opts = std::make_shared<SetOptions>();
    auto* set = tenant->add_subcommand("set", "Change a tenant's settings");
    set->add_option("slug", set_opts->slug, "The tenant (its slug)")->required();
    set->add_option("--quota", set_opts->quota,
                    "The most its uploads may hold (e.g. 50G; K, M, G, T), or 'none' for no quota")
        ->required();
    ctx.on(set, [&ctx, o = set_opts] {
        auto quota = parse_quota(o->quota);
        auto& cat = ctx.catalog();
        auto t = ctx.tenant(o->slug);
        cat.set_tenant_quota(t.id, quota);
        t.quota = quota;
        auto used = cat.tenant_use(t.id);
        if (ctx.json)
            ctx.print_json(tenant_json(t, used));
        else
            ctx.io.out << fmt::format("tenant {}: {}, {} used\n", t.slug,
                                      quota ? "quota " + format_size(*quota) : "no quota", format_size(used));
        return exit_ok;
    });

    auto* list = tenant->add_subcommand("list", "List tenants with their quotas, mount points and job counts");
    ctx.on(list, [&ctx] {
        auto& cat = ctx.catalog();
        auto tenants = cat.tenants();
        if (ctx.json) {
            auto rows = nlohmann::json::array();
            for (const auto& t : tenants) {
                auto j = tenant_json(t, cat.tenant_use(t.id));
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
        Table table({"SLUG", "NAME", "JOBS", "USERS", "QUOTA", "USED", "MOUNT POINT"});
        for (const auto& t : tenants)
            table.add({t.slug, t.name, std::to_string(cat.jobs(t.id).size()), std::to_string(cat.users(t.id).size()),
                       shown_quota(t.quota), format_size(cat.tenant_use(t.id)), ctx.mount_point(t)});
        table.print(ctx.io.out);
        return exit_ok;
    });
}

}  // namespace photodrop::ctl
