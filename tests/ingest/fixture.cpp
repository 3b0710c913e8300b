#include "tests/ingest/fixture.hpp"

#include "ingest/vips_setup.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <stdexcept>

namespace photodrop::test {

using vips::VImage;

Bytes with_frame_size(Bytes bytes, int width, int height) {
    for (size_t i = 0; i + 9 < bytes.size(); ++i)
        if (bytes[i] == 0xFF && (bytes[i + 1] == 0xC0 || bytes[i + 1] == 0xC2)) {
            bytes[i + 5] = static_cast<unsigned char>(height >> 8);
            bytes[i + 6] = static_cast<unsigned char>(height & 0xFF);
            bytes[i + 7] = static_cast<unsigned char>(width >> 8);
            bytes[i + 8] = static_cast<unsigned char>(width & 0xFF);
            return bytes;
        }
    throw std::runtime_error("no frame header in the JPEG");
}

Bytes encode(const VImage& image, const std::string& suffix) {
    void* data = nullptr;
    size_t size = 0;
    image.write_to_buffer(suffix.c_str(), &data, &size);
    auto* bytes = static_cast<unsigned char*>(data);
    Bytes out(bytes, bytes + size);
    g_free(data);
    return out;
}

Bytes read_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    return Bytes(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::filesystem::path& path, const Bytes& bytes) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

int run_command(const std::string& command) {
    int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

IngestFixture::IngestFixture() {
    start_vips();
    data = dir.path() / "data";
    std::filesystem::create_directories(data);
    catalog_path = (dir.path() / "catalog.db").string();
    catalog = open_catalog(catalog_path);
    tenant = catalog->add_tenant("demo", "Demo Studio");
    job = catalog->add_job(tenant.id, "job00001", "Spring pictures", Layout::Flat, JobStatus::Planned);
    Config config;
    config.data = data.string();
    settings = ingest::ingest_settings(config);
}

Upload IngestFixture::queue(const Bytes& bytes, const std::string& filename, std::optional<Id> job_id) {
    std::string data_path = fmt::format("{}/staging/{:06d}", tenant.slug, ++staged_);
    NewUpload n;
    n.job_id = job_id.value_or(job.id);
    n.filename = filename;
    n.uid = 1000;
    n.data_path = data_path;
    Upload upload = catalog->add_upload(n);
    write_bytes(absolute(data_path), bytes);
    catalog->close_upload(upload.id, static_cast<int64_t>(bytes.size()), now_ns(), queue_always);
    return *catalog->upload(upload.id);
}

ingest::Outcome IngestFixture::ingest_next() {
    auto claim = catalog->claim_next(int64_t{60'000'000'000});
    REQUIRE_MESSAGE(claim.has_value(), "nothing queued");
    ingest::Ingester ingester(*catalog, settings);
    return ingester.process(*claim);
}

}  // namespace photodrop::test
