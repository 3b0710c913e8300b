#pragma once
// Runs photodropctl in-process against its own catalog, data, mounts and keys
// directories inside a temporary directory, and captures what an operator sees.

#include "catalog/catalog.hpp"
#include "tests/support/tempdir.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace photodrop::test {

struct CtlRun {
    int status = -1;
    std::string out;
    std::string err;
    nlohmann::json json() const { return nlohmann::json::parse(out); }
};

class Ctl {
public:
    Ctl();
    TempDir dir;
    std::string catalog_path, data, mounts, keys;

    // photodropctl --catalog ... --data ... --mounts ... --keys-dir ... ARGS, with `input` on stdin.
    CtlRun run(const std::vector<std::string>& args, const std::string& input = "", bool interactive = false);
    // The same without the directory flags.
    CtlRun run_bare(const std::vector<std::string>& args);

    // `init`, and a tenant "demo" with an albums job "job00001".
    void init_demo();
    std::unique_ptr<Catalog> catalog() { return open_catalog(catalog_path); }
};

// An upload of job `job_id` in `album`'s section folder, in state `state`,
// moved there through the catalog API as photodrop-fs and ingest would.
Upload add_upload(Catalog& cat, Id job_id, std::optional<Id> album, const std::string& name, UploadState state,
                  const std::string& reason = "", uint32_t uid = 1000);

}  // namespace photodrop::test
