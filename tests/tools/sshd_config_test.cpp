#include "tests/tools/ctl_fixture.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

using photodrop::test::Ctl;

TEST_CASE("sshd-config prints the Match block, and the packaged snippet is exactly that") {
    Ctl ctl;
    auto r = ctl.run_bare({"--keys-dir", "/etc/photodrop/authorized_keys", "sshd-config"});
    CHECK(r.status == 0);
    for (const char* line : {"Match Group photodrop-no-sftp\n\tDenyUsers *\n", "Match Group photodrop\n", "\tChrootDirectory %h\n", "\tForceCommand internal-sftp\n",
                             "\tAllowTcpForwarding no\n", "\tX11Forwarding no\n", "\tAllowAgentForwarding no\n",
                             "\tPermitTunnel no\n", "\tPermitTTY no\n",
                             "\tAuthorizedKeysFile /etc/photodrop/authorized_keys/%u\n"}) {
        CAPTURE(line);
        CHECK(r.out.find(line) != std::string::npos);
    }

    std::ifstream packaged(PHOTODROP_SOURCE_DIR "/packaging/sshd/photodrop.conf");
    REQUIRE(packaged);
    std::stringstream text;
    text << packaged.rdbuf();
    CHECK(text.str() == r.out);

    auto moved = ctl.run({"sshd-config"});
    CHECK(moved.out.find("\tAuthorizedKeysFile " + ctl.keys + "/%u\n") != std::string::npos);
}
