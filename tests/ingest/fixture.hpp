#pragma once
// What the ingest tests share: libvips started once, photo-like images made
// with libvips, and a catalog with one tenant and one job in a temporary
// directory, with a helper that stages and queues an upload the way
// photodrop-fs does.

#include "catalog/catalog.hpp"
#include "ingest/ingester.hpp"
#include "tests/support/cards.hpp"  // start_vips(), photo_like()
#include "tests/support/tempdir.hpp"

#include <vips/vips8>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace photodrop::test {

using Bytes = std::vector<unsigned char>;

// The image encoded by the saver for `suffix` (".jpg", ".png", ".tif", ".webp", ".heic").
Bytes encode(const vips::VImage& image, const std::string& suffix);
// `jpeg` with its frame header (SOF0/SOF2) claiming width x height: a small
// file that says it is a huge image (a decompression bomb), or a wrong size.
Bytes with_frame_size(Bytes jpeg, int width, int height);

Bytes read_bytes(const std::filesystem::path& path);
void write_bytes(const std::filesystem::path& path, const Bytes& bytes);
// Runs a shell command; its exit status.
int run_command(const std::string& command);

class IngestFixture {
public:
    IngestFixture();

    // Stages `bytes` in DATA/<tenant>/staging/ and queues an upload named `filename`.
    Upload queue(const Bytes& bytes, const std::string& filename, std::optional<Id> job_id = std::nullopt);
    // Claims the next queued upload and processes it, as one worker would.
    ingest::Outcome ingest_next();
    std::filesystem::path absolute(const std::string& relative) const { return data / relative; }

    TempDir dir;
    std::filesystem::path data;
    std::string catalog_path;
    std::unique_ptr<Catalog> catalog;
    Tenant tenant;
    Job job;
    ingest::IngestSettings settings;

private:
    int staged_ = 0;
};

}  // namespace photodrop::test
