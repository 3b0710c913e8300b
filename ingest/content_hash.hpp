#pragma once

#include <string>

namespace photodrop::ingest {

// SHA-256 of the file's bytes, lowercase hex. Throws std::system_error on I/O errors.
std::string sha256_file(const std::string& path);

}  // namespace photodrop::ingest
