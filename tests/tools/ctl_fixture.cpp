#include "tests/tools/ctl_fixture.hpp"

#include <fmt/format.h>

#include "tools/photodropctl.hpp"

#include <doctest/doctest.h>

#include <sstream>

namespace photodrop::test {

Ctl::Ctl()
    : catalog_path((dir.path() / "catalog.db").string()),
      data((dir.path() / "data").string()),
      mounts((dir.path() / "mounts").string()),
      keys((dir.path() / "keys").string()) {}

CtlRun Ctl::run(const std::vector<std::string>& args, const std::string& input, bool interactive) {
    std::vector<std::string> argv{"photodropctl", "--catalog", catalog_path, "--data",
                                  data,           "--mounts",  mounts,       "--keys-dir", keys};
    argv.insert(argv.end(), args.begin(), args.end());
    std::istringstream in(input);
    std::ostringstream out, err;
    CtlRun r;
    r.status = ctl::run_photodropctl(argv, ctl::Console{in, out, err, interactive});
    r.out = out.str();
    r.err = err.str();
    return r;
}

CtlRun Ctl::run_bare(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"photodropctl"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::istringstream in;
    std::ostringstream out, err;
    CtlRun r;
    r.status = ctl::run_photodropctl(argv, ctl::Console{in, out, err, false});
    r.out = out.str();
    r.err = err.str();
    return r;
}

void Ctl::init_demo() {
    REQUIRE(run({"init"}).status == 0);
    REQUIRE(run({"tenant", "add", "demo", "--name", "Demo Studio"}).status == 0);
    REQUIRE(run({"job", "add", "--tenant", "demo", "job00001", "--title", "Spring pictures"}).status == 0);
}

Upload add_upload(Catalog& cat, Id job_id, std::optional<Id> album, const std::string& name, UploadState state,
                  const std::string& reason, uint32_t uid) {
    NewUpload n;
    n.job_id = job_id;
    n.folder = album ? Folder{album, Section::Group, true} : Folder{};
    n.filename = name;
    n.uid = uid;
    bool refused = state == UploadState::Rejected && !reason.empty() && reason.starts_with("refused by name");
    n.data_path = refused ? "" : "demo/staging/" + name;
    if (state == UploadState::Rejected && refused) {
        n.state = UploadState::Rejected;
        n.reason = reason;
        return cat.add_upload(n);
    }
    auto u = cat.add_upload(n);
    if (state == UploadState::Receiving) return *cat.upload(u.id);
    cat.close_upload(u.id, 2048, now_ns(), queue_always);
    if (state == UploadState::Queued) return *cat.upload(u.id);
    auto claimed = cat.claim_next(60'000'000'000);
    REQUIRE(claimed);
    REQUIRE(claimed->id == u.id);
    if (state == UploadState::Processing) return *claimed;
    if (state == UploadState::Ingested) {
        IngestResult r;
        r.width = 4000;
        r.height = 3000;
        r.captured_at = "2024-05-01 10:11:12";
        r.camera_make = "Canon";
        r.camera_model = "EOS R5";
        // Distinct content per name: one photo per job and content, the rest duplicates.
        r.content_hash = fmt::format("{:a>64}", std::hash<std::string>{}(name));
        r.original_path = "demo/originals/aa/" + name;
        r.thumbnail_path = "demo/thumbnails/" + name;
        r.preview_path = "demo/previews/" + name;
        cat.file_ingest(u.id, r);
    } else {
        cat.set_state(u.id, state, reason);
    }
    return *cat.upload(u.id);
}

}  // namespace photodrop::test
