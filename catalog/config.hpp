#pragma once
// Settings shared by the three programs. Each comes from, last one winning:
// its built-in default, /etc/photodrop/photodrop.conf (or the file named by
// PHOTODROP_CONFIG), the environment (PHOTODROP_<KEY>, e.g. PHOTODROP_CATALOG),
// and the program's own flags.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace photodrop {

struct Config {
    std::string catalog = "/var/lib/photodrop/catalog.db";  // key: catalog
    std::string data = "/var/lib/photodrop/data";           // key: data — tenants' bytes, DATA/<tenant>/...
    std::string mounts = "/srv/photodrop";                  // key: mounts — tenant T is mounted at MOUNTS/T
    std::string ingest_socket;                              // key: ingest_socket — default DATA/ingest.sock
    std::string ingest_listen = "127.0.0.1:8470";           // key: ingest_listen — health and metrics
    int ingest_workers = 2;                                 // key: ingest_workers
    std::string api_listen = "127.0.0.1:8480";              // key: api_listen — photodrop-api (a reverse proxy in front for TLS)
    int api_threads = 4;                                    // key: api_threads — requests answered at once
    std::chrono::seconds webhook_timeout{10};               // key: webhook_timeout — one delivery attempt, at most
    int webhook_concurrency = 32;                           // key: webhook_concurrency — attempts at once; 0: this host delivers none
    std::chrono::seconds album_idle{600};                   // key: album_idle — no upload into an album this long after one: album.idle
    int64_t pixel_limit = 100'000'000;                      // key: pixel_limit
    int64_t decode_memory = int64_t{640} << 20;             // key: decode_memory — whole-image decodes at once, together
    int thumbnail_size = 400;                               // key: thumbnail_size — long edge, px
    int preview_size = 1600;                                // key: preview_size — long edge, px
    bool read_codes = true;                                 // key: read_codes — yes/no: QR and barcode cards in individuals (subjects)
    std::vector<std::string> image_extensions;              // key: image_extensions — empty: SPEC's list
    std::vector<std::string> temporary_suffixes;            // key: temporary_suffixes
    // Sizes take K, M, G or T (powers of 1024); durations s, m, h or d (seconds without one).
    int64_t max_upload_size = int64_t{1} << 30;             // key: max_upload_size — larger uploads are refused
    int64_t free_space_reserve = int64_t{1} << 30;          // key: free_space_reserve — new uploads are refused below it
    std::chrono::seconds keep_deleted{30 * 86400};          // key: keep_deleted — deleted and cancelled bytes stay recoverable
    std::chrono::seconds keep_rejected{7 * 86400};          // key: keep_rejected — rejected bytes stay for an operator
    std::chrono::seconds receiving_expiry{7 * 86400};       // key: receiving_expiry — an upload with no byte for this long is abandoned
    // How photographers reach this host: what client set-up files and the FTP server's configuration name.
    std::string public_host;                                // key: public_host — the name clients connect to; empty: this host's name
    int sftp_port = 22;                                     // key: sftp_port — sshd's port, as clients reach it
    std::string sftp_host_key = "/etc/ssh/ssh_host_ed25519_key.pub";  // key: sftp_host_key — sshd's ed25519 public key
    int ftp_port = 21;                                      // key: ftp_port — the FTP server's control port (explicit FTPS)
    std::string ftp_passive_ports = "49152-49407";          // key: ftp_passive_ports — FIRST-LAST, the data connections' ports
    std::string ftp_tls_certificate = "/etc/photodrop/ftp/tls.crt";  // key: ftp_tls_certificate — PEM, with its chain
    std::string ftp_tls_key = "/etc/photodrop/ftp/tls.key";          // key: ftp_tls_key — PEM

    // DATA/ingest.sock unless set.
    std::string wake_socket() const;
    // MOUNTS/<tenant>.
    std::string mount_point(const std::string& tenant_slug) const;
};

// Reads the file (a missing default file is fine; a missing named one is an
// error) and the environment. Throws std::runtime_error naming the bad line.
Config load_config();

// "512M", "1G", "4096": bytes. Throws std::runtime_error naming `where`.
int64_t parse_size(const std::string& value, const std::string& where);
// Bytes as a person reads them: "512 B", "1.5 MiB".
std::string format_size(int64_t bytes);
// "30d", "12h", "10m", "45s", "45": a duration. Throws std::runtime_error naming `where`.
std::chrono::seconds parse_duration(const std::string& value, const std::string& where);

// Parses "key = value" lines ('#' starts a comment) into `config`.
void apply_config_text(Config& config, const std::string& text, const std::string& origin);

}  // namespace photodrop
