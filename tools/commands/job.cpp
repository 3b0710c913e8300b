#include "tools/commands/commands.hpp"
#include "tools/context.hpp"
#include "tools/format.hpp"

#include "api/link.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <ostream>

namespace photodrop::ctl {

namespace {

JobStatus parse_status_word(const std::string& word) {
    auto s = parse_job_status(word);
    if (!s) throw std::runtime_error(fmt::format("invalid status '{}' (planned, selling or archived)", word));
    return *s;
}

}  // namespace

void add_job_commands(CLI::App& app, Context& ctx) {
    auto* job = app.add_subcommand("job", "Add, list, show jobs and change their status");
    job->require_subcommand(1);

    struct AddOptions {
        std::string tenant, name, title, layout = "albums", status = "planned";
    };
    auto add_opts = std::make_shared<AddOptions>();
    auto* add = job->add_subcommand("add", "Add a job: a folder in the tenant's mount while it is planned");
    add_tenant_option(add, add_opts->tenant);
    add->add_option("name", add_opts->name, "The folder name, e.g. job00001")->required();
    add->add_option("--title", add_opts->title, "A title for people (default: empty)");
    add->add_option("--layout", add_opts->layout,
                    "albums: photographers make album folders (with group/ and individuals/); "
                    "flat: files go straight into the job folder")
        ->capture_default_str();
    add->add_option("--status", add_opts->status, "planned (open for uploads), selling or archived")
        ->capture_default_str();
    ctx.on(add, [&ctx, o = add_opts] {
        auto layout = parse_layout(o->layout);
        if (!layout) throw std::runtime_error(fmt::format("invalid layout '{}' (albums or flat)", o->layout));
        auto status = parse_status_word(o->status);
        auto tenant = ctx.tenant(o->tenant);
        auto j = ctx.catalog().add_job(tenant.id, o->name, o->title, *layout, status);
        if (ctx.json) {
            auto out = to_json(j);
            out["tenant"] = tenant.slug;
            ctx.print_json(out);
        } else {
            ctx.io.out << fmt::format("job {} added to tenant {} ({}, {} layout)\n", j.name, tenant.slug,
                                      to_string(j.status), to_string(j.layout));
        }
        return exit_ok;
    });

    struct ListOptions {
        std::string tenant, status;
    };
    auto list_opts = std::make_shared<ListOptions>();
    auto* list = job->add_subcommand("list", "List a tenant's jobs");
    add_tenant_option(list, list_opts->tenant);
    list->add_option("--status", list_opts->status, "Only jobs in this status: planned, selling or archived");
    ctx.on(list, [&ctx, o = list_opts] {
        std::optional<JobStatus> status;
        if (!o->status.empty()) status = parse_status_word(o->status);
        auto tenant = ctx.tenant(o->tenant);
        auto jobs = ctx.catalog().jobs(tenant.id, status);
        if (ctx.json) {
            auto rows = nlohmann::json::array();
            for (const auto& j : jobs) rows.push_back(to_json(j));
            ctx.print_json(rows);
            return exit_ok;
        }
        if (jobs.empty()) {
            ctx.io.out << fmt::format("no {}jobs in tenant {}\n", status ? std::string(to_string(*status)) + " " : "",
                                      tenant.slug);
            return exit_ok;
        }
        Table table({"NAME", "STATUS", "LAYOUT", "TITLE"});
        for (const auto& j : jobs)
            table.add({j.name, std::string(to_string(j.status)), std::string(to_string(j.layout)), j.title});
        table.print(ctx.io.out);
        return exit_ok;
    });

    struct ShowOptions {
        std::string tenant, name;
    };
    auto show_opts = std::make_shared<ShowOptions>();
    auto* show = job->add_subcommand("show", "Show a job with its albums, photos and uploads by state");
    add_tenant_option(show, show_opts->tenant);
    show->add_option("name", show_opts->name, "The job's name")->required();
    ctx.on(show, [&ctx, o = show_opts] {
        auto& cat = ctx.catalog();
        auto tenant = ctx.tenant(o->tenant);
        auto j = ctx.job(tenant, o->name);
        std::map<UploadState, int64_t> counts;
        for (const auto& u : cat.uploads(j.id)) ++counts[u.state];
        auto albums = cat.albums(j.id).size();
        auto photos = cat.photos(j.id);
        auto live_photos = std::count_if(photos.begin(), photos.end(), [](const Photo& p) { return !p.deleted; });
        if (ctx.json) {
            auto out = to_json(j);
            out["tenant"] = tenant.slug;
            out["albums"] = albums;
            out["photos"] = live_photos;
            out["uploads"] = state_counts_json(counts);
            ctx.print_json(out);
            return exit_ok;
        }
        auto& out = ctx.io.out;
        out << fmt::format("job      {}\n", j.name);
        out << fmt::format("tenant   {}\n", tenant.slug);
        out << fmt::format("title    {}\n", j.title);
        out << fmt::format("status   {}\n", to_string(j.status));
        out << fmt::format("layout   {}\n", to_string(j.layout));
        out << fmt::format("folder   {}/{}{}\n", ctx.mount_point(tenant), j.name,
                           j.status == JobStatus::Planned ? "" : " (hidden: not planned)");
        out << fmt::format("albums   {}\n", albums);
        out << fmt::format("photos   {}\n", live_photos);
        out << "uploads\n";
        for (auto s : all_upload_states) out << fmt::format("  {:<11} {}\n", to_string(s), counts[s]);
        return exit_ok;
    });

    struct StatusOptions {
        std::string tenant, name, status;
    };
    auto status_opts = std::make_shared<StatusOptions>();
    auto* set_status = job->add_subcommand("set-status", "Change a job's status; only planned jobs are shown "
                                                         "to photographers and take uploads");
    add_tenant_option(set_status, status_opts->tenant);
    set_status->add_option("name", status_opts->name, "The job's name")->required();
    set_status->add_option("status", status_opts->status, "planned, selling or archived")->required();
    ctx.on(set_status, [&ctx, o = status_opts] {
        auto status = parse_status_word(o->status);
        auto tenant = ctx.tenant(o->tenant);
        auto j = ctx.job(tenant, o->name);
        if (j.status != status) ctx.catalog().set_job_status(j.id, status);
        if (ctx.json) {
            auto out = to_json(j);
            out["tenant"] = tenant.slug;
            out["previous_status"] = to_string(j.status);
            out["status"] = to_string(status);
            ctx.print_json(out);
        } else if (j.status == status) {
            ctx.io.out << fmt::format("job {} is {} already\n", j.name, to_string(status));
        } else {
            ctx.io.out << fmt::format("job {}: {} -> {}\n", j.name, to_string(j.status), to_string(status));
        }
        return exit_ok;
    });

    struct LinkOptions {
        std::string tenant, name, base_url;
        int days = 30;
    };
    auto link_opts = std::make_shared<LinkOptions>();
    auto* link = job->add_subcommand("link", "Print a signed link to the job's page (photodrop-api): it shows the job's "
                                             "photos as they arrive to whoever opens it, read-only, until it expires");
    add_tenant_option(link, link_opts->tenant);
    link->add_option("name", link_opts->name, "The job's name")->required();
    link->add_option("--days", link_opts->days, "Days the link works")->capture_default_str()->check(CLI::Range(1, 3650));
    link->add_option("--base-url", link_opts->base_url,
                     "Where studios reach photodrop-api (default: http://API_LISTEN; behind nginx, its https:// address)")
        ->type_name("URL");
    ctx.on(link, [&ctx, o = link_opts] {
        auto tenant = ctx.tenant(o->tenant);
        auto j = ctx.job(tenant, o->name);
        std::string base = o->base_url.empty() ? "http://" + ctx.config.api_listen : o->base_url;
        while (base.ends_with('/')) base.pop_back();
        int64_t expires = now_ns() / 1'000'000'000 + int64_t{o->days} * 86400;
        std::string grant = api::sign_grant(api::JobGrant{tenant.slug, j.name, expires},
                                            ctx.catalog().link_key(api::new_link_key()));
        std::string url = base + api::page_address(j.name, tenant.slug) + "&grant=" + grant;
        if (ctx.json) {
            ctx.print_json({{"url", url}, {"job", j.name}, {"tenant", tenant.slug}, {"expires", utc_time(expires * 1'000'000'000)}});
        } else {
            ctx.io.out << url << '\n';
        }
        return exit_ok;
    });
}

}  // namespace photodrop::ctl
