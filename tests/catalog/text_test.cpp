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

TEST_CASE("a zero-width joiner or non-joiner is allowed where a script needs one, and refused elsewhere") {
    // Needed: Persian and Urdu words (a non-joiner between Arabic-script letters), Indic
    // conjuncts (after a virama), emoji ZWJ sequences (a family, a rainbow flag, a skin tone).
    for (std::string name : {
             "\xd9\x85\xdb\x8c\xe2\x80\x8c\xd8\xae\xd9\x88\xd8\xa7\xd9\x87\xd9\x85",  // می‌خواهم
             "\xd9\x86\xd9\x90\xe2\x80\x8c\xd8\xa7",                                // a non-joiner after a vowel mark (skipped)
             "\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8d\xe0\xa4\xb7",                    // क्‍ष
             "\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8c\xe0\xa4\xb7",                    // क्‌ष
             "\xe0\xb4\xa8\xe0\xb5\x8d\xe2\x80\x8d",                                // ന്‍ (Malayalam chillu, old form)
             "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7",  // 👩‍👩‍👧
             "\xf0\x9f\x8f\xb3\xef\xb8\x8f\xe2\x80\x8d\xf0\x9f\x8c\x88",                  // 🏳️‍🌈 (with VS16)
             "\xf0\x9f\x91\xa8\xf0\x9f\x8f\xbd\xe2\x80\x8d\xf0\x9f\x92\xbb",              // 👨🏽‍💻 (with a skin tone)
         }) {
        CAPTURE(text::shown(name));
        CHECK_FALSE(text::first_unsafe_character(name));
        CHECK(text::shown(name) == name);
    }
    // Elsewhere they are invisible: refused, and shown escaped.
    for (std::string name : {
             "ab\xe2\x80\x8c" "cd",                                       // between Latin letters
             "\xe2\x80\x8d\xf0\x9f\x91\xa9",                              // at the start
             "\xf0\x9f\x91\xa9\xe2\x80\x8d",                              // at the end
             "\xf0\x9f\x91\xa9\xe2\x80\x8dx",                             // an emoji, then a letter
             "\xf0\x9f\x91\xa9\xe2\x80\x8d\xe2\x80\x8d\xf0\x9f\x91\xa9",  // two joiners
             "\xd9\x85\xdb\x8c\xe2\x80\x8c \xd8\xae",                     // an Arabic letter, then a space
             "\xd9\x85\xe2\x80\x8d\xd8\xae",                              // a joiner (not a non-joiner) between Arabic letters
             "a\xcc\x81\xe2\x80\x8c" "b",                                 // after a combining mark that is no virama
             "\xf0\x9f\x91\xa9\xe2\x80\x8c\xe2\x80\x8d\xf0\x9f\x91\xa7",  // a joiner after a refused non-joiner (found by fuzz_names)
         }) {
        CAPTURE(text::shown(name));
        auto why = text::first_unsafe_character(name);
        REQUIRE(why);
        CHECK(why->find("joiner") != std::string::npos);
        CHECK(text::shown(name).find("\\u{200") != std::string::npos);
    }
    // A refused character is no context either: what shown() returns stands on its own.
    CHECK(text::shown("\xf0\x9f\x91\xa9\xe2\x80\x8c\xe2\x80\x8d\xf0\x9f\x91\xa7") ==
          "\xf0\x9f\x91\xa9\\u{200C}\\u{200D}\xf0\x9f\x91\xa7");
    // Bytes that are not UTF-8 are no context: an emoji's last three bytes repeated are not an emoji (found by fuzz_names).
    CHECK(text::shown("\xf0\x9f\x91\xa9\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa9") ==
          "\xf0\x9f\x91\xa9\\x9F\\x91\\xA9\\u{200D}\xf0\x9f\x91\xa9");
    // Without its context a joiner is never safe.
    CHECK(text::unsafe_character(0x200d));
    CHECK(text::unsafe_character(0x200c));
}

TEST_CASE("characters that show as nothing are refused; variation selectors, which choose a glyph, are not") {
    for (char32_t c : {U'\u034f', U'\u3164', U'\u115f', U'\u1160', U'\uffa0'}) {
        CAPTURE(static_cast<uint32_t>(c));
        auto why = text::unsafe_character(c);
        REQUIRE(why);
        CHECK(why->starts_with("an invisible character"));
    }
    CHECK_FALSE(text::first_unsafe_character("\xe2\x9d\xa4\xef\xb8\x8f"));  // ❤️: a heart and VS16
    CHECK_FALSE(text::first_unsafe_character("\xe1\xa0\xa0\xe1\xa0\x8b"));  // a Mongolian letter and a free variation selector
    CHECK(text::shown("hangul\xe3\x85\xa4" "filler") == "hangul\\u{3164}filler");
}

TEST_CASE("a space at either end of a name, which cannot be seen") {
    CHECK(text::starts_or_ends_with_space(" leading"));
    CHECK(text::starts_or_ends_with_space("trailing "));
    CHECK(text::starts_or_ends_with_space(" "));
    CHECK(text::starts_or_ends_with_space("no-break\xc2\xa0"));       // U+00A0
    CHECK(text::starts_or_ends_with_space("\xe3\x80\x80ideographic"));  // U+3000
    CHECK_FALSE(text::starts_or_ends_with_space("Klasse 3a"));
    CHECK_FALSE(text::starts_or_ends_with_space("Klasse\xc2\xa0" "3a"));
    CHECK_FALSE(text::starts_or_ends_with_space(""));
}
