// events: what a platform is told, oldest first, read on from an id.
#include "tools/commands/commands.hpp"
#include "tools/context.hpp"
#include "tools/format.hpp"

#include "catalog/text.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace photodrop::ctl {

namespace {

struct EventsOptions {
    std::string tenant;
    bool all_tenants = false;
    Id after = 0;
    int limit = 100;
};

// The event's subject in a few words: a file's path, an album, a job's change.
std::string what_of(const Event& e, const nlohmann::json& d) {
    auto text = [&](const char* key) { return d.contains(key) && d[key].is_string() ? d[key].get<std::string>() : ""; };
    if (d.contains("path")) return text("path");
    if (e.type == event::job_status_changed) return fmt::format("{} -> {}", text("from"), text("to"));
    return text("album");
}

std::string detail_of(const nlohmann::json& d) {
    if (d.contains("reason")) return d["reason"].get<std::string>();
    if (d.contains("duplicate_of")) return fmt::format("duplicate of photo {}", d["duplicate_of"].get<Id>());
    if (d.contains("replaces")) return fmt::format("replaces photo {}", d["replaces"].get<Id>());
    return "";
}

}  // namespace

void add_events_command(CLI::App& app, Context& ctx) {
    auto o = std::make_shared<EventsOptions>();
    auto* events = app.add_subcommand("events", "List what platforms are told (events), oldest first, after an id");
    add_tenant_option(events, o->tenant);
    events->add_flag("--all-tenants", o->all_tenants, "The events of every tenant");
    events->add_option("--after", o->after, "Only events after this id (the last one seen)")->type_name("ID");
    events->add_option("--limit,-n", o->limit, "At most this many")->capture_default_str()->check(CLI::Range(1, 100000));
    ctx.on(events, [&ctx, o] {
        auto& cat = ctx.catalog();
        std::optional<Id> tenant_id;
        if (!o->all_tenants) tenant_id = ctx.tenant(o->tenant).id;
        auto rows = cat.events(tenant_id, o->after, o->limit);
        if (ctx.json) {
            auto out = nlohmann::json::array();
            for (const auto& e : rows)
                out.push_back({{"id", e.id},
                               {"type", e.type},
                               {"time", utc_time(e.occurred_ns)},
                               {"tenant_id", e.tenant_id},
                               {"job_id", e.job_id ? nlohmann::json(*e.job_id) : nlohmann::json(nullptr)},
                               {"album_id", e.album_id ? nlohmann::json(*e.album_id) : nlohmann::json(nullptr)},
                               {"upload_id", e.upload_id ? nlohmann::json(*e.upload_id) : nlohmann::json(nullptr)},
                               {"photo_id", e.photo_id ? nlohmann::json(*e.photo_id) : nlohmann::json(nullptr)},
                               {"data", nlohmann::json::parse(e.data)}});
            ctx.print_json(out);
            return exit_ok;
        }
        if (rows.empty()) {
            ctx.io.out << "no events\n";
            return exit_ok;
        }
        Table table({"ID", "TIME", "TYPE", "JOB", "WHAT", "DETAIL"});
        for (const auto& e : rows) {
            auto d = nlohmann::json::parse(e.data);
            table.add({std::to_string(e.id), utc_time(e.occurred_ns), e.type,
                       d.contains("job") ? d["job"].get<std::string>() : "-", what_of(e, d), detail_of(d)});
        }
        table.print(ctx.io.out);
        return exit_ok;
    });
}

}  // namespace photodrop::ctl
