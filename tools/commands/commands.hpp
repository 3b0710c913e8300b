#pragma once
// Each file in commands/ adds one command (or one family of them) to the
// command line; the action runs after parsing, through Context::on().

namespace CLI {
class App;
}

namespace photodrop::ctl {

class Context;

void add_init_command(CLI::App& app, Context& ctx);
void add_tenant_commands(CLI::App& app, Context& ctx);
void add_job_commands(CLI::App& app, Context& ctx);
void add_listing_commands(CLI::App& app, Context& ctx);  // albums, uploads, photos
void add_queue_commands(CLI::App& app, Context& ctx);
void add_user_commands(CLI::App& app, Context& ctx);
void add_client_config_command(CLI::App& user, Context& ctx);  // user client-config, under `user`
void add_sshd_config_command(CLI::App& app, Context& ctx);
void add_ftpd_config_command(CLI::App& app, Context& ctx);
void add_doctor_command(CLI::App& app, Context& ctx);
void add_purge_commands(CLI::App& app, Context& ctx);  // purge, usage
void add_events_command(CLI::App& app, Context& ctx);
void add_token_commands(CLI::App& app, Context& ctx);
void add_webhook_commands(CLI::App& app, Context& ctx);  // webhook add|list|remove|test|deliveries
void add_subjects_commands(CLI::App& app, Context& ctx);  // roster import, subjects, subjects assign

}  // namespace photodrop::ctl
