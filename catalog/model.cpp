#include "catalog/model.hpp"

#include <array>
#include <chrono>
#include <utility>

namespace photodrop {

namespace {
template <class E, size_t N>
std::optional<E> parse(const std::array<std::pair<E, std::string_view>, N>& names, std::string_view word) {
    for (const auto& [value, name] : names)
        if (name == word) return value;
    return std::nullopt;
}
template <class E, size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& names, E value) {
    for (const auto& [v, name] : names)
        if (v == value) return name;
    return "unknown";
}

constexpr std::array<std::pair<JobStatus, std::string_view>, 3> job_statuses{{
    {JobStatus::Planned, "planned"}, {JobStatus::Selling, "selling"}, {JobStatus::Archived, "archived"}}};
constexpr std::array<std::pair<Layout, std::string_view>, 2> layouts{{
    {Layout::Albums, "albums"}, {Layout::Flat, "flat"}}};
constexpr std::array<std::pair<Section, std::string_view>, 2> sections{{
    {Section::Individuals, "individuals"}, {Section::Group, "group"}}};
constexpr std::array<std::pair<UploadState, std::string_view>, 8> upload_states{{
    {UploadState::Receiving, "receiving"},
    {UploadState::Queued, "queued"},
    {UploadState::Processing, "processing"},
    {UploadState::Ingested, "ingested"},
    {UploadState::Rejected, "rejected"},
    {UploadState::Failed, "failed"},
    {UploadState::Discarded, "discarded"},
    {UploadState::Deleted, "deleted"},
}};
constexpr std::array<std::pair<DeliveryState, std::string_view>, 3> delivery_states{{
    {DeliveryState::Pending, "pending"}, {DeliveryState::Delivered, "delivered"}, {DeliveryState::Failed, "failed"}}};
}  // namespace

std::string_view to_string(JobStatus v) { return name_of(job_statuses, v); }
std::string_view to_string(Layout v) { return name_of(layouts, v); }
std::string_view to_string(Section v) { return name_of(sections, v); }
std::string_view to_string(UploadState v) { return name_of(upload_states, v); }
std::optional<JobStatus> parse_job_status(std::string_view w) { return parse(job_statuses, w); }
std::optional<Layout> parse_layout(std::string_view w) { return parse(layouts, w); }
std::optional<Section> parse_section(std::string_view w) { return parse(sections, w); }
std::optional<UploadState> parse_upload_state(std::string_view w) { return parse(upload_states, w); }
std::string_view to_string(DeliveryState v) { return name_of(delivery_states, v); }
std::optional<DeliveryState> parse_delivery_state(std::string_view w) { return parse(delivery_states, w); }

std::string to_string(const Protocols& p) {
    std::string out;
    for (auto [on, name] : {std::pair{p.sftp, "sftp"}, std::pair{p.ftps, "ftps"}, std::pair{p.ftp, "ftp"}})
        if (on) out += (out.empty() ? "" : ",") + std::string(name);
    return out.empty() ? "none" : out;
}

std::optional<Protocols> parse_protocols(std::string_view list) {
    Protocols p{false, false, false};
    if (list.empty()) return std::nullopt;
    while (true) {
        auto comma = list.find(',');
        auto word = list.substr(0, comma);
        if (word == "sftp") p.sftp = true;
        else if (word == "ftps") p.ftps = true;
        else if (word == "ftp") p.ftp = true;
        else return std::nullopt;
        if (comma == std::string_view::npos) return p;
        list.remove_prefix(comma + 1);
    }
}

bool can_transition(UploadState from, UploadState to) {
    using S = UploadState;
    switch (from) {
        case S::Receiving: return to == S::Queued || to == S::Rejected || to == S::Deleted || to == S::Discarded;
        case S::Queued: return to == S::Processing || to == S::Receiving || to == S::Deleted || to == S::Rejected;
        case S::Processing:
            return to == S::Ingested || to == S::Rejected || to == S::Failed || to == S::Queued || to == S::Deleted;
        case S::Ingested: return to == S::Deleted;
        case S::Failed: return to == S::Queued || to == S::Receiving || to == S::Deleted;
        case S::Rejected: return to == S::Queued || to == S::Receiving || to == S::Deleted;
        case S::Discarded: return false;
        case S::Deleted: return false;
    }
    return false;
}

bool is_visible(const Upload& u) {
    switch (u.state) {
        case UploadState::Receiving:
        case UploadState::Queued:
        case UploadState::Processing:
        case UploadState::Ingested:
        case UploadState::Failed: return true;
        case UploadState::Rejected: return !u.data_path.empty();
        default: return false;
    }
}

std::string path_in_job(const Folder& folder, const std::string& filename, const std::string& album) {
    if (!folder.album_id) return filename;
    if (!folder.in_section_folder) return album + "/" + filename;
    return album + "/" + std::string(to_string(folder.section)) + "/" + filename;
}

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace photodrop
