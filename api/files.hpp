#pragma once
// Sending a file that never changes: ETag and If-None-Match, one Range (or
// the whole file), Cache-Control immutable; a slice of the file is read as
// it is sent.

#include "api/api.hpp"

#include <filesystem>
#include <string>

namespace photodrop::api {

// Fills `reply` with the file at `path` (or 304, 206, 416 as the request
// asks). Throws ApiError 404 if the file is not there.
void send_file(const Request& request, Reply& reply, const std::filesystem::path& path, const std::string& etag,
               const std::string& content_type);

// "image/jpeg" for "...jpg" and the like, by the store's extensions.
std::string content_type_of(const std::string& path);

// A Content-Disposition that names a download `filename` (RFC 6266, UTF-8,
// every byte but unreserved ones escaped, so no name can break the header).
std::string content_disposition(const std::string& filename);

}  // namespace photodrop::api
