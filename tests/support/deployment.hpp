#pragma once
// A whole photodrop on this machine for end-to-end tests: tenants mounted
// under a root-owned base (as sshd's chroot demands), SFTP users made by
// photodropctl, a private sshd, optionally the ingest service. Everything is
// stopped, unmounted and removed at the end.

#include "tests/support/ftpd.hpp"
#include "tests/support/mount.hpp"
#include "tests/support/sshd.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace photodrop::test {

// Whether this machine can run end-to-end tests: root, /dev/fuse and sshd.
bool can_deploy();

// An end-to-end test fails at once, saying why, where it cannot run.
#define REQUIRE_DEPLOYABLE() \
    REQUIRE_MESSAGE(::photodrop::test::can_deploy(), "end-to-end tests need root, /dev/fuse and /usr/sbin/sshd")

// A JPEG of `width` x `height` made with libvips' command line (a gradient),
// written to DIR/NAME; its bytes.
std::string make_jpeg(const std::filesystem::path& dir, const std::string& name, int width, int height);
// The same picture in other bytes: a JPEG comment segment right after the
// start-of-image marker, so that each variant `n` is a photo of its own.
std::string jpeg_variant(const std::string& jpeg, int n);

// What a scripted client (tests/e2e/sftp_client.py, ftp_client.py) saw: the JSON object on the last
// line it printed (anything before it is Python's complaint).
nlohmann::json client_report(const std::string& output);

class Deployment {
public:
    // Mounts one MountedTenant per slug (each with job00001 `albums` and job00002 `flat`).
    explicit Deployment(const std::vector<std::string>& tenants);
    ~Deployment();

    MountedTenant& tenant(size_t i) { return *tenants_.at(i); }
    const std::filesystem::path& dir() const { return base_.path(); }

    // A system account + catalog user made by photodropctl, with the shared password and client key.
    // The name is `prefix` plus this process's id, so that parallel runs do not collide.
    std::string add_user(const std::string& prefix, const std::string& tenant, const std::vector<std::string>& extra = {});
    // Starts sshd with photodropctl's Match block; call after the users are made.
    void start_sshd();
    // Starts proftpd on `photodropctl ftpd-config` (127.0.0.1, a free port, a self-signed certificate);
    // call after the users are made. Its settings say where it listens and which certificate it shows.
    void start_ftpd();
    const FtpSettings& ftp() const { return ftp_; }
    FtpServer& ftpd() { return *ftpd_; }
    // Starts photodrop-ingest on the deployment's catalog and data, with `extra` flags.
    void start_ingest(const std::vector<std::string>& extra = {});
    // SIGKILL to the ingest service: a crash; start_ingest() starts it again.
    void kill_ingest();
    // Starts photodrop-api on the deployment's catalog and data, on a free
    // loopback port, with `extra` flags and `settings` ("PHOTODROP_KEY=value"),
    // and waits (at most 20 s) until it answers; its port.
    unsigned short start_api(const std::vector<std::string>& extra = {}, const std::vector<std::string>& settings = {});
    // SIGKILL to photodrop-api: a crash; start_api() starts it again.
    void kill_api();
    Process& api() { return api_; }
    int port() const { return sshd_->port(); }
    const std::string& password() const { return password_; }
    const std::filesystem::path& client_key() const { return key_; }

    // photodropctl on this deployment; its exit status, and what it printed in `out`.
    int ctl(const std::vector<std::string>& args, const std::string& input = {}, std::string* out = nullptr);
    // The command line ctl() runs.
    std::vector<std::string> ctl_argv(const std::vector<std::string>& args) const;
    // OpenSSH sftp in batch mode with the client key: exit status and output.
    std::pair<int, std::string> sftp(const std::string& user, const std::string& batch);
    // The paramiko client (tests/e2e/sftp_client.py) with the user's password; what it reported.
    nlohmann::json client(const std::string& user, const std::vector<std::string>& scenario,
                          const std::string& password = {});

private:
    TempDir base_;
    std::vector<std::unique_ptr<MountedTenant>> tenants_;
    std::filesystem::path key_;
    std::string password_ = "Corr3ct-Horse";
    std::vector<std::string> users_;
    std::unique_ptr<SshServer> sshd_;
    FtpSettings ftp_;
    std::unique_ptr<FtpServer> ftpd_;
    Process ingest_;
    Process api_;
};

}  // namespace photodrop::test
