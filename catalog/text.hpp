#pragma once
// Text that a client sent (file and folder names, and reasons that quote
// them), shared by every program: which characters a name may not hold, the
// one form names are stored and compared in, and how such text is shown.
//
// The rule: the catalog keeps what a client sent, byte for byte; every output
// (a photodropctl table or JSON document, a log line) shows it through shown().

#include <optional>
#include <string>
#include <string_view>

namespace photodrop::text {

// Whether `s` is well-formed UTF-8 (no overlong forms, no surrogates).
bool valid_utf8(std::string_view s);

// Why `c` may not stand in a name, in words for a person ("a right-to-left
// override (U+202E), which is used to disguise file names"); nullopt when it
// may. Refused: controls (C0, C1), bidirectional controls, zero-width and
// other invisible formatting characters, default-ignorable characters but
// variation selectors (a grapheme joiner, Hangul fillers), line and paragraph separators,
// noncharacters, and code points Unicode has not assigned (as of the Unicode
// version of libutf8proc). Private-use characters are allowed: SMB clients
// map the characters Windows forbids (: * ? " < > |) to them, and they can
// neither hide nor reorder text.
std::optional<std::string> unsafe_character(char32_t c);

// The first character of `s` that unsafe_character() refuses, described as
// it does; nullopt when there is none. `s` must be valid UTF-8. In context, a
// zero-width joiner or non-joiner is allowed where a script needs one: after a
// virama (Indic scripts), a non-joiner between Arabic-script letters (Persian,
// Urdu), a joiner between emoji (emoji ZWJ sequences such as a family).
std::optional<std::string> first_unsafe_character(std::string_view s);

// Whether `s` begins or ends with a space character (U+0020, a no-break space,
// an ideographic space: Unicode's Zs). `s` must be valid UTF-8.
bool starts_or_ends_with_space(std::string_view s);

// `s` in Unicode Normalization Form C (what Windows and Linux clients send;
// macOS sends NFD): the form in which names are stored and compared.
// nullopt when `s` is not valid UTF-8.
std::optional<std::string> nfc(std::string_view s);

// `s` as it may be shown to a person or a program: each byte that is not
// valid UTF-8 as \xNN, a tab, newline or carriage return as \t \n \r, other
// ASCII controls as \xNN, every other character that unsafe_character()
// refuses (in context, as first_unsafe_character() does) as \u{202E} (its code point in hex), and a backslash as \\, so that what is shown cannot
// move a terminal's cursor, forge a log line or break a JSON encoder, and
// reads back unambiguously. Text with none of these is returned unchanged.
std::string shown(std::string_view s);

}  // namespace photodrop::text
