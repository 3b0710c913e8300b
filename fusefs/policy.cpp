#include "fusefs/policy.hpp"

#include "catalog/text.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace photodrop::policy {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

bool ends_with_ci(std::string_view name, std::string_view suffix) {
    return name.size() > suffix.size() && lower(name.substr(name.size() - suffix.size())) == lower(suffix);
}

// The extension of `name`, lower-case, with its dot; empty when it has none.
std::string extension(std::string_view name) {
    auto dot = name.rfind('.');
    if (dot == std::string_view::npos || dot == 0) return {};
    return lower(name.substr(dot));
}

bool has_extension(std::string_view name, const std::vector<std::string>& list) {
    return std::any_of(list.begin(), list.end(), [&](const std::string& ext) { return ends_with_ci(name, ext); });
}

bool all_of_class(std::string_view s, bool (*pred)(unsigned char)) {
    return std::all_of(s.begin(), s.end(), [&](char c) { return pred(static_cast<unsigned char>(c)); });
}

bool alnum(unsigned char c) { return std::isalnum(c) != 0; }
bool alnum_or_dash(unsigned char c) { return std::isalnum(c) != 0 || c == '-'; }

std::string image_list(const Settings& settings) { return fmt::format("{}", fmt::join(settings.image_extensions, " ")); }

}  // namespace

Verdict check_name(std::string_view name) {
    if (name.empty()) return Verdict::refuse("a name cannot be empty");
    if (name == "." || name == "..") return Verdict::refuse(fmt::format("'{}' cannot name a file or folder", name));
    if (name.size() > 255) return Verdict::refuse(fmt::format("the name is {} bytes long; at most 255 are allowed", name.size()));
    if (!text::valid_utf8(name)) return Verdict::refuse("the name is not valid UTF-8");
    if (auto why = text::first_unsafe_character(name)) return Verdict::refuse("the name contains " + *why);
    if (name.find('/') != std::string_view::npos) return Verdict::refuse("the name contains '/'");
    if (text::starts_or_ends_with_space(name))
        return Verdict::refuse("the name begins or ends with a space, which cannot be seen: names that look the same would differ");
    // NFC is shorter or as long, but for a few characters that have no composed form.
    if (auto stored = normalized_name(name); stored.size() > 255)
        return Verdict::refuse(fmt::format("the name is {} bytes long in the form it is stored in (NFC); at most 255 are allowed",
                                           stored.size()));
    return Verdict::allow();
}

std::string normalized_name(std::string_view name) {
    auto stored = text::nfc(name);
    return stored ? std::move(*stored) : std::string(name);
}

bool is_hidden_store(std::string_view name) { return name.size() > 5 && name.starts_with(".in.") && name.ends_with('.'); }

std::optional<std::string> temporary_target(std::string_view name, const Settings& settings) {
    // WinSCP: NAME.filepart
    if (ends_with_ci(name, ".filepart")) return std::string(name.substr(0, name.size() - 9));
    // ProFTPD's HiddenStores (a camera's uploads): .in.NAME. until the transfer is whole.
    if (is_hidden_store(name)) return std::string(name.substr(4, name.size() - 5));
    // rclone: NAME.XXXXXXXX.partial
    if (ends_with_ci(name, ".partial") && name.size() > 8 + 9) {
        auto stem = name.substr(0, name.size() - 8);
        auto token = stem.substr(stem.size() - 8);
        if (stem[stem.size() - 9] == '.' && all_of_class(token, alnum)) return std::string(stem.substr(0, stem.size() - 9));
    }
    for (const auto& suffix : settings.temporary_suffixes)
        if (ends_with_ci(name, suffix)) return std::string(name.substr(0, name.size() - suffix.size()));
    // Cyberduck: NAME-RANDOM, where NAME carries an extension we know.
    if (auto dash = name.rfind('-'); dash != std::string_view::npos && dash > 0) {
        // A UUID token has dashes of its own: try each dash from the left of the last 37 characters.
        for (size_t at = name.find('-', name.size() > 37 ? name.size() - 37 : 0); at != std::string_view::npos;
             at = name.find('-', at + 1)) {
            auto real = name.substr(0, at);
            auto token = name.substr(at + 1);
            if (token.size() < 6 || token.size() > 36 || !all_of_class(token, alnum_or_dash)) continue;
            if (has_extension(real, settings.image_extensions) || has_extension(real, settings.archive_extensions))
                return std::string(real);
        }
    }
    return std::nullopt;
}

bool is_junk(std::string_view name) {
    auto l = lower(name);
    return l == ".ds_store" || name.starts_with("._") || l == "thumbs.db" || l == "desktop.ini" ||
           l == "ehthumbs.db" || l == ".localized";
}

std::optional<Section> section_named(std::string_view name) { return parse_section(lower(name)); }

FolderDecision make_folder(Layout layout, Level parent, std::string_view sent) {
    auto refuse = [](std::string reason) { return FolderDecision{Verdict::refuse(std::move(reason)), {}, {}}; };
    if (auto v = check_name(sent); !v) return refuse(v.reason());
    auto name = normalized_name(sent);
    switch (parent) {
        case Level::Root: return refuse("new folders cannot be made at the top: it holds one folder per job");
        case Level::Job:
            if (layout == Layout::Flat)
                return refuse("this job takes photos directly: folders cannot be made in it");
            return FolderDecision{Verdict::allow(), name, {}};
        case Level::Album:
            if (auto section = section_named(name))
                return FolderDecision{Verdict::allow(), std::string(to_string(*section)), section};
            return refuse(fmt::format("an album holds only the folders 'group' and 'individuals', not '{}'", name));
        case Level::Section: return refuse("folders cannot be made inside 'group' or 'individuals'");
    }
    return refuse("unknown folder");
}

FileDecision create_file(Layout layout, Level parent, std::string_view sent, const Settings& settings) {
    auto refuse = [](std::string reason) { return FileDecision{Verdict::refuse(std::move(reason)), FileKind::Image, {}}; };
    if (auto v = check_name(sent); !v) return refuse(v.reason());
    if (parent == Level::Root) return refuse("files cannot be uploaded at the top: open a job folder first");
    auto name = normalized_name(sent);
    if (is_junk(name)) return FileDecision{Verdict::allow(), FileKind::Junk, name};
    if (parent == Level::Job && layout == Layout::Albums)
        return refuse("this job is organised in albums: make an album folder and upload into it");

    auto target = temporary_target(name, settings);
    std::string_view real = target ? std::string_view(*target) : std::string_view(name);
    if (has_extension(real, settings.archive_extensions))
        return refuse(fmt::format("archives ({}) are not accepted: upload the photos themselves", extension(real)));
    if (!has_extension(real, settings.image_extensions)) {
        auto ext = extension(real);
        return refuse(fmt::format("only image files ({}) are accepted, not {}", image_list(settings),
                                  ext.empty() ? std::string("a file without an extension") : ext));
    }
    return FileDecision{Verdict::allow(), target ? FileKind::Temporary : FileKind::Image, name};
}

Verdict rename_folder(Level level) {
    switch (level) {
        case Level::Root: return Verdict::refuse("the top folder cannot be changed");
        case Level::Job: return Verdict::refuse("job folders are managed by the studio and cannot be renamed");
        case Level::Album: return Verdict::allow();
        case Level::Section: return Verdict::refuse("'group' and 'individuals' cannot be renamed");
    }
    return Verdict::refuse("unknown folder");
}

Verdict remove_folder(Level level) {
    switch (level) {
        case Level::Root: return Verdict::refuse("the top folder cannot be changed");
        case Level::Job: return Verdict::refuse("job folders are managed by the studio and cannot be removed");
        case Level::Album:
        case Level::Section: return Verdict::allow();
    }
    return Verdict::refuse("unknown folder");
}

Verdict remove_file(Level parent) {
    if (parent == Level::Root) return Verdict::refuse("the top folder cannot be changed");
    return Verdict::allow();
}

std::optional<std::string_view> archive_signature(std::span<const unsigned char> head) {
    struct Magic {
        size_t offset;
        std::string_view bytes;
        std::string_view kind;
    };
    using namespace std::string_view_literals;
    static constexpr std::array<Magic, 15> magics{{
        {0, "PK\x03\x04"sv, "ZIP"},
        {0, "PK\x05\x06"sv, "ZIP"},
        {0, "PK\x07\x08"sv, "ZIP"},
        {0, "Rar!\x1a\x07"sv, "RAR"},
        {0, "7z\xbc\xaf\x27\x1c"sv, "7-Zip"},
        {0, "\x1f\x8b"sv, "gzip"},
        {0, "BZh"sv, "bzip2"},
        {0, "\xfd" "7zXZ\x00"sv, "xz"},
        {0, "\x28\xb5\x2f\xfd"sv, "Zstandard"},
        {0, "MSCF"sv, "cabinet"},
        {257, "ustar"sv, "tar"},
        {32769, "CD001"sv, "ISO 9660"},
        {0, "xar!"sv, "xar"},
        {0, "\x04\x22\x4d\x18"sv, "LZ4"},
        {0, "MZ"sv, "self-extracting (Windows program)"},
    }};
    for (const auto& m : magics) {
        if (head.size() < m.offset + m.bytes.size()) continue;
        if (std::memcmp(head.data() + m.offset, m.bytes.data(), m.bytes.size()) == 0) return m.kind;
    }
    return std::nullopt;
}

std::optional<std::string_view> archive_trailer(std::span<const unsigned char> tail) {
    // The record: "PK\5\6", 16 bytes, a 2-byte comment length, the comment,
    // which ends the file. Both the signature and the length must agree, so
    // that four bytes of a photo's compressed data are not taken for one.
    constexpr size_t record = 22;
    if (tail.size() < record) return std::nullopt;
    for (size_t at = tail.size() - record + 1; at-- > 0;) {
        if (tail[at] != 'P' || tail[at + 1] != 'K' || tail[at + 2] != 5 || tail[at + 3] != 6) continue;
        size_t comment = tail[at + 20] | (static_cast<size_t>(tail[at + 21]) << 8);
        if (at + record + comment == tail.size()) return "ZIP";
    }
    return std::nullopt;
}

}  // namespace photodrop::policy
