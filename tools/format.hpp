#pragma once
// How photodropctl shows things to an operator: aligned tables, sizes, ages,
// times, the path of an upload inside its job, and the JSON forms of catalog rows.

#include "catalog/catalog.hpp"

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

namespace photodrop::ctl {

// Columns separated by two spaces; the last column is not padded. Each cell
// is shown as text::shown() escapes it: names and reasons are what clients sent.
class Table {
public:
    explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    bool empty() const { return rows_.empty(); }
    void print(std::ostream& out) const;

private:
    std::vector<std::string> headers_;
    std::vector<std::vector<std::string>> rows_;
};

std::string human_duration(int64_t seconds);    // "45s", "3m12s", "2h05m", "3d04h"
std::string utc_time(int64_t ns);               // "2024-05-01 12:00:03 UTC"

// Album names by id, for showing where uploads and photos sit.
using AlbumNames = std::map<Id, std::string>;
AlbumNames album_names(Catalog& catalog, Id job_id);

// "Class 1A/group/a.jpg", "Class 1A/a.jpg" (the album's own folder) or "a.jpg" (flat job).
std::string path_in_job(const Folder& folder, const std::string& filename, const AlbumNames& albums);
std::string path_in_job(const Photo& photo, const AlbumNames& albums);

nlohmann::json to_json(const Tenant& tenant);
nlohmann::json to_json(const Job& job);
nlohmann::json to_json(const Photo& photo, const AlbumNames& albums);

// `value` with each string in it as text::shown() escapes it, the one way
// photodropctl prints JSON: what clients sent may be invalid UTF-8 (which a
// JSON encoder refuses) or hold controls that `jq -r` would pass to a terminal.
nlohmann::json shown(const nlohmann::json& value);

// Counts of uploads by state, every state present (zeros included), in lifecycle order.
nlohmann::json state_counts_json(const std::map<UploadState, int64_t>& counts);
extern const std::vector<UploadState> all_upload_states;

}  // namespace photodrop::ctl
