#include "catalog/config.hpp"

#include <fmt/format.h>

#include <climits>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace photodrop {

namespace {

std::string trim(const std::string& s) {
    auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return {};
    auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

std::vector<std::string> words(const std::string& s) {
    std::istringstream in(s);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

template <class Int>
Int number(const std::string& value, const std::string& where) {
    try {
        size_t used = 0;
        long long v = std::stoll(value, &used);
        if (used != value.size()) throw std::invalid_argument(value);
        return static_cast<Int>(v);
    } catch (const std::exception&) {
        throw std::runtime_error(fmt::format("{}: '{}' is not a number", where, value));
    }
}

// A number followed by one of `units` (each a letter and its factor), or none.
int64_t scaled(const std::string& value, const std::string& where,
               std::initializer_list<std::pair<char, int64_t>> units, std::string_view what) {
    std::string digits = value;
    int64_t factor = 1;
    if (!value.empty()) {
        char last = static_cast<char>(std::tolower(static_cast<unsigned char>(value.back())));
        for (auto [letter, f] : units)
            if (last == letter) {
                digits.pop_back();
                factor = f;
            }
    }
    auto n = number<int64_t>(trim(digits), where);
    if (n < 0 || n > INT64_MAX / factor) throw std::runtime_error(fmt::format("{}: '{}' is not {}", where, value, what));
    return n * factor;
}

int port(const std::string& value, const std::string& where) {
    auto n = number<int64_t>(value, where);
    if (n < 1 || n > 65535) throw std::runtime_error(fmt::format("{}: '{}' is not a port (1 to 65535)", where, value));
    return static_cast<int>(n);
}

// "FIRST-LAST", FIRST <= LAST; returned as given.
std::string port_range(const std::string& value, const std::string& where) {
    auto dash = value.find('-');
    if (dash == std::string::npos) throw std::runtime_error(fmt::format("{}: '{}' is not a port range FIRST-LAST", where, value));
    if (port(trim(value.substr(0, dash)), where) > port(trim(value.substr(dash + 1)), where))
        throw std::runtime_error(fmt::format("{}: '{}' ends before it begins", where, value));
    return value;
}

// "yes"/"no" (also true/false, on/off, 1/0).
bool yes_no(const std::string& value, const std::string& where) {
    for (const char* yes : {"yes", "true", "on", "1"})
        if (value == yes) return true;
    for (const char* no : {"no", "false", "off", "0"})
        if (value == no) return false;
    throw std::runtime_error(fmt::format("{}: '{}' is not yes or no", where, value));
}

// Sets one key; false for a key that does not exist.
bool set(Config& c, const std::string& key, const std::string& value, const std::string& where) {
    if (key == "catalog") c.catalog = value;
    else if (key == "data") c.data = value;
    else if (key == "mounts") c.mounts = value;
    else if (key == "ingest_socket") c.ingest_socket = value;
    else if (key == "ingest_listen") c.ingest_listen = value;
    else if (key == "ingest_workers") c.ingest_workers = number<int>(value, where);
    else if (key == "api_listen") c.api_listen = value;
    else if (key == "api_threads") c.api_threads = number<int>(value, where);
    else if (key == "webhook_timeout") c.webhook_timeout = parse_duration(value, where);
    else if (key == "webhook_concurrency") c.webhook_concurrency = number<int>(value, where);
    else if (key == "album_idle") c.album_idle = parse_duration(value, where);
    else if (key == "pixel_limit") c.pixel_limit = number<int64_t>(value, where);
    else if (key == "decode_memory") c.decode_memory = parse_size(value, where);
    else if (key == "thumbnail_size") c.thumbnail_size = number<int>(value, where);
    else if (key == "preview_size") c.preview_size = number<int>(value, where);
    else if (key == "read_codes") c.read_codes = yes_no(value, where);
    else if (key == "image_extensions") c.image_extensions = words(value);
    else if (key == "temporary_suffixes") c.temporary_suffixes = words(value);
    else if (key == "max_upload_size") c.max_upload_size = parse_size(value, where);
    else if (key == "free_space_reserve") c.free_space_reserve = parse_size(value, where);
    else if (key == "keep_deleted") c.keep_deleted = parse_duration(value, where);
    else if (key == "keep_rejected") c.keep_rejected = parse_duration(value, where);
    else if (key == "receiving_expiry") c.receiving_expiry = parse_duration(value, where);
    else if (key == "public_host") c.public_host = value;
    else if (key == "sftp_port") c.sftp_port = port(value, where);
    else if (key == "sftp_host_key") c.sftp_host_key = value;
    else if (key == "ftp_port") c.ftp_port = port(value, where);
    else if (key == "ftp_passive_ports") c.ftp_passive_ports = port_range(value, where);
    else if (key == "ftp_tls_certificate") c.ftp_tls_certificate = value;
    else if (key == "ftp_tls_key") c.ftp_tls_key = value;
    else return false;
    return true;
}

constexpr const char* keys[] = {"catalog",       "data",         "mounts",           "ingest_socket",
                                "ingest_listen", "ingest_workers", "pixel_limit",    "thumbnail_size",
                                "preview_size",  "image_extensions", "temporary_suffixes", "max_upload_size",
                                "free_space_reserve", "keep_deleted", "keep_rejected", "receiving_expiry",
                                "decode_memory", "api_listen", "api_threads", "webhook_timeout", "webhook_concurrency",
                                "album_idle", "public_host", "sftp_port", "sftp_host_key", "ftp_port", "ftp_passive_ports",
                                "ftp_tls_certificate", "ftp_tls_key", "read_codes"};

}  // namespace

int64_t parse_size(const std::string& value, const std::string& where) {
    return scaled(value, where, {{'k', int64_t{1} << 10}, {'m', int64_t{1} << 20}, {'g', int64_t{1} << 30}, {'t', int64_t{1} << 40}},
                  "a size (a number of bytes, or with K, M, G or T)");
}

std::string format_size(int64_t bytes) {
    if (bytes < 1024) return fmt::format("{} B", bytes);
    const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    int unit = -1;
    while (value >= 1024 && unit < 3) {
        value /= 1024;
        ++unit;
    }
    return fmt::format("{:.1f} {}", value, units[unit]);
}

std::chrono::seconds parse_duration(const std::string& value, const std::string& where) {
    return std::chrono::seconds(scaled(value, where, {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}},
                                       "a duration (seconds, or with s, m, h or d)"));
}

std::string Config::wake_socket() const { return ingest_socket.empty() ? data + "/ingest.sock" : ingest_socket; }

std::string Config::mount_point(const std::string& tenant_slug) const { return mounts + "/" + tenant_slug; }

void apply_config_text(Config& config, const std::string& text, const std::string& origin) {
    std::istringstream in(text);
    int line_no = 0;
    for (std::string line; std::getline(in, line);) {
        ++line_no;
        if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
        line = trim(line);
        if (line.empty()) continue;
        auto where = fmt::format("{}:{}", origin, line_no);
        auto eq = line.find('=');
        if (eq == std::string::npos) throw std::runtime_error(fmt::format("{}: expected 'key = value'", where));
        auto key = trim(line.substr(0, eq));
        if (!set(config, key, trim(line.substr(eq + 1)), where))
            throw std::runtime_error(fmt::format("{}: unknown setting '{}'", where, key));
    }
}

Config load_config() {
    Config config;
    const char* named = std::getenv("PHOTODROP_CONFIG");
    std::string path = named ? named : "/etc/photodrop/photodrop.conf";
    std::ifstream file(path);
    if (file) {
        std::stringstream text;
        text << file.rdbuf();
        apply_config_text(config, text.str(), path);
    } else if (named && *named) {
        throw std::runtime_error(fmt::format("cannot read the configuration file {}", path));
    }
    for (const char* key : keys) {
        std::string env = "PHOTODROP_" + std::string(key);
        for (auto& ch : env) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        if (const char* value = std::getenv(env.c_str())) set(config, key, value, env);
    }
    return config;
}

}  // namespace photodrop
