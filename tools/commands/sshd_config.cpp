#include "tools/commands/commands.hpp"
#include "tools/context.hpp"
#include "tools/sshd_snippet.hpp"

#include <CLI/CLI.hpp>

#include <ostream>

namespace photodrop::ctl {

void add_sshd_config_command(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand("sshd-config", "Print the sshd_config block that chroots SFTP users into their "
                                                  "tenant's mount");
    cmd->footer(std::string("Install it with: photodropctl sshd-config > ") + sshd_snippet_path +
                " && systemctl reload ssh");
    ctx.on(cmd, [&ctx] {
        ctx.io.out << sshd_snippet(ctx.keys_dir);
        return exit_ok;
    });
}

}  // namespace photodrop::ctl
