#include "tools/format.hpp"

#include "catalog/text.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <ostream>

namespace photodrop::ctl {

const std::vector<UploadState> all_upload_states{
    UploadState::Receiving, UploadState::Queued,   UploadState::Processing, UploadState::Ingested,
    UploadState::Rejected,  UploadState::Failed,   UploadState::Discarded,  UploadState::Deleted};

void Table::print(std::ostream& out) const {
    std::vector<std::vector<std::string>> rows;
    for (const auto& row : rows_) {
        auto& shown = rows.emplace_back();
        for (const auto& cell : row) shown.push_back(text::shown(cell));
    }
    std::vector<size_t> widths(headers_.size());
    for (size_t c = 0; c < headers_.size(); ++c) widths[c] = headers_[c].size();
    for (const auto& row : rows)
        for (size_t c = 0; c < row.size() && c < widths.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
    auto line = [&](const std::vector<std::string>& cells) {
        std::string text;
        for (size_t c = 0; c < cells.size(); ++c) {
            if (c + 1 == cells.size()) text += cells[c];
            else text += fmt::format("{:<{}}  ", cells[c], widths[c]);
        }
        while (!text.empty() && text.back() == ' ') text.pop_back();
        out << text << '\n';
    };
    line(headers_);
    for (const auto& row : rows) line(row);
}

std::string human_duration(int64_t s) {
    if (s < 0) s = 0;
    if (s < 60) return fmt::format("{}s", s);
    if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
    if (s < 86400) return fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60);
    return fmt::format("{}d{:02}h", s / 86400, s % 86400 / 3600);
}

std::string utc_time(int64_t ns) {
    if (ns == 0) return "-";
    std::time_t seconds = static_cast<std::time_t>(ns / 1'000'000'000);
    return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", fmt::gmtime(seconds));
}

AlbumNames album_names(Catalog& catalog, Id job_id) {
    AlbumNames names;
    for (const auto& a : catalog.albums(job_id)) names[a.id] = a.name;
    return names;
}

namespace {
std::string album_name(Id id, const AlbumNames& albums) {
    auto it = albums.find(id);
    // A removed album that still holds history keeps its row under a hidden name.
    return it != albums.end() ? it->second : fmt::format("(album {})", id);
}
}  // namespace

std::string path_in_job(const Folder& folder, const std::string& filename, const AlbumNames& albums) {
    if (!folder.album_id) return filename;
    std::string album = album_name(*folder.album_id, albums);
    if (auto nul = album.find('\0'); nul != std::string::npos) album.resize(nul);
    return photodrop::path_in_job(folder, filename, album);
}

std::string path_in_job(const Photo& photo, const AlbumNames& albums) {
    // A photo records its section, not whether it was put in the section's folder.
    return path_in_job(Folder{photo.album_id, photo.section, true}, photo.filename, albums);
}

nlohmann::json to_json(const Tenant& t) { return {{"id", t.id}, {"slug", t.slug}, {"name", t.name}}; }

nlohmann::json to_json(const Job& j) {
    return {{"id", j.id},
            {"name", j.name},
            {"title", j.title},
            {"status", to_string(j.status)},
            {"layout", to_string(j.layout)}};
}

nlohmann::json to_json(const Photo& p, const AlbumNames& albums) {
    nlohmann::json album = nullptr;
    if (p.album_id) album = album_name(*p.album_id, albums);
    return {{"id", p.id},
            {"upload_id", p.upload_id},
            {"path", path_in_job(p, albums)},
            {"album", album},
            {"section", to_string(p.section)},
            {"filename", p.filename},
            {"width", p.width},
            {"height", p.height},
            {"captured_at", p.captured_at ? nlohmann::json(*p.captured_at) : nlohmann::json(nullptr)},
            {"camera_make", p.camera_make},
            {"camera_model", p.camera_model},
            {"camera_serial", p.camera_serial},
            {"orientation", p.orientation},
            {"content_hash", p.content_hash},
            {"original_path", p.original_path},
            {"thumbnail_path", p.thumbnail_path},
            {"preview_path", p.preview_path},
            {"deleted", p.deleted},
            {"note", p.note},
            {"card_code", p.card_code ? nlohmann::json(*p.card_code) : nlohmann::json(nullptr)},
            {"subject", p.subject ? nlohmann::json(*p.subject) : nlohmann::json(nullptr)},
            {"subject_manual", p.subject_manual},
            {"created", utc_time(p.created_ns)}};
}

nlohmann::json shown(const nlohmann::json& value) {
    if (value.is_string()) return text::shown(value.get_ref<const std::string&>());
    if (!value.is_structured()) return value;
    nlohmann::json out = value.is_array() ? nlohmann::json::array() : nlohmann::json::object();
    for (auto it = value.begin(); it != value.end(); ++it) {
        if (value.is_array()) out.push_back(shown(*it));
        else out[it.key()] = shown(it.value());
    }
    return out;
}

nlohmann::json state_counts_json(const std::map<UploadState, int64_t>& counts) {
    nlohmann::json out = nlohmann::json::object();
    for (auto s : all_upload_states) {
        auto it = counts.find(s);
        out[std::string(to_string(s))] = it == counts.end() ? 0 : it->second;
    }
    return out;
}

}  // namespace photodrop::ctl
