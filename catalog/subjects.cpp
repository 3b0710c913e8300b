#include "catalog/subjects.hpp"

#include <algorithm>
#include <tuple>

namespace photodrop {

std::map<Id, std::optional<std::string>> group_by_cards(const std::vector<Photo>& photos) {
    std::map<std::string, std::vector<const Photo*>> by_camera;
    for (const auto& p : photos) {
        // EXIF text is trimmed: no serial ends in a newline.
        std::string camera = p.camera_serial.empty() ? p.camera_make + "\n" + p.camera_model + "\n" : p.camera_serial;
        by_camera[camera].push_back(&p);
    }
    std::map<Id, std::optional<std::string>> out;
    for (auto& [camera, shots] : by_camera) {
        // Photos with no capture time come after those with one.
        std::sort(shots.begin(), shots.end(), [](const Photo* a, const Photo* b) {
            if (a->captured_at.has_value() != b->captured_at.has_value()) return a->captured_at.has_value();
            return std::tie(a->captured_at, a->captured_us, a->filename, a->id) <
                   std::tie(b->captured_at, b->captured_us, b->filename, b->id);
        });
        std::optional<std::string> current;
        for (const Photo* p : shots) {
            if (p->card_code) current = p->card_code;
            out[p->id] = current;
        }
    }
    return out;
}

SubjectsReport subjects_report(const std::vector<Photo>& photos, const std::vector<RosterEntry>& roster) {
    std::map<std::string, Subject> subjects;
    for (const auto& entry : roster) subjects[entry.code] = Subject{entry.code, entry, {}, {}};
    SubjectsReport report;
    for (const auto& p : photos) {
        if (p.deleted || p.section != Section::Individuals) continue;
        if (!p.subject) {
            report.unassigned.push_back(p.id);
            continue;
        }
        auto& s = subjects[*p.subject];
        s.code = *p.subject;
        (p.card_code == p.subject ? s.cards : s.photos).push_back(p.id);
    }
    for (auto& [code, s] : subjects) {
        if (!s.roster && !roster.empty()) report.not_on_roster.push_back(code);
        if (s.cards.empty() && s.photos.empty()) report.without_photos.push_back(code);
        else if (s.photos.empty()) report.only_a_card.push_back(code);
        report.subjects.push_back(std::move(s));
    }
    return report;
}

}  // namespace photodrop
