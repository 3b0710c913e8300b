#pragma once
// A job's roster as a studio exports it: CSV of code, name, class and an
// optional external id (the platform's id of the subject).

#include "catalog/model.hpp"

#include <string_view>
#include <vector>

namespace photodrop::ctl {

// Parses the roster. A first line whose first field is "code" is a header,
// and then names the columns in any order (code, name, class, external_id);
// without one, the columns are code, name, class[, external_id]. Fields are
// separated by commas, or by semicolons when the first line has one and no
// comma (spreadsheets in many languages write those); "quoted" fields may
// hold either and "" for a quote. Throws std::runtime_error naming the line
// and what is wrong: a row without a code or name, a code twice, too many
// fields, an unclosed quote, text that is not UTF-8.
std::vector<RosterEntry> parse_roster(std::string_view csv);

}  // namespace photodrop::ctl
