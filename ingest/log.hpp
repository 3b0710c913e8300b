#pragma once
// The service's log: one line per event on stderr (journald under systemd).

#include "ingest/ingester.hpp"

#include <string_view>

namespace photodrop::ingest {

// One line per processed upload: tenant, job, file, result, milliseconds.
void log_outcome(const Outcome& outcome);

// A line about the service itself (start, stop, trouble).
void log_event(std::string_view message);

}  // namespace photodrop::ingest
