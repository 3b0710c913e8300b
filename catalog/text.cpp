#include "catalog/text.hpp"

#include <fmt/format.h>
#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

namespace photodrop::text {

namespace {

// One character of `s` at `at`: its code point and length, or a negative length when the byte there starts no valid one.
struct Decoded {
    char32_t c = 0;
    utf8proc_ssize_t length = -1;
};

Decoded decode(std::string_view s, size_t at) {
    utf8proc_int32_t c = 0;
    auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + at),
                              static_cast<utf8proc_ssize_t>(s.size() - at), &c);
    return n > 0 ? Decoded{static_cast<char32_t>(c), n} : Decoded{};
}

// What an unsafe character is, and why that matters (empty when its name says it).
struct Unsafe {
    std::string_view what;
    std::string_view why;
};

constexpr std::string_view disguises = "which is used to disguise file names";
constexpr std::string_view invisible = "which is invisible, so that names that look the same would differ";

std::optional<Unsafe> classify(char32_t c) {
    if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f)) return Unsafe{"a control character", {}};
    switch (c) {
        case 0x202e: return Unsafe{"a right-to-left override", disguises};
        case 0x202d: return Unsafe{"a left-to-right override", disguises};
        case 0x202a:
        case 0x202b:
        case 0x202c:
        case 0x2066:
        case 0x2067:
        case 0x2068:
        case 0x2069:
        case 0x200e:
        case 0x200f:
        case 0x061c: return Unsafe{"a bidirectional text control", "which can make a name show in another order than it has"};
        case 0x200b: return Unsafe{"a zero-width space", invisible};
        case 0x200c: return Unsafe{"a zero-width non-joiner", invisible};
        case 0x200d: return Unsafe{"a zero-width joiner", invisible};
        case 0x2060: return Unsafe{"a word joiner", invisible};
        case 0xfeff: return Unsafe{"a byte order mark", invisible};
        case 0x2028: return Unsafe{"a line separator", "which breaks a name into lines"};
        case 0x2029: return Unsafe{"a paragraph separator", "which breaks a name into lines"};
        default: break;
    }
    if ((c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe)
        return Unsafe{"a noncharacter", "which Unicode keeps for programs' internal use"};
    auto category = utf8proc_category(static_cast<utf8proc_int32_t>(c));
    // Default-ignorable characters show as nothing (a grapheme joiner, Hangul fillers);
    // variation selectors choose a glyph (an emoji's colour form, a Mongolian letter's shape).
    bool variation_selector = (c >= 0xfe00 && c <= 0xfe0f) || (c >= 0xe0100 && c <= 0xe01ef) ||
                              (c >= 0x180b && c <= 0x180d) || c == 0x180f;
    if (category != UTF8PROC_CATEGORY_CF && !variation_selector &&
        utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->ignorable)
        return Unsafe{"an invisible character", invisible};
    switch (category) {
        case UTF8PROC_CATEGORY_CF: return Unsafe{"an invisible formatting character", invisible};
        case UTF8PROC_CATEGORY_CS: return Unsafe{"a surrogate", "which is not a character"};
        case UTF8PROC_CATEGORY_CN: return Unsafe{"a code point that Unicode has not assigned", "which may show as anything"};
        default: return std::nullopt;
    }
}

const utf8proc_property_t& property(char32_t c) { return *utf8proc_get_property(static_cast<utf8proc_int32_t>(c)); }

// The character of `s` that ends at `end`, skipping those `skip` says to; c == 0 when there is none.
template <class Skip>
char32_t before(std::string_view s, size_t end, Skip skip) {
    while (end > 0) {
        size_t start = end - 1;
        while (start > 0 && end - start < 4 && (static_cast<unsigned char>(s[start]) & 0xc0) == 0x80) --start;
        auto d = decode(s, start);
        if (d.length < 0 || start + static_cast<size_t>(d.length) != end) return 0;  // invalid bytes end there
        if (!skip(d.c)) return d.c;
        end = start;
    }
    return 0;
}

// The character of `s` that starts at `at`, skipping those `skip` says to; c == 0 when there is none.
template <class Skip>
char32_t after(std::string_view s, size_t at, Skip skip) {
    while (at < s.size()) {
        auto d = decode(s, at);
        if (d.length < 0) return 0;
        if (!skip(d.c)) return d.c;
        at += static_cast<size_t>(d.length);
    }
    return 0;
}

// The characters skipped to find a joiner's neighbours: never one that is refused (and
// shown escaped), so that a joiner that stands in context still does in what shown() returns.
bool is_mark(char32_t c) {
    auto category = property(c).category;
    return (category == UTF8PROC_CATEGORY_MN || category == UTF8PROC_CATEGORY_ME) && !classify(c);
}
bool is_arabic_letter(char32_t c) {
    return c != 0 && property(c).bidi_class == UTF8PROC_BIDI_CLASS_AL && property(c).category == UTF8PROC_CATEGORY_LO;
}
bool is_emoji(char32_t c) { return c != 0 && property(c).boundclass == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC; }
bool extends_emoji(char32_t c) {  // VS16, skin tones
    return property(c).boundclass == UTF8PROC_BOUNDCLASS_EXTEND && !classify(c);
}
bool never(char32_t) { return false; }

// Whether the joiner `c` (U+200C or U+200D) spanning [at, end) of `s` stands where a
// script needs one: right after a virama (Devanagari क्‍ष, Malayalam ന്‍: RFC 5892's
// CONTEXTJ rule); a non-joiner between Arabic-script letters (Persian می‌خواهم: the
// same rule, with the bidirectional class standing in for Unicode's joining type);
// a joiner between emoji (👩‍👩‍👧, 🏳️‍🌈: UTS #51's ZWJ sequences). Elsewhere it
// is invisible and only makes names that look the same differ.
bool joiner_needed(std::string_view s, size_t at, size_t end, char32_t c) {
    if (char32_t prev = before(s, at, never); prev != 0 && property(prev).combining_class == 9) return true;
    if (c == 0x200c) return is_arabic_letter(before(s, at, is_mark)) && is_arabic_letter(after(s, end, is_mark));
    return is_emoji(before(s, at, extends_emoji)) && is_emoji(after(s, end, extends_emoji));
}

// Why the character `d` at `at` of `s` may not stand there; nullopt when it may.
std::optional<Unsafe> classify_at(std::string_view s, size_t at, const Decoded& d) {
    if ((d.c == 0x200c || d.c == 0x200d) && joiner_needed(s, at, at + static_cast<size_t>(d.length), d.c))
        return std::nullopt;
    return classify(d.c);
}

std::string described(char32_t c, const Unsafe& u) {
    auto code = fmt::format("U+{:04X}", static_cast<uint32_t>(c));
    return u.why.empty() ? fmt::format("{} ({})", u.what, code) : fmt::format("{} ({}), {}", u.what, code, u.why);
}

}  // namespace

bool valid_utf8(std::string_view s) {
    for (size_t at = 0; at < s.size();) {
        auto d = decode(s, at);
        if (d.length < 0) return false;
        at += static_cast<size_t>(d.length);
    }
    return true;
}

std::optional<std::string> unsafe_character(char32_t c) {
    auto u = classify(c);
    if (!u) return std::nullopt;
    return described(c, *u);
}

std::optional<std::string> first_unsafe_character(std::string_view s) {
    for (size_t at = 0; at < s.size();) {
        auto d = decode(s, at);
        if (d.length < 0) return std::nullopt;  // not this function's question
        if (auto u = classify_at(s, at, d)) return described(d.c, *u);
        at += static_cast<size_t>(d.length);
    }
    return std::nullopt;
}

bool starts_or_ends_with_space(std::string_view s) {
    if (s.empty()) return false;
    auto is_space = [](char32_t c) { return c != 0 && property(c).category == UTF8PROC_CATEGORY_ZS; };
    return is_space(after(s, 0, never)) || is_space(before(s, s.size(), never));
}

std::optional<std::string> nfc(std::string_view s) {
    // ASCII is NFC already: most names, and every lookup of them, need no work.
    if (std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
        return std::string(s);
    utf8proc_uint8_t* out = nullptr;
    // The options of utf8proc_NFC, with an explicit length.
    auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()), static_cast<utf8proc_ssize_t>(s.size()),
                          &out, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(out, &std::free);
    if (n < 0) {
        if (n == UTF8PROC_ERROR_NOMEM) throw std::bad_alloc();
        return std::nullopt;
    }
    return std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
}

std::string shown(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t at = 0; at < s.size();) {
        auto d = decode(s, at);
        if (d.length < 0) {
            out += fmt::format("\\x{:02X}", static_cast<unsigned char>(s[at]));
            ++at;
            continue;
        }
        auto length = static_cast<size_t>(d.length);
        if (d.c == '\\') out += "\\\\";
        else if (d.c == '\t') out += "\\t";
        else if (d.c == '\n') out += "\\n";
        else if (d.c == '\r') out += "\\r";
        else if (d.c < 0x20 || d.c == 0x7f) out += fmt::format("\\x{:02X}", static_cast<uint32_t>(d.c));
        else if (classify_at(s, at, d)) out += fmt::format("\\u{{{:X}}}", static_cast<uint32_t>(d.c));
        else out.append(s.substr(at, length));
        at += length;
    }
    return out;
}

}  // namespace photodrop::text
