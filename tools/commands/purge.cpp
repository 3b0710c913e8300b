// purge, usage: what the data directory holds, and letting go of what retention no longer keeps.
#include "catalog/text.hpp"
#include "ingest/retention.hpp"
#include "tools/commands/commands.hpp"
#include "tools/context.hpp"
#include "tools/format.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <ostream>

namespace photodrop::ctl {

namespace {

struct PurgeOptions {
    std::string tenant;  // empty: every tenant
    bool dry_run = false;
};

std::optional<Id> tenant_id(Context& ctx, const std::string& slug) {
    if (slug.empty()) return std::nullopt;
    return ctx.tenant(slug).id;
}

nlohmann::json tally_json(const ingest::Tally& t) { return {{"files", t.files}, {"bytes", t.bytes}}; }

std::string tally_text(const ingest::Tally& t) {
    return fmt::format("{} file{}, {}", t.files, t.files == 1 ? "" : "s", format_size(t.bytes));
}

int purge(Context& ctx, const PurgeOptions& o) {
    auto settings = ingest::retention_settings(ctx.config);
    auto report = ingest::purge(ctx.catalog(), settings, o.dry_run, tenant_id(ctx, o.tenant));
    auto totals = report.by_tenant_and_kind();
    if (ctx.json) {
        nlohmann::json files = nlohmann::json::array();
        for (const auto& r : report.removed)
            files.push_back({{"tenant", r.tenant},
                             {"kind", ingest::to_string(r.kind)},
                             {"path", r.path},
                             {"bytes", r.bytes},
                             {"why", r.why}});
        nlohmann::json by_kind = nlohmann::json::array();
        for (const auto& [key, tally] : totals)
            by_kind.push_back({{"tenant", key.first}, {"kind", ingest::to_string(key.second)},
                               {"files", tally.files}, {"bytes", tally.bytes}});
        nlohmann::json expired = nlohmann::json::array();
        for (const auto& e : report.expired)
            expired.push_back({{"tenant", e.tenant}, {"upload_id", e.upload_id}, {"reason", e.reason}});
        ctx.print_json({{"dry_run", o.dry_run},
                        {"files", files},
                        {"by_tenant_and_kind", by_kind},
                        {"total", tally_json(report.total())},
                        {"expired", expired},
                        {"problems", report.problems}});
        return report.problems.empty() ? exit_ok : exit_failure;
    }
    auto& out = ctx.io.out;
    std::string verb = o.dry_run ? "would remove" : "removed";
    for (const auto& r : report.removed)
        out << text::shown(fmt::format("{} {}  {}  {}  {}: {}", verb, r.tenant, ingest::to_string(r.kind),
                                       format_size(r.bytes), r.path, r.why))
            << '\n';
    for (const auto& e : report.expired)
        out << text::shown(fmt::format("{} {}  upload {}: {}", o.dry_run ? "would expire" : "expired", e.tenant,
                                       e.upload_id, e.reason))
            << '\n';
    if (!totals.empty()) {
        Table table({"TENANT", "KIND", "FILES", "BYTES"});
        for (const auto& [key, tally] : totals)
            table.add({key.first, std::string(ingest::to_string(key.second)), std::to_string(tally.files),
                       format_size(tally.bytes)});
        table.print(out);
    }
    out << fmt::format("{}{} {}\n", o.dry_run ? "dry run: " : "", verb,
                       report.removed.empty() ? "nothing" : tally_text(report.total()));
    for (const auto& p : report.problems) ctx.io.err << "photodropctl: " << text::shown(p) << '\n';
    return report.problems.empty() ? exit_ok : exit_failure;
}

int show_usage(Context& ctx, const std::string& tenant) {
    auto settings = ingest::retention_settings(ctx.config);
    auto tenants = ingest::usage(ctx.catalog(), settings, tenant_id(ctx, tenant));
    if (ctx.json) {
        nlohmann::json all = nlohmann::json::array();
        for (const auto& t : tenants) {
            nlohmann::json lines = nlohmann::json::array();
            for (const auto& l : t.lines)
                lines.push_back({{"area", l.area},
                                 {"kind", l.kind},
                                 {"files", l.stored.files},
                                 {"bytes", l.stored.bytes},
                                 {"purgeable_files", l.purgeable.files},
                                 {"purgeable_bytes", l.purgeable.bytes}});
            ingest::Tally live{t.total.files - t.purgeable.files, t.total.bytes - t.purgeable.bytes};
            all.push_back({{"tenant", t.tenant},
                           {"lines", lines},
                           {"total", tally_json(t.total)},
                           {"live", tally_json(live)},
                           {"purgeable", tally_json(t.purgeable)}});
        }
        ctx.print_json({{"tenants", all}});
        return exit_ok;
    }
    Table table({"TENANT", "AREA", "KIND", "FILES", "BYTES", "PURGEABLE"});
    for (const auto& t : tenants) {
        for (const auto& l : t.lines)
            table.add({t.tenant, l.area, l.kind, std::to_string(l.stored.files), format_size(l.stored.bytes),
                       l.purgeable.files ? format_size(l.purgeable.bytes) : "-"});
        table.add({t.tenant, "total", "", std::to_string(t.total.files), format_size(t.total.bytes),
                   format_size(t.purgeable.bytes)});
    }
    table.print(ctx.io.out);
    for (const auto& t : tenants)
        ctx.io.out << fmt::format("{}: {} live, {} purgeable now (`photodropctl purge` removes it)\n", t.tenant,
                                  format_size(t.total.bytes - t.purgeable.bytes), format_size(t.purgeable.bytes));
    return exit_ok;
}

}  // namespace

void add_purge_commands(CLI::App& app, Context& ctx) {
    auto o = std::make_shared<PurgeOptions>();
    auto* cmd = app.add_subcommand(
        "purge", "Remove what retention no longer keeps: bytes of deleted, cancelled, rejected and discarded uploads, "
                 "deleted photos' files, orphan staging files and unfinished renditions; expire abandoned uploads");
    cmd->add_option("--tenant,-t", o->tenant, "Only this tenant (default: every tenant)")->type_name("SLUG");
    cmd->add_flag("--dry-run,-n", o->dry_run, "Change nothing: print what would be removed");
    cmd->footer("Settings: keep_deleted, keep_rejected, receiving_expiry. photodrop-ingest purges on its own every "
                "10 minutes. Exit status 1 if a file could not be removed.");
    ctx.on(cmd, [&ctx, o] { return purge(ctx, *o); });

    auto slug = std::make_shared<std::string>();
    auto* use = app.add_subcommand("usage", "Bytes in the data directory per tenant: staging by upload state, "
                                            "originals, thumbnails, previews, orphans; live and purgeable");
    use->add_option("--tenant,-t", *slug, "Only this tenant (default: every tenant)")->type_name("SLUG");
    ctx.on(use, [&ctx, slug] { return show_usage(ctx, *slug); });
}

}  // namespace photodrop::ctl
