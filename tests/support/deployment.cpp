#include "tests/support/deployment.hpp"
#include "tests/support/files.hpp"
#include "tests/support/http.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#ifndef PHOTODROP_CTL_BIN
#error "PHOTODROP_CTL_BIN must name the photodropctl binary"
#endif

namespace photodrop::test {

namespace {
const std::filesystem::path tests_base = "/var/lib/photodrop-tests";  // root-owned parents, as a chroot needs
}

bool can_deploy() { return can_mount() && ::access("/usr/sbin/sshd", X_OK) == 0; }

Deployment::Deployment(const std::vector<std::string>& tenants) : base_(tests_base) {
    for (const auto& slug : tenants) {
        tenants_.push_back(std::make_unique<MountedTenant>(base_.path(), slug));
        tenants_.back()->mount();
    }
    key_ = make_client_key(base_.path(), "client_key");
}

Deployment::~Deployment() {
    sshd_.reset();
    ftpd_.reset();
    if (ingest_.running()) {
        ingest_.signal(SIGTERM);
        if (ingest_.wait_for(10) < 0) ingest_.signal(SIGKILL);
        ingest_.wait();
    }
    for (const auto& u : users_) ctl({"user", "remove", u});
    for (auto& t : tenants_) t->unmount();
}

std::vector<std::string> Deployment::ctl_argv(const std::vector<std::string>& args) const {
    const auto& any = *tenants_.front();
    std::vector<std::string> argv{PHOTODROP_CTL_BIN,
                                  "--catalog", any.catalog_location(),
                                  "--data", any.data_dir().string(),
                                  "--mounts", any.mounts_dir().string(),
                                  "--keys-dir", (base_.path() / "keys").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

int Deployment::ctl(const std::vector<std::string>& args, const std::string& input, std::string* out) {
    return run_with_input(ctl_argv(args), input, out);
}

std::string Deployment::add_user(const std::string& prefix, const std::string& tenant,
                                 const std::vector<std::string>& extra) {
    auto name = prefix + std::to_string(::getpid() % 100000);
    if (::getpwnam(name.c_str())) ctl({"user", "remove", name});  // left by a crashed run
    std::vector<std::string> args{"user", "add", "--tenant", tenant, name, "--password-stdin", "--key",
                                  key_.string() + ".pub"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::string out;
    REQUIRE_MESSAGE(ctl(args, password_ + "\n", &out) == 0, out);
    users_.push_back(name);
    return name;
}

std::string make_jpeg(const std::filesystem::path& dir, const std::string& name, int width, int height) {
    auto out = dir / name;
    auto gradient = (dir / (name + ".v")).string();
    REQUIRE(run({"vips", "xyz", gradient, std::to_string(width), std::to_string(height)}) == 0);
    REQUIRE(run({"vips", "copy", gradient, out.string() + "[Q=90]"}) == 0);
    std::filesystem::remove(gradient);
    return read_file(out);
}

std::string jpeg_variant(const std::string& jpeg, int n) {
    std::string text = fmt::format("variant {}", n);
    std::string segment{'\xFF', '\xFE', static_cast<char>((text.size() + 2) >> 8), static_cast<char>((text.size() + 2) & 0xFF)};
    return jpeg.substr(0, 2) + segment + text + jpeg.substr(2);
}

void Deployment::start_sshd() {
    std::string block;
    REQUIRE(run_with_input(ctl_argv({"sshd-config"}), "", &block) == 0);
    sshd_ = std::make_unique<SshServer>(base_.path(), block);
}

void Deployment::start_ftpd() {
    auto dir = base_.path() / "ftpd";
    std::filesystem::create_directories(dir);
    ftp_ = make_ftp_settings(dir);
    std::vector<std::string> argv{"/usr/bin/env"};
    for (const auto& setting : ftp_setting_variables(ftp_)) argv.push_back(setting);
    for (const auto& arg : ctl_argv({"ftpd-config", "--address", "127.0.0.1", "--run-dir", dir.string(), "--log",
                                     (dir / "proftpd.log").string()}))
        argv.push_back(arg);
    std::string config;
    REQUIRE_MESSAGE(run_with_input(argv, "", &config) == 0, config);
    ftpd_ = std::make_unique<FtpServer>(dir, config, ftp_.port);
}

void Deployment::start_ingest(const std::vector<std::string>& extra) {
    const auto& any = *tenants_.front();
    std::vector<std::string> argv{PHOTODROP_INGEST_BIN, "--catalog", any.catalog_location(), "--data",
                                  any.data_dir().string(), "--listen", "127.0.0.1:" + std::to_string(free_port())};
    argv.insert(argv.end(), extra.begin(), extra.end());
    ingest_ = Process(argv, (base_.path() / "ingest.log").string());
}

unsigned short Deployment::start_api(const std::vector<std::string>& extra, const std::vector<std::string>& settings) {
    const auto& any = *tenants_.front();
    auto port = static_cast<unsigned short>(free_port());
    std::vector<std::string> argv{PHOTODROP_API_BIN, "--catalog", any.catalog_location(), "--data",
                                  any.data_dir().string(), "--listen", "127.0.0.1:" + std::to_string(port)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    api_ = Process(argv, (base_.path() / "api.log").string(), settings);
    HttpRequest probe;
    probe.target = "/v1/openapi.json";
    probe.timeout = std::chrono::milliseconds(1000);
    bool up = within(20, [&] { return !api_.running() || http_request(port, probe).status == 200; });
    REQUIRE_MESSAGE((up && api_.running()), "photodrop-api did not start: ", api_.log());
    return port;
}

void Deployment::kill_api() {
    api_.signal(SIGKILL);
    api_.wait();
}

void Deployment::kill_ingest() {
    ingest_.signal(SIGKILL);
    ingest_.wait();
}

std::pair<int, std::string> Deployment::sftp(const std::string& user, const std::string& batch) {
    std::vector<std::string> argv{"sftp", "-b", "-", "-P", std::to_string(port()), "-i", key_.string(),
                                  "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                                  "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                                  "-o", "LogLevel=ERROR", user + "@127.0.0.1"};
    std::string out;
    int status = run_with_input(argv, batch, &out);
    return {status, out};
}

nlohmann::json Deployment::client(const std::string& user, const std::vector<std::string>& scenario,
                                  const std::string& password) {
    std::vector<std::string> argv{"/usr/bin/python3", PHOTODROP_E2E_DIR "/sftp_client.py", std::to_string(port()),
                                  user, password.empty() ? password_ : password};
    argv.insert(argv.end(), scenario.begin(), scenario.end());
    std::string out;
    run_with_input(argv, "", &out);
    return client_report(out);
}

nlohmann::json client_report(const std::string& output) {
    std::string line = output.substr(0, output.find_last_not_of('\n') + 1);  // npos + 1 == 0
    line = line.substr(line.rfind('\n') + 1);
    auto seen = nlohmann::json::parse(line, nullptr, false);
    REQUIRE_MESSAGE(seen.is_object(), output);
    return seen;
}

}  // namespace photodrop::test
