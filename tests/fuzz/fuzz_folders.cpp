// The folder rules: a layout, a place in the tree and a name, as mkdir,
// create (or the target of a rename) and the section and temporary-name
// recognisers see them.
#include "fusefs/policy.hpp"
#include "tests/fuzz/fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace photodrop;
using fuzz::safe_to_show;
using policy::Level;

namespace {
void check_verdict(const policy::Verdict& v) {
    if (!v) FUZZ_CHECK(!v.reason().empty() && safe_to_show(v.reason()));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    // The first byte picks the layout and the folder; the rest is the name.
    auto layout = (data[0] & 1) ? Layout::Flat : Layout::Albums;
    auto parent = static_cast<Level>((data[0] >> 1) % 4);
    std::string_view name(reinterpret_cast<const char*>(data + 1), size - 1);

    auto folder = policy::make_folder(layout, parent, name);
    check_verdict(folder.verdict);
    if (folder.verdict) {
        FUZZ_CHECK(policy::check_name(folder.name));
        FUZZ_CHECK(parent == Level::Job || parent == Level::Album);
        if (parent == Level::Job) FUZZ_CHECK(layout == Layout::Albums);  // a flat job has no albums
        // Inside an album only the two sections, by their canonical names.
        if (parent == Level::Album) FUZZ_CHECK(folder.section && folder.name == to_string(*folder.section));
        else FUZZ_CHECK(!folder.section);
    }

    auto file = policy::create_file(layout, parent, name);
    check_verdict(file.verdict);
    if (file.verdict) {
        FUZZ_CHECK(policy::check_name(file.name));
        FUZZ_CHECK(file.name == policy::normalized_name(name));
        FUZZ_CHECK(parent != Level::Root);
        if (file.kind == policy::FileKind::Temporary) FUZZ_CHECK(policy::temporary_target(file.name).has_value());
        if (file.kind != policy::FileKind::Junk && parent == Level::Job) FUZZ_CHECK(layout == Layout::Flat);
    } else {
        FUZZ_CHECK(file.name.empty());
    }

    // A client's temporary name is its real name and a suffix; ProFTPD's hidden store wraps it: ".in.NAME.".
    if (auto target = policy::temporary_target(name))
        FUZZ_CHECK(target->size() < name.size() &&
                   (name.starts_with(*target) || (policy::is_hidden_store(name) && name == ".in." + *target + ".")));
    if (auto section = policy::section_named(name)) FUZZ_CHECK(name.size() == to_string(*section).size());

    for (auto level : {Level::Root, Level::Job, Level::Album, Level::Section}) {
        check_verdict(policy::rename_folder(level));
        check_verdict(policy::remove_folder(level));
        check_verdict(policy::remove_file(level));
    }
    return 0;
}
