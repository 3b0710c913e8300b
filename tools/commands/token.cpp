// token: the HTTP API's bearer tokens (photodrop-api). Only a token's hash is
// kept: `token add` prints the token once.
#include "tools/commands/commands.hpp"
#include "tools/context.hpp"
#include "tools/format.hpp"

#include "api/token.hpp"
#include "catalog/text.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace photodrop::ctl {

namespace {
struct TokenOptions {
    std::string tenant;
    bool operator_token = false;
    bool read_only = false;
    std::string label;
    Id id = 0;
};
}  // namespace

void add_token_commands(CLI::App& app, Context& ctx) {
    auto o = std::make_shared<TokenOptions>();
    auto* token = app.add_subcommand("token", "Bearer tokens of the HTTP API (photodrop-api)");
    token->require_subcommand(1);

    auto* add = token->add_subcommand("add", "Make a token for one tenant (or, with --operator, for all); prints it once");
    add->add_option("--tenant,-t", o->tenant, "The tenant whose API it opens")->type_name("SLUG");
    add->add_flag("--operator", o->operator_token, "A token for every tenant (it names one with ?tenant=SLUG)");
    add->add_flag("--read-only", o->read_only, "It may only read (GET), not create jobs or change them");
    add->add_option("--label", o->label, "Words to know it by in `token list` (who or what uses it)");
    ctx.on(add, [&ctx, o] {
        if (o->operator_token == !o->tenant.empty())
            throw UsageError("give either --tenant SLUG or --operator");
        std::optional<Id> tenant_id;
        if (!o->operator_token) tenant_id = ctx.tenant(o->tenant).id;
        std::string secret = api::new_token();
        auto made = ctx.catalog().add_token(tenant_id, o->label, api::token_hash(secret), o->read_only);
        if (ctx.json) {
            ctx.print_json({{"id", made.id}, {"token", secret}});
        } else {
            ctx.io.out << fmt::format("token {} for {}{}: {}\n", made.id,
                                      o->operator_token ? "every tenant" : "tenant " + o->tenant,
                                      o->read_only ? " (read-only)" : "", secret);
            ctx.io.out << "It is shown this once: only its hash is kept.\n";
        }
        return exit_ok;
    });

    auto* list = token->add_subcommand("list", "List tokens (never the tokens themselves)");
    list->add_option("--tenant,-t", o->tenant, "Only this tenant's tokens (default: every token)")->type_name("SLUG");
    ctx.on(list, [&ctx, o] {
        auto& cat = ctx.catalog();
        std::optional<Id> tenant_id;
        if (!o->tenant.empty()) tenant_id = ctx.tenant(o->tenant).id;
        std::map<Id, std::string> slugs;
        for (const auto& t : cat.tenants()) slugs[t.id] = t.slug;
        auto rows = cat.tokens(tenant_id);
        auto scope = [&](const ApiToken& t) { return t.tenant_id ? slugs[*t.tenant_id] : std::string("(operator)"); };
        if (ctx.json) {
            auto out = nlohmann::json::array();
            for (const auto& t : rows)
                out.push_back({{"id", t.id},
                               {"tenant", t.tenant_id ? nlohmann::json(slugs[*t.tenant_id]) : nlohmann::json(nullptr)},
                               {"label", text::shown(t.label)},
                               {"read_only", t.read_only},
                               {"created", utc_time(t.created_ns)},
                               {"revoked", t.revoked_ns ? nlohmann::json(utc_time(*t.revoked_ns)) : nlohmann::json(nullptr)}});
            ctx.print_json(out);
            return exit_ok;
        }
        if (rows.empty()) {
            ctx.io.out << "no tokens\n";
            return exit_ok;
        }
        Table table({"ID", "TENANT", "ACCESS", "LABEL", "CREATED", "REVOKED"});
        for (const auto& t : rows)
            table.add({std::to_string(t.id), scope(t), t.read_only ? "read-only" : "read-write", text::shown(t.label),
                       utc_time(t.created_ns), t.revoked_ns ? utc_time(*t.revoked_ns) : "-"});
        table.print(ctx.io.out);
        return exit_ok;
    });

    auto* revoke = token->add_subcommand("revoke", "Revoke a token: photodrop-api refuses it within a second");
    revoke->add_option("id", o->id, "The token's id (token list)")->required();
    ctx.on(revoke, [&ctx, o] {
        ctx.catalog().revoke_token(o->id);
        if (!ctx.json) ctx.io.out << fmt::format("token {} revoked\n", o->id);
        return exit_ok;
    });
}

}  // namespace photodrop::ctl
