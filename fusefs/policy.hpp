#pragma once
// The folder rules of SPEC.md, as one pure module: no I/O, no catalog. A place
// in the tree, an operation and a name go in; a verdict with a reason that a
// person can read comes out.

#include "catalog/model.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace photodrop::policy {

// What a refusal or an acceptance means for the caller.
class Verdict {
public:
    static Verdict allow() { return Verdict(true, {}); }
    static Verdict refuse(std::string reason) { return Verdict(false, std::move(reason)); }
    bool allowed() const noexcept { return allowed_; }
    explicit operator bool() const noexcept { return allowed_; }
    // Why it was refused, in words for the photographer and the operator.
    const std::string& reason() const noexcept { return reason_; }

private:
    Verdict(bool allowed, std::string reason) : allowed_(allowed), reason_(std::move(reason)) {}
    bool allowed_;
    std::string reason_;
};

// The depth of a folder in a tenant's mount.
enum class Level {
    Root,     // "/": the jobs
    Job,      // "/<job>"
    Album,    // "/<job>/<album>"
    Section,  // "/<job>/<album>/group" or ".../individuals"
};

// What kind of file a name that may be created is.
enum class FileKind {
    Image,      // queued for ingest when closed
    Temporary,  // a client's temporary name: queued when renamed to an image name
    Junk,       // .DS_Store and friends: accepted and thrown away
};

struct Settings {
    std::vector<std::string> image_extensions{".jpg", ".jpeg", ".png", ".tif", ".tiff", ".heic", ".heif", ".webp"};
    std::vector<std::string> archive_extensions{".zip", ".rar", ".7z", ".tar", ".gz",  ".tgz",
                                                ".bz2", ".xz",  ".zst", ".cab", ".iso", ".dmg"};
    // Extra temporary-name suffixes, besides those of WinSCP, rclone and Cyberduck (e.g. ".part").
    std::vector<std::string> temporary_suffixes;
};

// Whether `name` may name a new entry at all: valid UTF-8, none of the
// characters that hide, reorder or break text (text::unsafe_character: controls,
// bidi controls, zero-width characters, noncharacters, unassigned code points),
// at most 255 bytes in NFC, not "." or "..".
Verdict check_name(std::string_view name);

// The form in which a name is stored and compared: NFC, so that a name sent
// in NFD (macOS) finds the entry made under the same name in NFC (Windows,
// Linux). A name that is not valid UTF-8 is returned as it is: it names
// nothing that is stored.
std::string normalized_name(std::string_view name);

// The real name behind a client's temporary name (WinSCP "X.filepart", rclone
// "X.abcd1234.partial", Cyberduck "X.jpg-8a7c2f", ProFTPD's HiddenStores
// ".in.X.", or a configured suffix).
std::optional<std::string> temporary_target(std::string_view name, const Settings& settings = {});

// ProFTPD's HiddenStores name ".in.NAME.": a camera's upload until it is whole.
bool is_hidden_store(std::string_view name);

bool is_junk(std::string_view name);

struct FolderDecision {
    Verdict verdict;
    std::string name;  // the name to store: in NFC; "group"/"individuals" in canonical case
    std::optional<Section> section;  // set when the folder is a section
};

// mkdir `name` inside a folder at `parent` of a job with `layout`.
FolderDecision make_folder(Layout layout, Level parent, std::string_view name);

struct FileDecision {
    Verdict verdict;
    FileKind kind = FileKind::Image;
    std::string name;  // the name to store, in NFC; empty when refused
};

// create `name` inside a folder at `parent`; also the target of a rename.
FileDecision create_file(Layout layout, Level parent, std::string_view name, const Settings& settings = {});

// Renaming or removing a folder at `level` (the folder itself).
Verdict rename_folder(Level level);
Verdict remove_folder(Level level);
// Deleting a file at `parent` (the root holds no files of the user's).
Verdict remove_file(Level parent);

// The section a folder name stands for, case-insensitively ("Group" -> Group).
std::optional<Section> section_named(std::string_view name);

// Bytes the archive check needs to see from the start of a file.
constexpr size_t archive_check_bytes = 32774;

// The kind of archive whose magic number stands in `head`, the first bytes of a
// file (as many as archive_check_bytes, or all of a shorter file). A Windows
// program counts: it is how self-extracting archives travel.
std::optional<std::string_view> archive_signature(std::span<const unsigned char> head);

// Bytes the check for an archive's trailer needs to see from the end of a file:
// a ZIP's end-of-central-directory record (22 bytes) and the longest comment.
constexpr size_t archive_trailer_bytes = 22 + 65535;

// The kind of archive whose trailer ends `tail`, the last bytes of a file (as
// many as archive_trailer_bytes, or all of a shorter file): a ZIP appended to
// something else (a photo, a self-extracting program) is still a ZIP.
std::optional<std::string_view> archive_trailer(std::span<const unsigned char> tail);

}  // namespace photodrop::policy
