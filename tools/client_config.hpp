#pragma once
// Client set-up files: what a photographer imports into FileZilla, WinSCP,
// Cyberduck or rclone to reach one photodrop account, with the server's SSH
// key or TLS certificate fingerprint so that the first connection is checked
// rather than trusted blindly. Pure text in, text out: the command reads the
// key, the certificate and the password; these functions only write files.
//
// Every value is escaped for its file (XML, PuTTY-style registry escapes, plist),
// and a value no file could hold (a control character) is refused: the host
// comes from a setting, not from a trusted source.

#include "catalog/config.hpp"
#include "catalog/model.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace photodrop::client_config {

enum class Protocol { Sftp, Ftps };  // FTPS: explicit TLS on the control port
enum class Format { FileZilla, WinScp, Cyberduck, Rclone };

// "sftp", "ftps"; "filezilla", "winscp", "cyberduck", "rclone"; nullopt for any other word.
std::optional<Protocol> parse_protocol(std::string_view word);
std::optional<Format> parse_format(std::string_view word);

// An SSH server's public key, as sshd's ssh_host_*_key.pub holds it.
struct SshHostKey {
    std::string type;  // "ssh-ed25519"
    std::string blob;  // the decoded key blob (what known_hosts holds in base64)
    int bits = 0;      // 255 for ed25519: WinSCP's fingerprints name it

    std::string base64() const;
    // "SHA256:<base64 without padding>", as `ssh-keygen -l` prints it.
    std::string fingerprint() const;
};

// Reads an OpenSSH public key file (type, base64, comment). Only ed25519 keys:
// photodrop's sshd serves one. Throws std::runtime_error naming the file.
SshHostKey read_ssh_host_key(const std::string& path);

// The first certificate of a PEM file: the SHA-256 of its DER, "AB:CD:...", as
// `openssl x509 -fingerprint -sha256` prints it, and the day it expires.
struct TlsCertificate {
    std::string fingerprint;
    std::string expires;  // YYYY-MM-DD
    bool expired = false;
};
// Throws std::runtime_error naming the file.
TlsCertificate read_tls_certificate(const std::string& pem_path);

// One photographer's account as clients reach it.
struct Account {
    std::string host;
    int port = 22;
    std::string user;
    Protocol protocol = Protocol::Sftp;
    std::optional<std::string> password;  // only when asked to put it in the file
    SshHostKey host_key;                  // SFTP
    std::string certificate_fingerprint;  // FTPS
};

// A host name or address that a client could be given: printable ASCII, no spaces.
bool valid_host(const std::string& host);

// The name clients connect to: the public_host setting, else this host's
// name as others resolve it (its canonical name), else as it calls itself.
std::string client_host(const Config& config);

// `user`'s account as the settings say clients reach it (public_host,
// sftp_port or ftp_port, sftp_host_key or ftp_tls_certificate), without a
// password. Throws std::runtime_error saying what is missing or unusable.
Account account_for(const Config& config, const SftpUser& user, Protocol protocol);

// FileZilla's Site Manager export (<FileZilla3><Servers><Server>), which File >
// Import reads. FileZilla keeps trusted keys and certificates elsewhere, so the
// fingerprint goes in the site's comments; the password, if any, base64 as
// FileZilla writes it.
std::string filezilla_site(const Account& account);

// A WinSCP.ini session ([Sessions\USER@HOST]), which Import Sites > From INI
// file reads; SshHostKey pins the SSH key or the TLS certificate. The password,
// if any, obfuscated as WinSCP stores it.
std::string winscp_session(const Account& account);

// A Cyberduck bookmark (.duck, an XML property list). Cyberduck keeps passwords
// in the system keychain and host keys in its known_hosts, never in bookmarks:
// the fingerprint goes in the comment, and a password is refused.
std::string cyberduck_bookmark(const Account& account);

// An rclone.conf remote ([photodrop-USER]). SFTP: known_hosts_file names
// ~/.ssh/known_hosts and the comment above gives the line to add to it (rclone
// pins keys only through a known_hosts file). FTPS: type ftp with
// explicit_tls; rclone checks the certificate against the system's CAs and
// pins none. The password, if any, obscured as `rclone obscure` does.
std::string rclone_remote(const Account& account);

// The file of `format` for `account` (one of the four below).
std::string write(Format format, const Account& account);
// The name a download of it is offered under ("photodrop-alice.xml") and its media type.
std::string file_name(Format format, const Account& account);
std::string media_type(Format format);

// The line for a known_hosts file: "[host]:port ssh-ed25519 AAAA..." ("host
// ssh-ed25519 ..." on port 22).
std::string known_hosts_line(const std::string& host, int port, const SshHostKey& key);

// rclone's obscure: AES-256-CTR under rclone's published fixed key, a random
// IV first, base64url without padding. Reversible by design: it keeps the
// password from a glance, not from a reader of the file.
std::string rclone_obscure(const std::string& password);

// WinSCP's stored-password obfuscation (no master password): the bytes of
// user + host + password, each complemented and XORed with 0xA3, in hex,
// behind a flag, a length and random padding. As reversible as rclone's.
std::string winscp_obfuscate(const std::string& password, const std::string& user, const std::string& host);

}  // namespace photodrop::client_config
