#include "fusefs/policy.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace photodrop;
using namespace photodrop::policy;

namespace {
std::string reason_of_file(Layout layout, Level parent, std::string_view name) {
    auto d = create_file(layout, parent, name);
    REQUIRE_FALSE(d.verdict.allowed());
    return d.verdict.reason();
}
bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("the root lists jobs and refuses every change") {
    CHECK_FALSE(make_folder(Layout::Albums, Level::Root, "new").verdict);
    CHECK(contains(make_folder(Layout::Albums, Level::Root, "new").verdict.reason(), "one folder per job"));
    CHECK(contains(reason_of_file(Layout::Flat, Level::Root, "a.jpg"), "open a job folder"));
    CHECK_FALSE(rename_folder(Level::Root));
    CHECK_FALSE(remove_file(Level::Root));
    CHECK_FALSE(rename_folder(Level::Job));
    CHECK_FALSE(remove_folder(Level::Job));
}

TEST_CASE("albums layout: albums may be made, loose files are refused") {
    auto d = make_folder(Layout::Albums, Level::Job, "Class 1A");
    CHECK(d.verdict);
    CHECK(d.name == "Class 1A");
    CHECK_FALSE(d.section);
    CHECK(contains(reason_of_file(Layout::Albums, Level::Job, "a.jpg"), "organised in albums"));
}

TEST_CASE("flat layout: images go straight in, folders are refused") {
    CHECK(create_file(Layout::Flat, Level::Job, "a.jpg").verdict);
    auto d = make_folder(Layout::Flat, Level::Job, "Album");
    CHECK_FALSE(d.verdict);
    CHECK(contains(d.verdict.reason(), "folders cannot be made"));
}

TEST_CASE("an album takes images and its two sections, case-insensitively, under canonical names") {
    CHECK(create_file(Layout::Albums, Level::Album, "IMG_0001.JPG").verdict);
    auto g = make_folder(Layout::Albums, Level::Album, "Group");
    CHECK(g.verdict);
    CHECK(g.name == "group");
    CHECK(g.section == Section::Group);
    auto i = make_folder(Layout::Albums, Level::Album, "INDIVIDUALS");
    CHECK(i.name == "individuals");
    CHECK(i.section == Section::Individuals);
    auto other = make_folder(Layout::Albums, Level::Album, "extras");
    CHECK_FALSE(other.verdict);
    CHECK(contains(other.verdict.reason(), "'group' and 'individuals'"));
}

TEST_CASE("sections take images and no folders") {
    CHECK(create_file(Layout::Albums, Level::Section, "a.png").verdict);
    auto d = make_folder(Layout::Albums, Level::Section, "deeper");
    CHECK_FALSE(d.verdict);
    CHECK(contains(d.verdict.reason(), "inside 'group' or 'individuals'"));
    CHECK(rename_folder(Level::Album));
    CHECK_FALSE(rename_folder(Level::Section));
    CHECK(remove_folder(Level::Album));
    CHECK(remove_folder(Level::Section));
}

TEST_CASE("every image extension is accepted, in any case") {
    for (std::string ext : {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".heic", ".heif", ".webp", ".JPG", ".Heic"}) {
        CAPTURE(ext);
        auto d = create_file(Layout::Flat, Level::Job, "photo" + ext);
        CHECK(d.verdict);
        CHECK(d.kind == FileKind::Image);
    }
}

TEST_CASE("the image list is a setting") {
    Settings s;
    s.image_extensions = {".jpg", ".cr3"};
    CHECK(create_file(Layout::Flat, Level::Job, "raw.CR3", s).verdict);
    CHECK_FALSE(create_file(Layout::Flat, Level::Job, "a.png", s).verdict);
}

TEST_CASE("archives are refused by name") {
    for (std::string ext : {".zip", ".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".cab", ".iso", ".dmg",
                            ".ZIP"}) {
        CAPTURE(ext);
        auto reason = reason_of_file(Layout::Albums, Level::Album, "photos" + ext);
        CHECK(contains(reason, "archives"));
    }
}

TEST_CASE("other files are refused and the reason names the accepted ones") {
    auto reason = reason_of_file(Layout::Albums, Level::Album, "notes.txt");
    CHECK(contains(reason, "not .txt"));
    CHECK(contains(reason, ".jpg"));
    CHECK(contains(reason_of_file(Layout::Flat, Level::Job, "clip.mov"), "not .mov"));
    CHECK(contains(reason_of_file(Layout::Flat, Level::Job, "README"), "without an extension"));
}

TEST_CASE("junk files are accepted as junk, even where images are not") {
    for (std::string name : {".DS_Store", "._IMG_0001.jpg", "Thumbs.db", "desktop.ini", "thumbs.db"}) {
        CAPTURE(name);
        auto d = create_file(Layout::Albums, Level::Album, name);
        CHECK(d.verdict);
        CHECK(d.kind == FileKind::Junk);
        CHECK(create_file(Layout::Albums, Level::Job, name).kind == FileKind::Junk);
    }
}

TEST_CASE("client temporary names are accepted and name their real file") {
    CHECK(temporary_target("X.jpg.filepart") == "X.jpg");
    CHECK(temporary_target("X.jpg.abcd1234.partial") == "X.jpg");
    CHECK(temporary_target("X.jpg-8a7c2f") == "X.jpg");
    CHECK(temporary_target("X.jpg-3f2a9c1e-5b6d-4e7f-8a9b-0c1d2e3f4a5b") == "X.jpg");
    CHECK(temporary_target(".in.IMG_0001.JPG.") == "IMG_0001.JPG");
    CHECK_FALSE(temporary_target("X.jpg"));
    CHECK_FALSE(temporary_target("IMG-0001.jpg"));
    CHECK_FALSE(temporary_target(".in.."));
    CHECK_FALSE(temporary_target(".in.X.jpg"));
    CHECK_FALSE(temporary_target("X.jpg.abc.partial"));
    for (std::string name : {"X.jpg.filepart", "X.jpg.abcd1234.partial", "X.jpg-8a7c2f", ".in.X.jpg."}) {
        CAPTURE(name);
        auto d = create_file(Layout::Albums, Level::Album, name);
        CHECK(d.verdict);
        CHECK(d.kind == FileKind::Temporary);
    }
}

TEST_CASE("the rules apply to the name behind a temporary name") {
    CHECK(contains(reason_of_file(Layout::Albums, Level::Album, "x.zip.filepart"), "archives"));
    CHECK(contains(reason_of_file(Layout::Albums, Level::Album, "notes.txt.filepart"), "not .txt"));
    Settings s;
    s.temporary_suffixes = {".part"};
    auto d = create_file(Layout::Flat, Level::Job, "a.jpg.part", s);
    CHECK(d.kind == FileKind::Temporary);
    CHECK(temporary_target("a.jpg.part", s) == "a.jpg");
}

TEST_CASE("names must be valid") {
    CHECK(check_name("Klasse 1ä.jpg"));
    CHECK(contains(check_name(".").reason(), "cannot name"));
    CHECK(contains(check_name("..").reason(), "cannot name"));
    CHECK(contains(check_name("").reason(), "empty"));
    CHECK(contains(check_name(std::string(256, 'a')).reason(), "256 bytes"));
    CHECK(check_name(std::string(251, 'a') + ".jpg"));
    CHECK(contains(check_name("bad\xff.jpg").reason(), "UTF-8"));
    CHECK(contains(check_name("over\xc0\xaf.jpg").reason(), "UTF-8"));  // overlong encoding
    CHECK(contains(check_name("tab\there.jpg").reason(), "control character"));
    CHECK(contains(check_name("del\x7f.jpg").reason(), "control character"));
    CHECK_FALSE(make_folder(Layout::Albums, Level::Job, "..").verdict);
    CHECK_FALSE(create_file(Layout::Flat, Level::Job, "bad\n.jpg").verdict);
}

TEST_CASE("archive magic numbers are found in the first bytes, whatever the name") {
    auto sig = [](std::string bytes, size_t offset = 0) {
        std::vector<unsigned char> head(offset + bytes.size() + 16, 0);
        std::copy(bytes.begin(), bytes.end(), head.begin() + static_cast<long>(offset));
        return archive_signature(head);
    };
    CHECK(sig("PK\x03\x04") == "ZIP");
    CHECK(sig(std::string("Rar!\x1a\x07\x00", 7)) == "RAR");
    CHECK(sig("7z\xbc\xaf\x27\x1c") == "7-Zip");
    CHECK(sig("\x1f\x8b\x08") == "gzip");
    CHECK(sig("BZh91AY") == "bzip2");
    CHECK(sig(std::string("\xfd" "7zXZ\x00", 6)) == "xz");
    CHECK(sig("\x28\xb5\x2f\xfd") == "Zstandard");
    CHECK(sig("MSCF") == "cabinet");
    CHECK(sig("ustar", 257) == "tar");
    CHECK(sig("CD001", 32769) == "ISO 9660");
    CHECK(sig("MZ\x90\x00") == "self-extracting (Windows program)");
    CHECK_FALSE(sig("\xff\xd8\xff\xe0"));  // JPEG
    CHECK_FALSE(sig("\x89PNG\r\n\x1a\n"));
    std::vector<unsigned char> short_file{'P', 'K'};
    CHECK_FALSE(archive_signature(short_file));
}

TEST_CASE("a ZIP's end record at the end of a file is found, whatever comes before it") {
    auto with_trailer = [](std::string before, std::string comment) {
        std::string record("PK\x05\x06", 4);
        record += std::string(16, '\0');
        record += static_cast<char>(comment.size() & 0xff);
        record += static_cast<char>(comment.size() >> 8);
        auto bytes = before + record + comment;
        return std::vector<unsigned char>(bytes.begin(), bytes.end());
    };
    std::string jpeg = "\xff\xd8\xff\xe0" + std::string(5000, 'x');
    CHECK(archive_trailer(with_trailer(jpeg, "")) == "ZIP");
    CHECK(archive_trailer(with_trailer(jpeg, "made by a self-extractor")) == "ZIP");
    CHECK(archive_trailer(with_trailer("", std::string(65535, 'c'))) == "ZIP");
    // The signature alone, with a comment length that does not reach the end, is a photo's data.
    auto inside = with_trailer(jpeg, "");
    inside.push_back('\xd9');
    CHECK_FALSE(archive_trailer(inside));
    std::vector<unsigned char> photo(jpeg.begin(), jpeg.end());
    CHECK_FALSE(archive_trailer(photo));
    CHECK_FALSE(archive_trailer(std::vector<unsigned char>{'P', 'K', 5, 6}));
}

namespace {
// "Klasse 3ä" as Windows and Linux send it (NFC: U+00E4) and as macOS does (NFD: a, U+0308).
const std::string klasse_nfc = "Klasse 3\xc3\xa4";
const std::string klasse_nfd = "Klasse 3a\xcc\x88";
}  // namespace

TEST_CASE("names are stored in NFC: the same name from macOS (NFD) and Windows (NFC) is one name") {
    auto from_mac = make_folder(Layout::Albums, Level::Job, klasse_nfd);
    REQUIRE(from_mac.verdict);
    CHECK(from_mac.name == klasse_nfc);
    CHECK(make_folder(Layout::Albums, Level::Job, klasse_nfc).name == klasse_nfc);
    auto file = create_file(Layout::Albums, Level::Album, "Sch\xc3\xbc" "ler.jpg");
    CHECK(file.name == "Sch\xc3\xbc" "ler.jpg");
    auto nfd_file = create_file(Layout::Albums, Level::Album, "Schu\xcc\x88ler.jpg");
    REQUIRE(nfd_file.verdict);
    CHECK(nfd_file.name == "Sch\xc3\xbc" "ler.jpg");
    CHECK(normalized_name(klasse_nfd) == klasse_nfc);
    CHECK(normalized_name(klasse_nfc) == klasse_nfc);
    CHECK(normalized_name("bad\xff") == "bad\xff");  // not UTF-8: names nothing stored, left as it is
    // Hangul sent as jamo composes to syllables.
    CHECK(normalized_name("\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab") == "\xed\x95\x9c");
}

TEST_CASE("names that photographers write in many scripts are accepted as they are") {
    for (std::string name : {"Klasse 3\xc3\xa4", "\xd0\x9a\xd0\xbb\xd0\xb0\xd1\x81\xd1\x81 1\xd0\x90",  // Класс 1А
                             "\xe4\xb8\x89\xe5\xb9\xb4\xe7\xb5\x84",                                   // 三年組
                             "\xd8\xa7\xd9\x84\xd8\xb5\xd9\x81 \xd8\xa7\xd9\x84\xd8\xa3\xd9\x88\xd9\x84",  // الصف الأول
                             "\xd7\x9b\xd7\x99\xd7\xaa\xd7\x94 \xd7\x90",                                // כיתה א
                             "\xe0\xa4\x95\xe0\xa4\x95\xe0\xa5\x8d\xe0\xa4\xb7\xe0\xa4\xbe",            // कक्षा
                             "Cl\xc3\xa9ment & Zo\xc3\xab (2024)", "\xf0\x9f\x93\xb7 Team",            // 📷 Team
                             "\xd9\x85\xdb\x8c\xe2\x80\x8c\xd8\xae\xd9\x88\xd8\xa7\xd9\x87\xd9\x85",  // می‌خواهم (a non-joiner)
                             "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7 Family",           // 👩‍👧 (a joiner)
                             "\xef\x80\xa2private-use\xef\x80\xaa"}) {  // U+F022, U+F02A: ':' and '*' from an SMB client
        CAPTURE(name);
        auto d = make_folder(Layout::Albums, Level::Job, name);
        CHECK(d.verdict);
        CHECK(d.name == name);
    }
}

TEST_CASE("characters that hide, reorder or break a name are refused, each with its reason") {
    struct Case {
        std::string bytes;
        std::string_view reason;
    };
    for (const auto& [bytes, reason] : std::vector<Case>{
             {"\xc2\x85", "a control character (U+0085)"},  // C1: next line
             {"\xc2\x9b", "a control character (U+009B)"},  // C1: CSI, a terminal escape in one character
             {"\x1b", "a control character (U+001B)"},
             {"\xe2\x80\xae", "a right-to-left override (U+202E), which is used to disguise file names"},
             {"\xe2\x80\xad", "a left-to-right override (U+202D), which is used to disguise file names"},
             {"\xe2\x80\xaa", "a bidirectional text control (U+202A)"},
             {"\xe2\x80\xab", "a bidirectional text control (U+202B)"},
             {"\xe2\x80\xac", "a bidirectional text control (U+202C)"},
             {"\xe2\x81\xa6", "a bidirectional text control (U+2066)"},
             {"\xe2\x81\xa7", "a bidirectional text control (U+2067)"},
             {"\xe2\x81\xa8", "a bidirectional text control (U+2068)"},
             {"\xe2\x81\xa9", "a bidirectional text control (U+2069)"},
             {"\xe2\x80\x8e", "a bidirectional text control (U+200E)"},
             {"\xe2\x80\x8f", "a bidirectional text control (U+200F)"},
             {"\xd8\x9c", "a bidirectional text control (U+061C)"},
             {"\xe2\x80\x8b", "a zero-width space (U+200B), which is invisible"},
             {"\xe2\x80\x8c", "a zero-width non-joiner (U+200C)"},
             {"\xe2\x80\x8d", "a zero-width joiner (U+200D)"},
             {"\xe2\x81\xa0", "a word joiner (U+2060)"},
             {"\xef\xbb\xbf", "a byte order mark (U+FEFF)"},
             {"\xc2\xad", "an invisible formatting character (U+00AD)"},  // soft hyphen
             {"\xe2\x80\xa8", "a line separator (U+2028)"},
             {"\xe2\x80\xa9", "a paragraph separator (U+2029)"},
             {"\xef\xb7\x90", "a noncharacter (U+FDD0)"},
             {"\xef\xb7\xaf", "a noncharacter (U+FDEF)"},
             {"\xef\xbf\xbe", "a noncharacter (U+FFFE)"},
             {"\xef\xbf\xbf", "a noncharacter (U+FFFF)"},
             {"\xf0\x9f\xbf\xbe", "a noncharacter (U+1FFFE)"},
             {"\xf4\x8f\xbf\xbf", "a noncharacter (U+10FFFF)"},
             {"\xcd\xb8", "a code point that Unicode has not assigned (U+0378)"},
             {"\xf3\xa0\x80\x80", "a code point that Unicode has not assigned (U+E0000)"},
         }) {
        CAPTURE(reason);
        std::string name = "IMG_0001" + bytes + ".jpg";
        auto v = check_name(name);
        REQUIRE_FALSE(v);
        CHECK(v.reason().starts_with("the name contains " + std::string(reason)));
        CHECK_FALSE(create_file(Layout::Albums, Level::Album, name).verdict);
        CHECK_FALSE(make_folder(Layout::Albums, Level::Job, "Album" + bytes).verdict);
    }
    CHECK(check_name("evil\xe2\x80\xaegpj.exe").reason() ==
          "the name contains a right-to-left override (U+202E), which is used to disguise file names");
}

TEST_CASE("a name that begins or ends with a space is refused: it would look like the name without it") {
    for (std::string name : {" Klasse 3a", "Klasse 3a ", " ", "Klasse 3a\xc2\xa0", "\xe3\x80\x80Klasse"}) {
        CAPTURE(name);
        auto v = check_name(name);
        REQUIRE_FALSE(v);
        CHECK(v.reason() == "the name begins or ends with a space, which cannot be seen: names that look the same would differ");
        CHECK_FALSE(make_folder(Layout::Albums, Level::Job, name).verdict);
    }
    CHECK(make_folder(Layout::Albums, Level::Job, "Klasse 3a").verdict);
    CHECK(create_file(Layout::Flat, Level::Job, "IMG 0001.jpg").verdict);
    CHECK(create_file(Layout::Flat, Level::Job, " IMG_0001.jpg").verdict.reason().find("space") != std::string::npos);
}

TEST_CASE("a name is at most 255 bytes in the form it is stored in") {
    // U+1D15E (a musical note, 4 bytes) has no composed form: NFC makes it 8 bytes.
    std::string note = "\xf0\x9d\x85\x9e";
    std::string name(251 - 4 * 30, 'a');
    for (int i = 0; i < 30; ++i) name += note;
    name += ".jpg";
    REQUIRE(name.size() == 255);
    auto v = check_name(name);
    CHECK_FALSE(v);
    CHECK(contains(v.reason(), "at most 255"));
}
