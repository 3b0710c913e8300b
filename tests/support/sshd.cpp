#include "tests/support/sshd.hpp"

#include "tests/support/files.hpp"

#include <signal.h>

#include <fstream>
#include <stdexcept>

namespace photodrop::test {

std::filesystem::path make_client_key(const std::filesystem::path& dir, const std::string& name) {
    auto key = dir / name;
    if (run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key.string()}) != 0)
        throw std::runtime_error("ssh-keygen failed");
    return key;
}

SshServer::SshServer(const std::filesystem::path& dir, const std::string& match_block) : dir_(dir), port_(free_port()) {
    auto host_key = dir_ / "ssh_host_ed25519_key";
    if (run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", host_key.string()}) != 0)
        throw std::runtime_error("ssh-keygen failed");
    std::filesystem::create_directories("/run/sshd");  // sshd's privilege separation directory
    auto config = dir_ / "sshd_config";
    std::ofstream(config) << "ListenAddress 127.0.0.1\n"
                          << "Port " << port_ << "\n"
                          << "HostKey " << host_key.string() << "\n"
                          << "PidFile none\n"
                          << "UsePAM yes\n"
                          << "PasswordAuthentication yes\n"
                          << "KbdInteractiveAuthentication no\n"
                          << "PubkeyAuthentication yes\n"
                          << "LogLevel VERBOSE\n"
                          << "MaxStartups 100\n"
                          << "Subsystem sftp internal-sftp\n"
                          << match_block << "\n";
    if (run({"/usr/sbin/sshd", "-t", "-f", config.string()}, (dir_ / "sshd.log").string()) != 0)
        throw std::runtime_error("sshd refuses its config: " + log());
    sshd_ = Process({"/usr/sbin/sshd", "-D", "-e", "-f", config.string()}, (dir_ / "sshd.log").string());
    if (!wait_accepting(sshd_, port_, 10)) throw std::runtime_error("sshd did not start: " + log());
}

SshServer::~SshServer() {
    sshd_.signal(SIGTERM);
    if (sshd_.wait_for(5) < 0) sshd_.signal(SIGKILL);
    sshd_.wait();
}

std::string SshServer::log() const { return read_file(dir_ / "sshd.log"); }

}  // namespace photodrop::test
