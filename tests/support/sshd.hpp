#pragma once
// A private sshd on 127.0.0.1 for end-to-end tests: generated host key and
// config, photodrop's Match block, started and stopped by its PID.

#include "tests/support/process.hpp"

#include <filesystem>
#include <string>

namespace photodrop::test {

class SshServer {
public:
    // Writes DIR/sshd_config with `match_block` appended and starts sshd; waits until it accepts connections.
    SshServer(const std::filesystem::path& dir, const std::string& match_block);
    ~SshServer();
    int port() const { return port_; }
    std::string log() const;

private:
    std::filesystem::path dir_;
    int port_;
    Process sshd_;
};

// An ed25519 key pair for a client: DIR/NAME and DIR/NAME.pub.
std::filesystem::path make_client_key(const std::filesystem::path& dir, const std::string& name);

}  // namespace photodrop::test
