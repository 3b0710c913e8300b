#include "tools/client_config.hpp"

#include <fmt/format.h>
#include <netdb.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>
#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace photodrop::client_config {

namespace {

// --- bytes -------------------------------------------------------------------

std::string base64_encode(const std::string& bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

std::optional<std::string> base64_decode(const std::string& text) {
    if (text.empty() || text.size() % 4 != 0) return std::nullopt;
    std::string out(3 * text.size() / 4, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (n < 0) return std::nullopt;
    size_t padding = text.ends_with("==") ? 2 : text.ends_with('=') ? 1 : 0;
    out.resize(static_cast<size_t>(n) - padding);
    return out;
}

std::string sha256(const std::string& bytes) {
    std::string digest(32, '\0');
    unsigned int size = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), reinterpret_cast<unsigned char*>(digest.data()), &size, EVP_sha256(),
                   nullptr) != 1)
        throw std::runtime_error("SHA-256 failed");
    digest.resize(size);
    return digest;
}

std::string random_bytes(size_t n) {
    std::string bytes(n, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n)) != 1)
        throw std::runtime_error("no random bytes from OpenSSL");
    return bytes;
}

// An SSH wire-format string (uint32 length, bytes) at `at`; advances it.
std::optional<std::string> read_ssh_string(const std::string& blob, size_t& at) {
    if (blob.size() - at < 4) return std::nullopt;
    uint32_t len = 0;
    for (int i = 0; i < 4; ++i) len = (len << 8) | static_cast<unsigned char>(blob[at + i]);
    at += 4;
    if (blob.size() - at < len) return std::nullopt;
    std::string s = blob.substr(at, len);
    at += len;
    return s;
}

// --- escaping ----------------------------------------------------------------

// Refuses what no file here can hold: XML 1.0 has no way to write most
// controls, and a newline would end an INI value.
void check_no_controls(const std::string& value, const char* what) {
    for (unsigned char c : value)
        if (c < 0x20 || c == 0x7f)
            throw std::invalid_argument(fmt::format("the {} holds a control character: no client file can hold it", what));
}

std::string xml_escaped(const std::string& value, const char* what) {
    check_no_controls(value, what);
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default: out += c;
        }
    }
    return out;
}

// WinSCP's ini values and key names: PuTTY's registry escapes (%XX for space,
// \ * ? %, controls, non-ASCII and a leading dot), behind an escaped UTF-8 BOM
// when the text is not ASCII. In values WinSCP leaves '*' as it is.
std::string winscp_munged(const std::string& value, bool is_value) {
    bool ascii = true;
    for (unsigned char c : value) ascii = ascii && c < 0x80;
    std::string source = ascii ? value : "\xEF\xBB\xBF" + value;
    std::string out;
    bool can_dot = false;
    for (unsigned char c : source) {
        bool escape = c == ' ' || c == '\\' || c == '?' || c == '%' || c < 0x20 || c > 0x7e ||
                      (c == '*' && !is_value) || (c == '.' && !can_dot) ||
                      c == '[' || c == ']';  // not PuTTY's, but a section name must not end early
        if (escape) out += fmt::format("%{:02X}", c);
        else out += static_cast<char>(c);
        can_dot = true;
    }
    return out;
}

// rclone.conf holds each value on one line, as written.
std::string rclone_value(const std::string& value, const char* what) {
    check_no_controls(value, what);
    return value;
}

const char* protocol_name(Protocol p) { return p == Protocol::Sftp ? "SFTP" : "FTPS (explicit TLS)"; }

std::string site_name(const Account& a) { return fmt::format("{}@{}", a.user, a.host); }

// What the photographer compares with what the client shows on first connection.
std::string fingerprint_note(const Account& a) {
    if (a.protocol == Protocol::Sftp)
        return fmt::format("photodrop {} upload account. The server's key fingerprint is {} {} {}: "
                           "accept the server only if the client shows this one.",
                           protocol_name(a.protocol), a.host_key.type, a.host_key.bits, a.host_key.fingerprint());
    return fmt::format("photodrop {} upload account. The server's certificate SHA-256 fingerprint is {}: "
                       "accept the server only if the client shows this one.",
                       protocol_name(a.protocol), a.certificate_fingerprint);
}

void check_account(const Account& a) {
    if (!valid_host(a.host)) throw std::invalid_argument("the host is empty or not a host name");
    if (a.port < 1 || a.port > 65535) throw std::invalid_argument(fmt::format("port {} is out of range", a.port));
    if (a.user.empty()) throw std::invalid_argument("the user name is empty");
    check_no_controls(a.user, "user name");
    if (a.password) check_no_controls(*a.password, "password");
    if (a.protocol == Protocol::Sftp && a.host_key.blob.empty())
        throw std::invalid_argument("an SFTP file needs the server's key");
    if (a.protocol == Protocol::Ftps && a.certificate_fingerprint.empty())
        throw std::invalid_argument("an FTPS file needs the server's certificate fingerprint");
}

// A stable UUID for one account (RFC 9562 version 8, from SHA-256), so that
// importing an updated bookmark replaces the earlier one.
std::string account_uuid(const Account& a) {
    auto h = sha256(fmt::format("photodrop\n{}\n{}\n{}\n{}", protocol_name(a.protocol), a.host, a.port, a.user));
    h[6] = static_cast<char>((h[6] & 0x0f) | 0x80);
    h[8] = static_cast<char>((h[8] & 0x3f) | 0x80);
    std::string hex;
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) hex += '-';
        hex += fmt::format("{:02x}", static_cast<unsigned char>(h[i]));
    }
    return hex;
}

}  // namespace

// --- keys and certificates -----------------------------------------------------

std::string SshHostKey::base64() const { return base64_encode(blob); }

std::string SshHostKey::fingerprint() const {
    auto b64 = base64_encode(sha256(blob));
    while (b64.ends_with('=')) b64.pop_back();
    return "SHA256:" + b64;
}

SshHostKey read_ssh_host_key(const std::string& path) {
    std::ifstream file(path);
    if (!file) throw std::runtime_error(fmt::format("cannot read the SSH host key {}", path));
    std::string line;
    while (std::getline(file, line) && (line.empty() || line.front() == '#')) {
    }
    std::istringstream words(line);
    std::string type, b64;
    words >> type >> b64;
    if (line.find("PRIVATE KEY") != std::string::npos)
        throw std::runtime_error(fmt::format("{} is a private key: give the .pub file", path));
    auto blob = base64_decode(b64);
    size_t at = 0;
    auto blob_type = blob ? read_ssh_string(*blob, at) : std::nullopt;
    if (!blob_type || *blob_type != type)
        throw std::runtime_error(fmt::format("{} is not an OpenSSH public key", path));
    if (type != "ssh-ed25519")
        throw std::runtime_error(fmt::format("{} is a {} key; photodrop's client files name sshd's ed25519 key "
                                             "(ssh_host_ed25519_key.pub)",
                                             path, type));
    auto point = read_ssh_string(*blob, at);
    if (!point || point->size() != 32 || at != blob->size())
        throw std::runtime_error(fmt::format("{} is not a well-formed ed25519 public key", path));
    return SshHostKey{type, *blob, 255};
}

TlsCertificate read_tls_certificate(const std::string& pem_path) {
    std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(pem_path.c_str(), "r"), &std::fclose);
    if (!file)
        throw std::runtime_error(fmt::format("cannot read the TLS certificate {}: {}", pem_path, std::strerror(errno)));
    std::unique_ptr<X509, void (*)(X509*)> cert(PEM_read_X509(file.get(), nullptr, nullptr, nullptr), &X509_free);
    if (!cert) throw std::runtime_error(fmt::format("{} holds no PEM certificate", pem_path));
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    if (X509_digest(cert.get(), EVP_sha256(), digest.data(), &size) != 1)
        throw std::runtime_error(fmt::format("cannot hash the certificate in {}", pem_path));
    TlsCertificate out;
    for (unsigned int i = 0; i < size; ++i) out.fingerprint += fmt::format("{}{:02X}", i ? ":" : "", digest[i]);
    const ASN1_TIME* not_after = X509_get0_notAfter(cert.get());
    out.expired = X509_cmp_current_time(not_after) <= 0;
    if (tm when{}; ASN1_TIME_to_tm(not_after, &when) == 1)
        out.expires = fmt::format("{:04}-{:02}-{:02}", when.tm_year + 1900, when.tm_mon + 1, when.tm_mday);
    return out;
}

bool valid_host(const std::string& host) {
    if (host.empty() || host.size() > 255) return false;
    for (unsigned char c : host)
        if (c <= 0x20 || c >= 0x7f) return false;
    return true;
}

std::optional<Protocol> parse_protocol(std::string_view word) {
    if (word == "sftp") return Protocol::Sftp;
    if (word == "ftps") return Protocol::Ftps;
    return std::nullopt;
}

std::optional<Format> parse_format(std::string_view word) {
    if (word == "filezilla") return Format::FileZilla;
    if (word == "winscp") return Format::WinScp;
    if (word == "cyberduck") return Format::Cyberduck;
    if (word == "rclone") return Format::Rclone;
    return std::nullopt;
}

std::string write(Format format, const Account& account) {
    switch (format) {
        case Format::FileZilla: return filezilla_site(account);
        case Format::WinScp: return winscp_session(account);
        case Format::Cyberduck: return cyberduck_bookmark(account);
        case Format::Rclone: return rclone_remote(account);
    }
    throw std::invalid_argument("no such format");
}

std::string file_name(Format format, const Account& account) {
    std::string protocol = account.protocol == Protocol::Ftps ? "ftps" : "sftp";
    switch (format) {
        case Format::FileZilla: return fmt::format("photodrop-{}-{}-filezilla.xml", account.user, protocol);
        case Format::WinScp: return fmt::format("photodrop-{}-{}-WinSCP.ini", account.user, protocol);
        case Format::Cyberduck: return fmt::format("photodrop-{}-{}.duck", account.user, protocol);
        case Format::Rclone: return fmt::format("photodrop-{}-{}-rclone.conf", account.user, protocol);
    }
    throw std::invalid_argument("no such format");
}

std::string media_type(Format format) {
    switch (format) {
        case Format::FileZilla:
        case Format::Cyberduck: return "application/xml";
        case Format::WinScp:
        case Format::Rclone: return "text/plain; charset=utf-8";
    }
    throw std::invalid_argument("no such format");
}

std::string client_host(const Config& config) {
    if (!config.public_host.empty()) return config.public_host;
    char name[HOST_NAME_MAX + 1] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || !name[0]) throw std::runtime_error("this host has no name");
    addrinfo hints{};
    hints.ai_flags = AI_CANONNAME;
    addrinfo* found = nullptr;
    std::string canonical;
    if (::getaddrinfo(name, nullptr, &hints, &found) == 0 && found) {
        if (found->ai_canonname) canonical = found->ai_canonname;
        ::freeaddrinfo(found);
    }
    return canonical.empty() ? name : canonical;
}

Account account_for(const Config& config, const SftpUser& user, Protocol protocol) {
    Account account;
    account.protocol = protocol;
    account.user = user.username;
    account.host = client_host(config);
    if (!valid_host(account.host))
        throw std::runtime_error(fmt::format("'{}' is not a host name clients can be given: set public_host",
                                             account.host));
    bool ftps = protocol == Protocol::Ftps;
    account.port = ftps ? config.ftp_port : config.sftp_port;
    if (ftps) account.certificate_fingerprint = read_tls_certificate(config.ftp_tls_certificate).fingerprint;
    else account.host_key = read_ssh_host_key(config.sftp_host_key);
    return account;
}

std::string known_hosts_line(const std::string& host, int port, const SshHostKey& key) {
    std::string name = port == 22 ? host : fmt::format("[{}]:{}", host, port);
    return fmt::format("{} {} {}", name, key.type, key.base64());
}

// --- obfuscations ------------------------------------------------------------

std::string rclone_obscure(const std::string& password) {
    // rclone's fs/config/obscure key: published in its source, the same for everyone.
    static constexpr unsigned char key[32] = {0x9c, 0x93, 0x5b, 0x48, 0x73, 0x0a, 0x55, 0x4d, 0x6b, 0xfd, 0x7c,
                                              0x63, 0xc8, 0x86, 0xa9, 0x2b, 0xd3, 0x90, 0x19, 0x8e, 0xb8, 0x12,
                                              0x8a, 0xfb, 0xf4, 0xde, 0x16, 0x2b, 0x8b, 0x95, 0xf6, 0x38};
    std::string iv = random_bytes(16);
    std::string out = iv + std::string(password.size(), '\0');
    std::unique_ptr<EVP_CIPHER_CTX, void (*)(EVP_CIPHER_CTX*)> ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    int n = 0, tail = 0;
    bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_ctr(), nullptr, key,
                                        reinterpret_cast<const unsigned char*>(iv.data())) == 1 &&
              EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data() + 16), &n,
                                reinterpret_cast<const unsigned char*>(password.data()),
                                static_cast<int>(password.size())) == 1 &&
              EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data() + 16 + n), &tail) == 1;
    if (!ok || static_cast<size_t>(n + tail) != password.size()) throw std::runtime_error("AES-CTR failed");
    // base64url without padding
    std::string b64 = base64_encode(out);
    while (b64.ends_with('=')) b64.pop_back();
    for (char& c : b64) c = c == '+' ? '-' : c == '/' ? '_' : c;
    return b64;
}

std::string winscp_obfuscate(const std::string& password, const std::string& user, const std::string& host) {
    // WinSCP's Security.cpp (PWALG_SIMPLE): flag 0xFF, a dummy 0, the length of
    // key + password, a shift of random bytes, the bytes, random padding to 50.
    constexpr size_t max_len = 50;
    std::string plain = user + host + password;
    if (plain.size() > 255) throw std::invalid_argument("the password is too long for WinSCP's stored form");
    auto hex = [](unsigned char c) {
        c = static_cast<unsigned char>(~c ^ 0xA3);
        return fmt::format("{:02X}", c);
    };
    std::string random = random_bytes(2 * max_len + 1);
    size_t next_random = 1;
    size_t shift = plain.size() < max_len ? static_cast<unsigned char>(random[0]) % (max_len - plain.size()) : 0;
    std::string out = hex(0xFF) + hex(0x00) + hex(static_cast<unsigned char>(plain.size())) +
                      hex(static_cast<unsigned char>(shift));
    for (size_t i = 0; i < shift; ++i) out += hex(static_cast<unsigned char>(random[next_random++]));
    for (unsigned char c : plain) out += hex(c);
    while (out.size() < max_len * 2) out += hex(static_cast<unsigned char>(random[next_random++]));
    return out;
}

// --- the files -----------------------------------------------------------------

std::string filezilla_site(const Account& a) {
    check_account(a);
    auto x = [](const std::string& v, const char* what) { return xml_escaped(v, what); };
    bool ftps = a.protocol == Protocol::Ftps;
    std::string name = x(site_name(a), "site name");
    std::ostringstream out;
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\" ?>\n"
        << "<FileZilla3>\n"
        << "\t<Servers>\n"
        << "\t\t<Server>\n"
        << "\t\t\t<Host>" << x(a.host, "host") << "</Host>\n"
        << "\t\t\t<Port>" << a.port << "</Port>\n"
        // FileZilla's ServerProtocol: 1 SFTP, 4 FTPES (FTP over explicit TLS).
        << "\t\t\t<Protocol>" << (ftps ? 4 : 1) << "</Protocol>\n"
        << "\t\t\t<Type>0</Type>\n"
        << "\t\t\t<User>" << x(a.user, "user name") << "</User>\n";
    if (a.password) out << "\t\t\t<Pass encoding=\"base64\">" << base64_encode(*a.password) << "</Pass>\n";
    // LogonType: 1 normal (the password saved), 2 ask for it at each connection.
    out << "\t\t\t<Logontype>" << (a.password ? 1 : 2) << "</Logontype>\n"
        << "\t\t\t<TimezoneOffset>0</TimezoneOffset>\n"
        // photodrop's FTP server takes data connections on its passive ports only.
        << "\t\t\t<PasvMode>" << (ftps ? "MODE_PASSIVE" : "MODE_DEFAULT") << "</PasvMode>\n"
        << "\t\t\t<MaximumMultipleConnections>0</MaximumMultipleConnections>\n"
        << "\t\t\t<EncodingType>" << (ftps ? "UTF-8" : "Auto") << "</EncodingType>\n"
        << "\t\t\t<BypassProxy>0</BypassProxy>\n"
        << "\t\t\t<Name>" << name << "</Name>\n"
        << "\t\t\t<Comments>" << x(fingerprint_note(a), "comment") << "</Comments>\n"
        << "\t\t\t<Colour>0</Colour>\n"
        << "\t\t\t<LocalDir />\n"
        << "\t\t\t<RemoteDir />\n"
        << "\t\t\t<SyncBrowsing>0</SyncBrowsing>\n"
        << "\t\t\t<DirectoryComparison>0</DirectoryComparison>\n"
        // FileZilla also writes the name as the element's text, which older versions read.
        << "\t\t\t" << name << "\n"
        << "\t\t</Server>\n"
        << "\t</Servers>\n"
        << "</FileZilla3>\n";
    return out.str();
}

std::string winscp_session(const Account& a) {
    check_account(a);
    bool ftps = a.protocol == Protocol::Ftps;
    auto v = [](const std::string& value) { return winscp_munged(value, true); };
    std::ostringstream out;
    out << "; " << fingerprint_note(a) << "\n"
        << "; Import into WinSCP: Tools > Import Sites > Import from INI file.\n"
        << "[Sessions\\" << winscp_munged(site_name(a), false) << "]\n"
        << "HostName=" << v(a.host) << "\n"
        << "PortNumber=" << a.port << "\n"
        << "UserName=" << v(a.user) << "\n";
    if (a.password) out << "Password=" << winscp_obfuscate(*a.password, a.user, a.host) << "\n";
    if (ftps) {
        // TFSProtocol fsFTP = 5; TFtps ftpsExplicitTls = 3; passive data connections.
        out << "FSProtocol=5\n"
            << "Ftps=3\n"
            << "FtpPasvMode=1\n"
            << "SshHostKey=" << v(a.certificate_fingerprint) << "\n";
    } else {
        // TFSProtocol fsSFTPonly = 2: photodrop has no shell for an SCP fallback.
        out << "FSProtocol=2\n"
            << "SshHostKey="
            << v(fmt::format("{} {} {}", a.host_key.type, a.host_key.bits, a.host_key.fingerprint())) << "\n";
    }
    // Transfer settings are WinSCP preferences, not a session's: its defaults
    // (resume through a .filepart name, keep timestamps) suit photodrop.
    return out.str();
}

std::string cyberduck_bookmark(const Account& a) {
    check_account(a);
    if (a.password)
        throw std::invalid_argument("a Cyberduck bookmark cannot hold a password: Cyberduck asks for it and keeps it "
                                    "in the system's keychain");
    bool ftps = a.protocol == Protocol::Ftps;
    std::ostringstream out;
    auto entry = [&](const char* key, const std::string& value, const char* what) {
        out << "\t<key>" << key << "</key>\n\t<string>" << xml_escaped(value, what) << "</string>\n";
    };
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        << "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
        << "<plist version=\"1.0\">\n"
        << "<dict>\n";
    entry("Protocol", ftps ? "ftps" : "sftp", "protocol");
    entry("Nickname", site_name(a), "nickname");
    entry("UUID", account_uuid(a), "UUID");
    entry("Hostname", a.host, "host");
    entry("Port", std::to_string(a.port), "port");
    entry("Username", a.user, "user name");
    if (ftps) {
        entry("FTP Connect Mode", "passive", "connect mode");
        entry("Encoding", "UTF-8", "encoding");
    }
    entry("Comment", fingerprint_note(a), "comment");
    out << "</dict>\n"
        << "</plist>\n";
    return out.str();
}

std::string rclone_remote(const Account& a) {
    check_account(a);
    bool ftps = a.protocol == Protocol::Ftps;
    std::ostringstream out;
    out << "# " << fingerprint_note(a) << "\n";
    if (ftps) {
        out << "# rclone checks the certificate against this computer's certificate authorities and pins none;\n"
            << "# for a self-signed certificate, run rclone with SSL_CERT_FILE=FILE (the certificate, PEM) in its\n"
            << "# environment.\n";
    } else {
        out << "# rclone checks the server's key against known_hosts_file: add this line to that file first:\n"
            << "#   " << rclone_value(known_hosts_line(a.host, a.port, a.host_key), "host") << "\n";
    }
    out << "[photodrop-" << rclone_value(a.user, "user name") << "]\n";
    if (ftps) {
        out << "type = ftp\n"
            << "host = " << rclone_value(a.host, "host") << "\n"
            << "port = " << a.port << "\n"
            << "user = " << a.user << "\n";
        if (a.password) out << "pass = " << rclone_obscure(*a.password) << "\n";
        out << "explicit_tls = true\n";
    } else {
        out << "type = sftp\n"
            << "host = " << rclone_value(a.host, "host") << "\n"
            << "port = " << a.port << "\n"
            << "user = " << a.user << "\n";
        if (a.password) out << "pass = " << rclone_obscure(*a.password) << "\n";
        out << "known_hosts_file = ~/.ssh/known_hosts\n"
            // photodrop's accounts have no shell: rclone need not probe for one or for hash commands.
            << "shell_type = none\n"
            << "disable_hashcheck = true\n";
    }
    return out.str();
}

}  // namespace photodrop::client_config
