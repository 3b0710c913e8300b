#pragma once
// Grouping photos into subjects by the cards photographed before them (SPEC.md
// "Subjects (QR cards)"), and what a job's subjects look like: pure functions
// over photos and a roster, no I/O.

#include "catalog/model.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace photodrop {

// The subject each photo belongs to by the cards, for the live photos of one
// album's individuals section (or of a flat job): per camera body (serial;
// make and model when it has none), in capture order (time, sub-seconds, then
// file name, then id), a card photo starts its code's subject and the photos
// after it belong to it until the next card; photos before a camera's first
// card belong to none. Photos without a capture time come after those with
// one. Operators' choices (subject_manual) are not looked at here.
std::map<Id, std::optional<std::string>> group_by_cards(const std::vector<Photo>& photos);

// One subject of a job: a code seen on a card or assigned, or on the roster.
struct Subject {
    std::string code;
    std::optional<RosterEntry> roster;  // none: a card whose code is not on the roster
    std::vector<Id> cards;              // its card photos
    std::vector<Id> photos;             // its other photos
};

struct SubjectsReport {
    std::vector<Subject> subjects;  // by code: every code on a card, assigned or on the roster
    std::vector<Id> unassigned;     // individuals that belong to no subject
    // Flags for the studio: cards whose code is not on the roster (only when
    // there is a roster), roster entries with no photo, subjects with only a card.
    std::vector<std::string> not_on_roster, without_photos, only_a_card;
};

// The subjects of `photos` (a job's, or one album's; the group section and
// deleted photos are left out) with the job's roster.
SubjectsReport subjects_report(const std::vector<Photo>& photos, const std::vector<RosterEntry>& roster);

}  // namespace photodrop
