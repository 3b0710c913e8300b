#include "tools/commands/commands.hpp"
#include "tools/context.hpp"
#include "tools/ftpd_config.hpp"

#include <CLI/CLI.hpp>

#include <memory>
#include <ostream>

namespace photodrop::ctl {

void add_ftpd_config_command(CLI::App& app, Context& ctx) {
    auto place = std::make_shared<FtpdPlace>();
    auto* cmd = app.add_subcommand("ftpd-config", "Print the ProFTPD configuration that serves FTPS (and plain FTP to "
                                                  "the logins allowed it) into the tenants' mounts");
    cmd->add_option("--address", place->address, "Listen on this address only (default: every address)")
        ->type_name("ADDRESS");
    cmd->add_option("--run-dir", place->run_dir, "Where proftpd keeps its pid file and scoreboard")
        ->type_name("DIR")
        ->capture_default_str();
    cmd->add_option("--log", place->system_log, "proftpd's log file (default: syslog, the journal)")->type_name("FILE");
    cmd->footer(std::string("Install it with: photodropctl ftpd-config > ") + ftpd_config_path +
                " && systemctl restart photodrop-ftpd");
    ctx.on(cmd, [&ctx, place] {
        ctx.io.out << ftpd_config(ctx.config, *place);
        return exit_ok;
    });
}

}  // namespace photodrop::ctl
