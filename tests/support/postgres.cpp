#include "tests/support/postgres.hpp"

#include <fmt/format.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace photodrop::test {

namespace {
constexpr int socket_port = 5432;  // names the socket file; nothing listens on TCP

// argv, run as the `postgres` system user (the server refuses to run as root).
std::vector<std::string> as_postgres(std::vector<std::string> argv) {
    argv.insert(argv.begin(), {"setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"});
    return argv;
}

void chown_to_postgres(const std::filesystem::path& path) {
    const passwd* pw = ::getpwnam("postgres");
    if (!pw) throw std::runtime_error("PostgreSQL tests need the `postgres` system user: install Debian's postgresql package");
    if (::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("chown " + path.string() + " failed");
}
}  // namespace

std::filesystem::path postgres_bin_dir() {
    std::vector<std::filesystem::path> found;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec))
        if (std::filesystem::exists(entry.path() / "bin" / "postgres")) found.push_back(entry.path() / "bin");
    if (found.empty())
        throw std::runtime_error("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres): tools/dev/install-deps installs it");
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
        return std::stoi(a.parent_path().filename().string()) < std::stoi(b.parent_path().filename().string());
    });
    return found.back();
}

PostgresServer::PostgresServer() : socket_dir_(dir_.path() / "socket") {
    auto bin = postgres_bin_dir();
    auto data = dir_.path() / "data";
    std::filesystem::create_directories(socket_dir_);
    std::filesystem::create_directories(data);
    std::filesystem::permissions(data, std::filesystem::perms::owner_all);
    chown_to_postgres(dir_.path());
    chown_to_postgres(socket_dir_);
    chown_to_postgres(data);
    auto log_path = (dir_.path() / "postgres.log").string();
    if (run(as_postgres({(bin / "initdb").string(), "-D", data.string(), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                         "--locale=C.UTF-8", "--no-sync"}),
            log_path) != 0)
        throw std::runtime_error("initdb failed: " + log());
    server_ = Process(as_postgres({(bin / "postgres").string(), "-D", data.string(), "-k", socket_dir_.string(), "-p",
                                   std::to_string(socket_port), "-c", "listen_addresses=", "-c", "fsync=off", "-c",
                                   "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200"}),
                      log_path);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (run({(bin / "pg_isready").string(), "-q", "-h", socket_dir_.string(), "-p", std::to_string(socket_port)}) != 0) {
        if (!server_.running()) throw std::runtime_error("the PostgreSQL server exited: " + log());
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("the PostgreSQL server did not answer within 30 s: " + log());
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    int status = 0;
    auto out = output_of({"createdb", "-h", socket_dir_.string(), "-p", std::to_string(socket_port), "-U", "postgres",
                          "photodrop"},
                         &status);
    if (status != 0) throw std::runtime_error("createdb failed: " + out);
}

PostgresServer::~PostgresServer() {
    if (server_.running()) {
        server_.signal(SIGINT);  // fast shutdown: ends sessions, writes a checkpoint
        server_.wait_for(30);
    }
}

std::string PostgresServer::uri() const {
    return fmt::format("postgresql://postgres@/photodrop?host={}&port={}", socket_dir_.string(), socket_port);
}

std::string PostgresServer::psql(const std::string& sql) const {
    int status = 0;
    auto out = output_of({"psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", uri(), "-c", sql}, &status);
    if (status != 0) throw std::runtime_error(fmt::format("psql failed ({}): {}", sql, out));
    return out;
}

std::string PostgresServer::log() const {
    std::ifstream in(dir_.path() / "postgres.log");
    return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace photodrop::test
