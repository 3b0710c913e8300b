#include "catalog/text.hpp"

#include <doctest/doctest.h>

using namespace photodrop;

TEST_CASE("text is shown with what could hurt a terminal, a log or a JSON encoder escaped, and nothing else") {
    CHECK(text::shown("Klasse 3\xc3\xa4/IMG_0001.jpg") == "Klasse 3\xc3\xa4/IMG_0001.jpg");
    CHECK(text::shown("\xf0\x9f\x93\xb7 \xe4\xb8\x89\xe5\xb9\xb4") == "\xf0\x9f\x93\xb7 \xe4\xb8\x89\xe5\xb9\xb4");
    CHECK(text::shown("a\nb\rc\td") == "a\\nb\\rc\\td");
    CHECK(text::shown("\x1b[31mred") == "\\x1B[31mred");
    CHECK(text::shown(std::string("nul\0end", 7)) == "nul\\x00end");
    CHECK(text::shown("del\x7f") == "del\\x7F");
    CHECK(text::shown("bad\xff\xc3") == "bad\\xFF\\xC3");          // invalid, and cut short
    CHECK(text::shown("over\xc0\xaf") == "over\\xC0\\xAF");        // an overlong '/'
    CHECK(text::shown("sur\xed\xa0\x80") == "sur\\xED\\xA0\\x80");  // a surrogate
    CHECK(text::shown("csi\xc2\x9b" "31m") == "csi\\u{9B}31m");
    CHECK(text::shown("evil\xe2\x80\xaegpj.exe") == "evil\\u{202E}gpj.exe");
    CHECK(text::shown("zw\xe2\x80\x8bsp\xef\xbb\xbf") == "zw\\u{200B}sp\\u{FEFF}");
    CHECK(text::shown("line\xe2\x80\xa8sep") == "line\\u{2028}sep");
    CHECK(text::shown("non\xef\xbf\xbf") == "non\\u{FFFF}");
    CHECK(text::shown("back\\slash") == "back\\\\slash");  // so that what is shown reads back one way
}

TEST_CASE("NFC: one form for names that look the same") {
    CHECK(text::nfc("Klasse 3a\xcc\x88") == "Klasse 3\xc3\xa4");
    CHECK(text::nfc("Klasse 3\xc3\xa4") == "Klasse 3\xc3\xa4");
    CHECK(text::nfc("plain ascii") == "plain ascii");
    CHECK(text::nfc("") == "");
    CHECK_FALSE(text::nfc("bad\xff"));
    CHECK(text::nfc("\xe2\x84\xab") == "\xc3\x85");  // the Angstrom sign is the letter Å
    CHECK(text::nfc("\xef\xac\x81") == "\xef\xac\x81");  // NFC, not NFKC: the ligature fi stays
}

TEST_CASE("valid UTF-8 and the characters a name may not hold") {
    CHECK(text::valid_utf8("Klasse 3\xc3\xa4"));
    CHECK_FALSE(text::valid_utf8("\xc0\xaf"));
    CHECK_FALSE(text::valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
    CHECK(text::unsafe_character(U'\u202E') ==
          "a right-to-left override (U+202E), which is used to disguise file names");
    CHECK(text::unsafe_character(U'\u0085') == "a control character (U+0085)");
    CHECK_FALSE(text::unsafe_character(U'a'));
    CHECK_FALSE(text::unsafe_character(U'\uE000'));  // private use: allowed
    CHECK_FALSE(text::unsafe_character(U'\u00A0'));  // a no-break space shows as a space
    CHECK(text::first_unsafe_character("ok\xe2\x80\x8b") == "a zero-width space (U+200B), which is invisible, so "
                                                            "that names that look the same would differ");
    CHECK_FALSE(text::first_unsafe_character("ok"));
}
