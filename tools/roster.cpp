#include "tools/roster.hpp"

#include "catalog/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

namespace photodrop::ctl {

namespace {

std::string trimmed(std::string s) {
    auto begin = s.find_first_not_of(" \t");
    if (begin == std::string::npos) return {};
    return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

[[noreturn]] void refuse(int line, const std::string& why) {
    throw std::runtime_error(fmt::format("roster line {}: {}", line, why));
}

// One record from `at` (past its line end), its fields; `line` counts lines
// (a quoted field may hold line breaks).
std::vector<std::string> record(std::string_view csv, size_t& at, int& line, char separator) {
    std::vector<std::string> fields(1);
    int starts = line;
    bool quoted = false;
    while (at < csv.size()) {
        char c = csv[at++];
        if (quoted) {
            if (c == '"' && at < csv.size() && csv[at] == '"') fields.back() += '"', ++at;
            else if (c == '"') quoted = false;
            else {
                if (c == '\n') ++line;
                fields.back() += c;
            }
        } else if (c == '"' && trimmed(fields.back()).empty()) {
            quoted = true;
            fields.back().clear();
        } else if (c == separator) {
            fields.emplace_back();
        } else if (c == '\n') {
            ++line;
            break;
        } else if (c != '\r') {
            fields.back() += c;
        }
    }
    if (quoted) refuse(starts, "a quoted field is not closed");
    for (auto& f : fields) f = trimmed(f);
    return fields;
}

}  // namespace

std::vector<RosterEntry> parse_roster(std::string_view csv) {
    if (csv.starts_with("\xEF\xBB\xBF")) csv.remove_prefix(3);  // a byte order mark (spreadsheets write one)
    std::string_view first = csv.substr(0, csv.find('\n'));
    char separator = first.find(';') != std::string_view::npos && first.find(',') == std::string_view::npos ? ';' : ',';

    enum Column { Code, Name, Class, ExternalId };
    std::vector<Column> columns = {Code, Name, Class, ExternalId};
    std::vector<RosterEntry> out;
    std::map<std::string, int> seen;  // code -> line
    size_t at = 0;
    for (int line = 1; at < csv.size();) {
        int here = line;
        auto fields = record(csv, at, line, separator);
        if (fields.size() == 1 && fields[0].empty()) continue;  // an empty line
        for (const auto& f : fields)
            if (!text::valid_utf8(f)) refuse(here, "the text is not UTF-8 (save the file as CSV UTF-8)");
        auto lower = [](std::string s) {
            std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
            std::replace(s.begin(), s.end(), ' ', '_');
            return s;
        };
        if (here == 1 && lower(fields[0]) == "code") {
            columns.clear();
            const std::map<std::string, Column> names = {
                {"code", Code}, {"name", Name}, {"class", Class}, {"external_id", ExternalId}, {"id", ExternalId}};
            for (const auto& f : fields) {
                auto it = names.find(lower(f));
                if (it == names.end())
                    refuse(here, fmt::format("unknown column '{}' (the columns are code, name, class, external_id)",
                                             text::shown(f)));
                columns.push_back(it->second);
            }
            if (std::find(columns.begin(), columns.end(), Name) == columns.end())
                refuse(here, "the header has no column 'name'");
            continue;
        }
        if (fields.size() > columns.size())
            refuse(here, fmt::format("{} fields, more than the {} columns (code, name, class, external_id)",
                                     fields.size(), columns.size()));
        RosterEntry entry;
        for (size_t i = 0; i < fields.size(); ++i) {
            std::array<std::string*, 4> into = {&entry.code, &entry.name, &entry.class_name, &entry.external_id};
            *into[columns[i]] = fields[i];
        }
        if (entry.code.empty()) refuse(here, "no code");
        if (entry.name.empty()) refuse(here, fmt::format("code {} has no name", text::shown(entry.code)));
        if (auto [it, fresh] = seen.emplace(entry.code, here); !fresh)
            refuse(here, fmt::format("code {} is on line {} already", text::shown(entry.code), it->second));
        out.push_back(std::move(entry));
    }
    return out;
}

}  // namespace photodrop::ctl
