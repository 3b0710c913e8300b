// End to end: a real sshd on loopback, real photodrop-fs mounts of two tenants,
// system accounts made by photodropctl, and real SFTP clients (OpenSSH sftp,
// curl, a paramiko script for exact operation sequences).

#include "tests/support/files.hpp"
#include "tests/support/deployment.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/statvfs.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

using namespace photodrop;
using namespace photodrop::test;
using nlohmann::json;

namespace {

// Two tenants, their SFTP users and a private sshd, shared by the tests of this file.
struct TwoTenants {
    Deployment d{{"studio-a", "studio-b"}};
    std::string alice = d.add_user("pdta", "studio-a");
    std::string bob = d.add_user("pdtb", "studio-b");
    std::string carol = d.add_user("pdtc", "studio-a", {"--jobs", "job00002"});
    std::string dave = d.add_user("pdtd", "studio-a");
    Job b_only = d.tenant(1).catalog().add_job(d.tenant(1).tenant.id, "b-secret", "Tenant B only", Layout::Flat,
                                               JobStatus::Planned);
    TwoTenants() {
        REQUIRE(d.ctl({"user", "disable", dave}) == 0);
        d.start_sshd();
    }
    MountedTenant& a() { return d.tenant(0); }
    int ctl(const std::vector<std::string>& args, const std::string& input = {}, std::string* out = nullptr) {
        return d.ctl(args, input, out);
    }
    std::pair<int, std::string> sftp(const std::string& user, const std::string& batch) { return d.sftp(user, batch); }
    json client(const std::string& user, const std::vector<std::string>& scenario, const std::string& password = {}) {
        return d.client(user, scenario, password);
    }
    int port() const { return d.port(); }
    std::string password() const { return d.password(); }
    std::filesystem::path dir() const { return d.dir(); }
};

TwoTenants& deployment() {
    static auto d = std::make_unique<TwoTenants>();
    return *d;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("put -r of an album: files land in their sections; a deeper folder is refused and the rest goes on") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    TempDir local;
    auto album = local.path() / "Class 2B";
    local_file(album, "portrait1.jpg", some_bytes(40000, 1));
    local_file(album, "group/class.jpg", some_bytes(50000, 2));
    local_file(album, "individuals/kid1.jpg", some_bytes(60000, 3));
    local_file(album, "individuals/kid2.JPG", some_bytes(60000, 4));
    local_file(album, "individuals/retakes/kid3.jpg", some_bytes(60000, 5));
    // OpenSSH's put -r makes each folder with mkdir and goes on past one it cannot make.
    auto [status, out] = d.sftp(d.alice, fmt::format("-put -r \"{}\" \"job00001/Class 2B\"\n"
                                                     "-mkdir \"job00001/Class 2B/individuals/retakes\"\n",
                                                     album.string()));
    CAPTURE(out);
    CHECK(has(out, "Permission denied"));
    auto& cat = d.a().catalog();
    auto job = d.a().albums_job.id;
    auto class_photo = uploads_named(cat, job, "class.jpg");
    REQUIRE(class_photo.size() == 1);
    CHECK(class_photo[0].folder.section == Section::Group);
    CHECK(class_photo[0].state == UploadState::Queued);
    for (std::string name : {"kid1.jpg", "kid2.JPG", "portrait1.jpg"}) {
        CAPTURE(name);
        auto u = uploads_named(cat, job, name);
        REQUIRE(u.size() == 1);
        CHECK(u[0].folder.section == Section::Individuals);
        CHECK(u[0].state == UploadState::Queued);
    }
    CHECK(uploads_named(cat, job, "kid3.jpg").empty());
    CHECK(has(d.a().log(), "refused: folders cannot be made inside 'group' or 'individuals'"));
    auto listing = d.sftp(d.alice, "ls -1 \"job00001/Class 2B/individuals\"\n");
    CHECK(has(listing.second, "kid1.jpg"));
    CHECK(has(listing.second, "kid2.JPG"));
}

TEST_CASE("an archive and a non-image are refused with their reasons; .DS_Store is discarded without an error") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    TempDir local;
    auto zip = local_file(local.path(), "photos.zip", "PK\x03\x04" + some_bytes(1000));
    auto txt = local_file(local.path(), "notes.txt", "hello");
    auto disguised = local_file(local.path(), "disguised.jpg", "PK\x03\x04" + some_bytes(100000));
    auto ds = local_file(local.path(), ".DS_Store", some_bytes(6148));
    auto refused = d.sftp(d.alice, fmt::format("-put {} job00002/\n-put {} job00002/\n-put {} job00002/\n",
                                               zip.string(), txt.string(), disguised.string()));
    CAPTURE(refused.second);
    CHECK(has(refused.second, "Permission denied"));
    auto accepted = d.sftp(d.alice, fmt::format("put {} job00002/.DS_Store\n", ds.string()));
    CAPTURE(accepted.second);
    CHECK(accepted.first == 0);
    auto& cat = d.a().catalog();
    auto job = d.a().flat_job.id;
    auto reason_of = [&](const std::string& name) {
        auto u = uploads_named(cat, job, name);
        return u.empty() ? std::string("(none)") : u.back().reason;
    };
    CHECK(has(reason_of("photos.zip"), "archives (.zip) are not accepted"));
    CHECK(has(reason_of("notes.txt"), "only image files"));
    CHECK(has(reason_of("disguised.jpg"), "ZIP archive"));
    CHECK(uploads_named(cat, job, ".DS_Store").back().state == UploadState::Discarded);
    std::string listed;
    REQUIRE(d.ctl({"uploads", "--tenant", "studio-a", "--job", "job00002", "--state", "rejected"}, "", &listed) == 0);
    CHECK(has(listed, "photos.zip"));
    CHECK(has(listed, "archives (.zip) are not accepted"));
    CHECK(has(listed, "disguised.jpg"));
}

TEST_CASE("WinSCP's sequence: .filepart, remove, rename, set mtime") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    TempDir local;
    auto data = local_file(local.path(), "w.jpg", some_bytes(500000, 11));
    d.client(d.alice, {"mkdir", "job00001/WinSCP"});
    auto r = d.client(d.alice, {"winscp", "job00001/WinSCP", "IMG_0001.jpg", data.string(), "1600000000"});
    CAPTURE(r.dump());
    REQUIRE_FALSE(r.contains("error"));
    CHECK(r["mtime"] == 1600000000);
    CHECK(r["size"] == 500000);
    CHECK(r["names"] == json::array({"IMG_0001.jpg"}));
    auto u = uploads_named(d.a().catalog(), d.a().albums_job.id, "IMG_0001.jpg");
    REQUIRE(u.size() == 1);
    CHECK(u[0].state == UploadState::Queued);
    auto ls = d.sftp(d.alice, "ls -l job00001/WinSCP\n");
    CHECK(has(ls.second, "2020"));  // 1600000000 is September 2020
    // The same sequence again replaces it: one visible upload, queued once more.
    r = d.client(d.alice, {"winscp", "job00001/WinSCP", "IMG_0001.jpg", data.string(), "1600000000"});
    CHECK(r["names"] == json::array({"IMG_0001.jpg"}));
    CHECK(d.a().catalog().uploads(d.a().albums_job.id, UploadState::Queued).size() >= 1);
}

TEST_CASE("rclone's and Cyberduck's temporary names are queued when renamed") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    TempDir local;
    auto data = local_file(local.path(), "r.jpg", some_bytes(200000, 12));
    for (std::string client : {"rclone", "cyberduck"}) {
        CAPTURE(client);
        auto name = client + ".jpg";
        auto r = d.client(d.alice, {client, "job00002", name, data.string()});
        CAPTURE(r.dump());
        REQUIRE_FALSE(r.contains("error"));
        CHECK(r["size"] == 200000);
        auto u = uploads_named(d.a().catalog(), d.a().flat_job.id, name);
        REQUIRE(u.size() == 1);
        CHECK(u[0].state == UploadState::Queued);
    }
}

TEST_CASE("an interrupted upload resumed with reput, or by writing at the offset, ends byte-identical") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    TempDir local;
    auto bytes = some_bytes(4 << 20, 13);
    auto data = local_file(local.path(), "big.jpg", bytes);
    auto r = d.client(d.alice, {"resume", "job00002/resumed.jpg", data.string(), "1500000"});
    CHECK(r["sha256"] == sha256(bytes));

    // OpenSSH's reput continues from the size already on the server.
    auto partial = local_file(local.path(), "part/reput.jpg", bytes.substr(0, 1234567));
    REQUIRE(d.sftp(d.alice, fmt::format("put {} job00002/reput.jpg\n", partial.string())).first == 0);
    auto full = local_file(local.path(), "reput.jpg", bytes);
    auto [status, out] = d.sftp(d.alice, fmt::format("reput {} job00002/reput.jpg\n", full.string()));
    CAPTURE(out);
    CHECK(status == 0);
    CHECK(d.client(d.alice, {"read", "job00002/reput.jpg"})["sha256"] == sha256(bytes));
    CHECK(uploads_named(d.a().catalog(), d.a().flat_job.id, "reput.jpg").back().state == UploadState::Queued);
}

TEST_CASE("curl sftp:// uploads and lists") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    TempDir local;
    auto data = local_file(local.path(), "curl.jpg", some_bytes(100000, 14));
    std::string out;
    int status = run_with_input({"curl", "-sS", "-k", "-u", d.alice + ":" + d.password(), "-T", data.string(),
                                 fmt::format("sftp://127.0.0.1:{}/job00002/", d.port())},
                                "", &out);
    CAPTURE(out);
    CHECK(status == 0);
    CHECK(uploads_named(d.a().catalog(), d.a().flat_job.id, "curl.jpg").back().state == UploadState::Queued);
    status = run_with_input({"curl", "-sS", "-k", "-u", d.alice + ":" + d.password(), "-l",
                             fmt::format("sftp://127.0.0.1:{}/job00002/", d.port())},
                            "", &out);
    CHECK(status == 0);
    CHECK(has(out, "curl.jpg"));
    // A refused upload fails visibly.
    auto txt = local_file(local.path(), "notes.txt", "hello");
    status = run_with_input({"curl", "-sS", "-k", "-u", d.alice + ":" + d.password(), "-T", txt.string(),
                             fmt::format("sftp://127.0.0.1:{}/job00002/", d.port())},
                            "", &out);
    CHECK(status != 0);
}

// SPEC.md promises a second (a mount on PostgreSQL keeps what it read for
// 300 ms; the mount tests time it); each listing here starts an SFTP client
// of its own, which takes a good part of a second under load.
TEST_CASE("a job set to selling vanishes from ls, and comes back when planned again") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    auto listed = [&] { return d.client(d.alice, {"listdir", "/"})["names"]; };
    CHECK(listed() == json::array({"job00001", "job00002"}));
    for (int round = 0; round < 2; ++round) {
        CAPTURE(round);
        REQUIRE(d.ctl({"job", "set-status", "--tenant", "studio-a", "job00001", "selling"}) == 0);
        CHECK(within(3, [&] { return listed() == json::array({"job00002"}); }));
        REQUIRE(d.ctl({"job", "set-status", "--tenant", "studio-a", "job00001", "planned"}) == 0);
        CHECK(within(3, [&] { return listed() == json::array({"job00001", "job00002"}); }));
    }
}

TEST_CASE("tenants are isolated, and a restricted user sees only its jobs") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    CHECK(d.client(d.bob, {"listdir", "/"})["names"] == json::array({"b-secret", "job00001", "job00002"}));
    // Alice is chrooted into tenant A's mount: B's folders are nowhere to be found.
    CHECK(d.client(d.alice, {"listdir", "/b-secret"}).contains("error"));
    CHECK(d.client(d.alice, {"listdir", "/../studio-b"}).contains("error"));
    CHECK(d.client(d.alice, {"listdir", "/.."})["names"] == json::array({"job00001", "job00002"}));
    CHECK(d.client(d.alice, {"put", "/b-secret/x.jpg", "/etc/hostname"}).contains("error"));
    CHECK(d.client(d.alice, {"read", "../../studio-b/job00002/x.jpg"}).contains("error"));
    // Carol may see job00002 only.
    CHECK(d.client(d.carol, {"listdir", "/"})["names"] == json::array({"job00002"}));
    CHECK(d.client(d.carol, {"listdir", "/job00001"}).contains("error"));
    CHECK(d.client(d.carol, {"mkdir", "/job00001/sneaky"}).contains("error"));
}

TEST_CASE("an SFTP user gets no shell, no command and no port forwarding") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    auto exec = d.client(d.alice, {"exec", "id"});
    CAPTURE(exec.dump());
    CHECK_FALSE(has(exec.value("output", ""), "uid="));
    auto shell = d.client(d.alice, {"shell"});
    CAPTURE(shell.dump());
    CHECK_FALSE(has(shell.value("output", ""), "uid="));
    CHECK(shell["pty"] == false);
    auto forward = d.client(d.alice, {"forward", std::to_string(d.port())});
    CHECK(forward["forwarded"] == false);
    std::string out;
    int status = run_with_input({"ssh", "-p", std::to_string(d.port()), "-o", "BatchMode=yes", "-o",
                                 "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-i",
                                 (d.dir() / "client_key").string(), d.alice + "@127.0.0.1", "id"},
                                "", &out);
    CHECK(status != 0);
    CHECK_FALSE(has(out, "uid="));
}

TEST_CASE("a wrong password, an unknown user and a disabled user are refused") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    CHECK(d.client(d.alice, {"auth"})["ok"] == true);
    CHECK(d.client(d.alice, {"auth"}, "wrong-password")["error"] == "authentication failed");
    CHECK(d.client("pdt-nobody", {"auth"})["error"] == "authentication failed");
    CHECK(d.client(d.dave, {"auth"})["error"] == "authentication failed");
    CHECK(d.sftp(d.dave, "ls\n").first != 0);  // nor with its key
    REQUIRE(d.ctl({"user", "enable", d.dave}) == 0);
    CHECK(d.client(d.dave, {"auth"})["ok"] == true);
    REQUIRE(d.ctl({"user", "disable", d.dave}) == 0);
}

// The size in KiB that OpenSSH sftp's `df` shows (the first number of its second line).
int64_t sftp_df_size_kib(const std::string& out) {
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line))
        if (!line.empty() && line.find("Size") == std::string::npos && line.find("sftp>") == std::string::npos) {
            std::istringstream numbers(line);
            int64_t kib = -1;
            if (numbers >> kib) return kib;
        }
    return -1;
}

TEST_CASE("with a tenant quota sftp's df shows it; a put that crosses it fails, and reput completes it once there is room") {
    REQUIRE_DEPLOYABLE();
    auto& d = deployment();
    auto& b = d.d.tenant(1);
    struct Unset {
        TwoTenants& d;
        ~Unset() { d.ctl({"tenant", "set", "studio-b", "--quota", "none"}); }
    } unset{d};
    int64_t quota = b.catalog().tenant_use(b.tenant.id) + (2 << 20);
    REQUIRE(d.ctl({"tenant", "set", "studio-b", "--quota", std::to_string(quota)}) == 0);
    struct statvfs disk {};
    REQUIRE(::statvfs(b.data_dir().c_str(), &disk) == 0);
    int64_t expected_kib = quota / static_cast<int64_t>(disk.f_frsize) * static_cast<int64_t>(disk.f_frsize) / 1024;
    std::this_thread::sleep_for(std::chrono::milliseconds(700));  // the mount reads the quota again within 500 ms
    auto [df_status, df_out] = d.sftp(d.bob, "df\n");
    CAPTURE(df_out);
    CHECK(df_status == 0);
    CHECK(sftp_df_size_kib(df_out) == expected_kib);

    TempDir local;
    auto bytes = some_bytes(3 << 20, 21);
    auto data = local_file(local.path(), "quota.jpg", bytes);
    auto [put_status, put_out] = d.sftp(d.bob, fmt::format("put {} job00002/quota.jpg\n", data.string()));
    CAPTURE(put_out);
    CHECK(put_status != 0);
    CHECK(has(put_out, "Failure"));
    auto u = uploads_named(b.catalog(), b.flat_job.id, "quota.jpg");
    REQUIRE(u.size() == 1);
    CHECK(u[0].state == UploadState::Receiving);
    CHECK(u[0].size <= 2 << 20);
    CHECK(has(b.log(), "would take the studio past its storage quota"));

    REQUIRE(d.ctl({"tenant", "set", "studio-b", "--quota", "none"}) == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    auto [reput_status, reput_out] = d.sftp(d.bob, fmt::format("reput {} job00002/quota.jpg\n", data.string()));
    CAPTURE(reput_out);
    CHECK(reput_status == 0);
    CHECK(d.client(d.bob, {"read", "job00002/quota.jpg"})["sha256"] == sha256(bytes));
    CHECK(uploads_named(b.catalog(), b.flat_job.id, "quota.jpg").back().state == UploadState::Queued);
}
