// webhook add|list|remove|test|deliveries: a tenant's endpoints, and what
// photodrop-api's deliverer has sent them.
#include "tools/commands/commands.hpp"
#include "tools/context.hpp"
#include "tools/format.hpp"

#include "api/webhooks/client.hpp"
#include "api/webhooks/message.hpp"
#include "api/webhooks/signature.hpp"
#include "api/webhooks/url.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <ostream>

namespace photodrop::ctl {

namespace {

void check_event_types(const std::vector<std::string>& types) {
    for (const auto& type : types)
        if (std::find(std::begin(event::all), std::end(event::all), type) == std::end(event::all))
            throw std::runtime_error(fmt::format("unknown event type '{}' (one of {})", type,
                                                 fmt::join(std::begin(event::all), std::end(event::all), ", ")));
}

std::string events_text(const std::vector<std::string>& types) {
    return types.empty() ? "all" : fmt::format("{}", fmt::join(types, ","));
}

// Never its secret: that is shown once, by `webhook add`.
nlohmann::json webhook_json(const Webhook& w, const std::string& tenant) {
    return {{"id", w.id},
            {"tenant", tenant},
            {"url", w.url},
            {"events", w.event_types},
            {"created", utc_time(w.created_ns)}};
}

Webhook find_webhook(Catalog& cat, Id id) {
    auto w = cat.webhook(id);
    if (!w) throw std::runtime_error(fmt::format("no webhook {}", id));
    return *w;
}

std::string tenant_slug(Catalog& cat, Id tenant_id) {
    auto t = cat.tenant(tenant_id);
    return t ? t->slug : std::to_string(tenant_id);
}

// What the last attempt got: the endpoint's status, or why there was none.
std::string last_outcome(const Delivery& d) {
    if (!d.last_error.empty()) return d.last_error;
    if (d.last_status) return fmt::format("HTTP {}", *d.last_status);
    return "-";
}

}  // namespace

void add_webhook_commands(CLI::App& app, Context& ctx) {
    auto* webhook =
        app.add_subcommand("webhook", "Add, list, remove and test tenants' webhook endpoints; list their deliveries");
    webhook->require_subcommand(1);

    struct AddOptions {
        std::string tenant, url;
        std::vector<std::string> events;
    };
    auto add_opts = std::make_shared<AddOptions>();
    auto* add = webhook->add_subcommand("add", "Add an endpoint: it is sent the tenant's events from now on, signed");
    add_tenant_option(add, add_opts->tenant);
    add->add_option("url", add_opts->url, "https://... (plain http only to 127.0.0.1, ::1 or localhost)")->required();
    add->add_option("--events", add_opts->events, "Only these event types, comma-separated (default: all)")
        ->delimiter(',')
        ->type_name("TYPE,...");
    ctx.on(add, [&ctx, o = add_opts] {
        webhooks::check_endpoint_url(o->url);
        check_event_types(o->events);
        auto tenant = ctx.tenant(o->tenant);
        auto w = ctx.catalog().add_webhook(tenant.id, o->url, webhooks::new_secret(), o->events);
        if (ctx.json) {
            auto out = webhook_json(w, tenant.slug);
            out["secret"] = w.secret;
            ctx.print_json(out);
        } else {
            ctx.io.out
                << fmt::format("webhook {} added to tenant {}: {} (events: {})\n", w.id, tenant.slug, w.url,
                               events_text(w.event_types))
                << fmt::format("secret: {}\n", w.secret)
                << "the secret is shown only now: give it to the receiver, which checks the signatures with it\n";
        }
        return exit_ok;
    });

    struct ListOptions {
        std::string tenant;
    };
    auto list_opts = std::make_shared<ListOptions>();
    auto* list = webhook->add_subcommand("list", "List endpoints (of one tenant, or of all)");
    list->add_option("--tenant,-t", list_opts->tenant, "Only this tenant's (default: every tenant's)")
        ->type_name("SLUG");
    ctx.on(list, [&ctx, o = list_opts] {
        auto& cat = ctx.catalog();
        std::optional<Id> tenant_id;
        if (!o->tenant.empty()) tenant_id = ctx.tenant(o->tenant).id;
        auto hooks = cat.webhooks(tenant_id);
        std::map<Id, std::string> slugs;
        for (const auto& t : cat.tenants()) slugs[t.id] = t.slug;
        if (ctx.json) {
            auto rows = nlohmann::json::array();
            for (const auto& w : hooks) rows.push_back(webhook_json(w, slugs[w.tenant_id]));
            ctx.print_json(rows);
            return exit_ok;
        }
        if (hooks.empty()) {
            ctx.io.out << (o->tenant.empty() ? std::string("no webhooks\n")
                                             : fmt::format("no webhooks in tenant {}\n", o->tenant));
            return exit_ok;
        }
        Table table({"ID", "TENANT", "EVENTS", "CREATED", "URL"});
        for (const auto& w : hooks)
            table.add(
                {std::to_string(w.id), slugs[w.tenant_id], events_text(w.event_types), utc_time(w.created_ns), w.url});
        table.print(ctx.io.out);
        return exit_ok;
    });

    auto remove_id = std::make_shared<Id>(0);
    auto* remove = webhook->add_subcommand("remove", "Remove an endpoint, and what was still to be sent to it");
    remove->add_option("id", *remove_id, "The webhook's id (webhook list)")->required();
    ctx.on(remove, [&ctx, remove_id] {
        auto& cat = ctx.catalog();
        auto w = find_webhook(cat, *remove_id);
        cat.remove_webhook(w.id);
        if (ctx.json)
            ctx.print_json({{"id", w.id}, {"removed", true}});
        else
            ctx.io.out << fmt::format("webhook {} removed ({})\n", w.id, w.url);
        return exit_ok;
    });

    struct TestOptions {
        Id id = 0;
        double timeout = 10;
    };
    auto test_opts = std::make_shared<TestOptions>();
    auto* test = webhook->add_subcommand(
        "test", "Send one signed POST of type webhook.test now; print what the endpoint answered");
    test->add_option("id", test_opts->id, "The webhook's id (webhook list)")->required();
    test->add_option("--timeout", test_opts->timeout, "Seconds to wait for the answer")
        ->capture_default_str()
        ->check(CLI::Range(0.1, 600.0));
    ctx.on(test, [&ctx, o = test_opts] {
        auto& cat = ctx.catalog();
        auto w = find_webhook(cat, o->id);
        auto message = webhooks::test_message(w, tenant_slug(cat, w.tenant_id));
        auto url = webhooks::parse_url(w.url);
        auto headers = webhooks::signed_headers(message, w.secret, now_ns() / 1'000'000'000);
        webhooks::HttpClient client;
        auto outcome = client.post_now(url, headers, message.body,
                                       std::chrono::milliseconds(static_cast<int64_t>(o->timeout * 1000)));
        if (ctx.json) {
            ctx.print_json({{"id", w.id},
                            {"url", w.url},
                            {"delivered", outcome.delivered()},
                            {"status", outcome.status ? nlohmann::json(*outcome.status) : nlohmann::json(nullptr)},
                            {"error", outcome.error},
                            {"ms", outcome.took.count()}});
            return outcome.delivered() ? exit_ok : exit_failure;
        }
        if (!outcome.delivered())
            throw std::runtime_error(
                fmt::format("webhook {} ({}): {} after {} ms", w.id, w.url, outcome.error, outcome.took.count()));
        ctx.io.out << fmt::format("webhook {} ({}): HTTP {} in {} ms\n", w.id, w.url, *outcome.status,
                                  outcome.took.count());
        return exit_ok;
    });

    struct DeliveriesOptions {
        std::string tenant;
        bool failed = false;
        int limit = 50;
    };
    auto del_opts = std::make_shared<DeliveriesOptions>();
    auto* deliveries = webhook->add_subcommand("deliveries", "List a tenant's deliveries, newest first");
    add_tenant_option(deliveries, del_opts->tenant);
    deliveries->add_flag("--failed", del_opts->failed, "Only those given up");
    deliveries->add_option("--limit,-n", del_opts->limit, "At most this many")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    ctx.on(deliveries, [&ctx, o = del_opts] {
        auto& cat = ctx.catalog();
        auto tenant = ctx.tenant(o->tenant);
        std::optional<DeliveryState> state;
        if (o->failed) state = DeliveryState::Failed;
        auto rows = cat.deliveries(tenant.id, state, Page{0, o->limit});
        // The event's type and the job's name, read once each.
        std::map<Id, std::string> types, jobs;
        for (const auto& d : rows) {
            if (!types.contains(d.event_id)) {
                auto e = cat.events(tenant.id, d.event_id - 1, 1);
                types[d.event_id] = !e.empty() && e[0].id == d.event_id ? e[0].type : "";
            }
            if (d.job_id && !jobs.contains(d.job_id)) {
                auto j = cat.job(d.job_id);
                jobs[d.job_id] = j ? j->name : std::to_string(d.job_id);
            }
        }
        auto job_name = [&](Id id) { return id ? jobs[id] : std::string(); };
        if (ctx.json) {
            auto out = nlohmann::json::array();
            for (const auto& d : rows) {
                auto optional_time = [](const std::optional<int64_t>& ns) {
                    return ns ? nlohmann::json(utc_time(*ns)) : nlohmann::json(nullptr);
                };
                out.push_back(
                    {{"id", d.id},
                     {"webhook_id", d.webhook_id},
                     {"event_id", d.event_id},
                     {"type", types[d.event_id]},
                     {"job", d.job_id ? nlohmann::json(job_name(d.job_id)) : nlohmann::json(nullptr)},
                     {"state", to_string(d.state)},
                     {"attempts", d.attempts},
                     {"last_status", d.last_status ? nlohmann::json(*d.last_status) : nlohmann::json(nullptr)},
                     {"last_error", d.last_error},
                     {"created", utc_time(d.created_ns)},
                     {"next_attempt",
                      d.state == DeliveryState::Pending ? optional_time(d.next_attempt_ns) : nlohmann::json(nullptr)},
                     {"done", optional_time(d.done_ns)}});
            }
            ctx.print_json(out);
            return exit_ok;
        }
        if (rows.empty()) {
            ctx.io.out << fmt::format("no {}deliveries in tenant {}\n", o->failed ? "failed " : "", tenant.slug);
            return exit_ok;
        }
        Table table({"ID", "WEBHOOK", "EVENT", "TYPE", "JOB", "STATE", "ATTEMPTS", "CREATED", "NEXT/DONE", "LAST"});
        for (const auto& d : rows) {
            std::string when = d.done_ns                           ? utc_time(*d.done_ns)
                               : d.state == DeliveryState::Pending ? utc_time(d.next_attempt_ns)
                                                                   : "-";
            table.add({std::to_string(d.id), std::to_string(d.webhook_id), std::to_string(d.event_id),
                       types[d.event_id], d.job_id ? job_name(d.job_id) : "-", std::string(to_string(d.state)),
                       std::to_string(d.attempts), utc_time(d.created_ns), when, last_outcome(d)});
        }
        table.print(ctx.io.out);
        return exit_ok;
    });
}

}  // namespace photodrop::ctl
