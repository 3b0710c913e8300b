#include "tools/context.hpp"
#include "tools/format.hpp"

#include "catalog/sql.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <istream>
#include <ostream>

namespace photodrop::ctl {

Catalog& Context::catalog() {
    if (!catalog_) {
        if (!sql::catalog_exists(config.catalog))
            throw std::runtime_error(fmt::format("catalog {} does not exist (create it with `photodropctl init`)",
                                                 sql::redacted(config.catalog)));
        catalog_ = open_catalog(config.catalog);
    }
    return *catalog_;
}

Tenant Context::tenant(const std::string& slug) {
    if (slug.empty()) {
        auto all = catalog().tenants();
        if (all.size() == 1) return all.front();
        throw UsageError(all.empty() ? "no tenants yet: add one with `photodropctl tenant add SLUG`"
                                     : "there are several tenants: name one with --tenant");
    }
    auto t = catalog().tenant(slug);
    if (!t) throw std::runtime_error(fmt::format("unknown tenant '{}'", slug));
    return *t;
}

Job Context::job(const Tenant& tenant, const std::string& name) {
    auto j = catalog().job(tenant.id, name);
    if (!j) throw std::runtime_error(fmt::format("tenant {} has no job '{}'", tenant.slug, name));
    return *j;
}

void Context::print_json(const nlohmann::json& value) { io.out << shown(value).dump(2) << '\n'; }

std::string Context::read_password() {
    std::string password;
    if (!std::getline(io.in, password)) throw std::runtime_error("no password on standard input");
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (password.empty()) throw std::runtime_error("the password is empty");
    return password;
}

void Context::on(CLI::App* command, std::function<int()> run) {
    // A subcommand's callback runs before its parent's: the deepest command given wins.
    command->callback([this, run = std::move(run)] {
        if (!action) action = run;
    });
}

CLI::Option* add_tenant_option(CLI::App* command, std::string& slug) {
    return command->add_option("--tenant,-t", slug, "The tenant (its slug); optional when there is only one")
        ->type_name("SLUG");
}

void add_job_options(CLI::App* command, JobOptions& o, bool required) {
    add_tenant_option(command, o.tenant);
    auto* opt = command->add_option("--job,-j", o.job, "The job (its folder name)")->type_name("NAME");
    if (required) opt->required();
}

}  // namespace photodrop::ctl
