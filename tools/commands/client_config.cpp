// user client-config: the file a photographer imports into FileZilla, WinSCP,
// Cyberduck or rclone to reach their account, with the server's key or
// certificate fingerprint (tools/client_config.hpp writes them).
#include "tools/client_config.hpp"
#include "tools/commands/commands.hpp"
#include "tools/context.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ostream>
#include <system_error>

namespace photodrop::ctl {

namespace {

namespace cc = photodrop::client_config;


struct ClientConfigOptions {
    std::string name, format, protocol = "sftp", output, host, host_key, certificate;
    int port = 0;
    bool with_password = false;
};

void write_file(const std::string& path, const std::string& text) {
    // 0600: the file may hold the password.
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), fmt::format("cannot write {}", path));
    bool ok = ::fchmod(fd, 0600) == 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    int saved = errno;
    if (::close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (!ok) throw std::system_error(saved, std::generic_category(), fmt::format("cannot write {}", path));
}

int write_client_config(Context& ctx, const ClientConfigOptions& o) {
    auto format = *cc::parse_format(o.format);  // CLI11 checked both words
    auto protocol = *cc::parse_protocol(o.protocol);
    bool ftps = protocol == cc::Protocol::Ftps;
    if (o.with_password && format == cc::Format::Cyberduck)
        throw UsageError("a Cyberduck bookmark cannot hold a password (Cyberduck asks for it and keeps it in the "
                         "keychain): leave out --with-password");

    auto user = ctx.catalog().user(o.name);
    if (!user) throw std::runtime_error(fmt::format("no SFTP user '{}'", o.name));
    // The flags stand in for the settings they name.
    Config config = ctx.config;
    if (!o.host.empty()) config.public_host = o.host;
    if (o.port > 0) (ftps ? config.ftp_port : config.sftp_port) = o.port;
    if (!o.host_key.empty()) config.sftp_host_key = o.host_key;
    if (!o.certificate.empty()) config.ftp_tls_certificate = o.certificate;
    auto account = cc::account_for(config, *user, protocol);
    // Everything that can be refused is checked before the password is read.
    if (o.with_password) account.password = ctx.read_password();

    std::string text = cc::write(format, account);
    std::string fingerprint =
        ftps ? account.certificate_fingerprint : account.host_key.type + " " + account.host_key.fingerprint();
    if (o.output.empty()) {
        ctx.io.out << text;
        return exit_ok;
    }
    write_file(o.output, text);
    if (ctx.json) {
        ctx.print_json({{"username", account.user},
                        {"format", o.format},
                        {"protocol", o.protocol},
                        {"host", account.host},
                        {"port", account.port},
                        {"fingerprint", fingerprint},
                        {"password", account.password.has_value()},
                        {"output", o.output}});
        return exit_ok;
    }
    ctx.io.out << fmt::format("{} written: {} for {}@{}:{} ({}), server fingerprint {}{}\n", o.output, o.format,
                              account.user, account.host, account.port, o.protocol, fingerprint,
                              account.password ? ", with the password" : "");
    return exit_ok;
}

}  // namespace

void add_client_config_command(CLI::App& user, Context& ctx) {
    auto o = std::make_shared<ClientConfigOptions>();
    auto* cmd = user.add_subcommand("client-config",
                                    "Write the set-up file a photographer imports into FileZilla, WinSCP, Cyberduck "
                                    "or rclone to connect, with the server's key or certificate fingerprint");
    cmd->add_option("name", o->name, "The login name")->required();
    cmd->add_option("--format", o->format,
                    "filezilla: a Site Manager export (File > Import); winscp: a WinSCP.ini session (Import "
                    "Sites > From INI file); cyberduck: a .duck bookmark; rclone: an rclone.conf remote")
        ->required()
        ->check(CLI::IsMember({"filezilla", "winscp", "cyberduck", "rclone"}))
        ->type_name("FORMAT");
    cmd->add_option("--protocol", o->protocol, "sftp (sshd's key pinned) or ftps (explicit TLS; the certificate's "
                                               "fingerprint)")
        ->check(CLI::IsMember({"sftp", "ftps"}))
        ->capture_default_str();
    cmd->add_flag("--with-password", o->with_password,
                  "Put the password, read from the first line of stdin, in the file: base64 for FileZilla, "
                  "obfuscated as WinSCP and `rclone obscure` store it (reversible: treat the file as the password). "
                  "Not for Cyberduck, which keeps passwords in the keychain");
    cmd->add_option("--output,-o", o->output, "Write the file here (mode 0600) instead of to stdout")
        ->type_name("FILE");
    cmd->add_option("--host", o->host, "The name clients connect to (default: the public_host setting, else this "
                                       "host's name)")
        ->type_name("HOST");
    cmd->add_option("--port", o->port, "The port clients connect to (default: the sftp_port or ftp_port setting)")
        ->type_name("N")
        ->check(CLI::Range(1, 65535));
    cmd->add_option("--host-key", o->host_key, "sshd's ed25519 public host key, for SFTP (default: the "
                                               "sftp_host_key setting)")
        ->type_name("FILE");
    cmd->add_option("--certificate", o->certificate,
                    "The FTP server's TLS certificate (PEM), for FTPS (default: the ftp_tls_certificate setting)")
        ->type_name("FILE");
    cmd->footer("FileZilla and Cyberduck keep trusted keys outside their site files: the fingerprint is in the "
                "site's comment, to compare on the first connection. WinSCP pins it (SshHostKey). rclone pins an "
                "SFTP key through known_hosts_file (the line to add is in the file's comment) and checks an FTPS "
                "certificate against the system's CAs.\n"
                "Example: printf '%s\\n' \"$PASSWORD\" | photodropctl user client-config alice --format rclone "
                "--with-password -o alice-rclone.conf");
    ctx.on(cmd, [&ctx, o] { return write_client_config(ctx, *o); });
}

}  // namespace photodrop::ctl
