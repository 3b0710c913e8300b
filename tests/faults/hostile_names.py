"""The hostile-name corpus (hostile_names.txt) and the rules a test checks it
against: the name photodrop stores (NFC), and how its outputs show what a
client sent (text::shown of catalog/text.cpp, mirrored here)."""
import ast
import dataclasses
import unicodedata
from pathlib import Path

CORPUS = Path(__file__).with_name("hostile_names.txt")
PLACES = ("album", "section", "photo", "both")
VERDICTS = ("accept", "same", "refuse", "kernel")
NAME_MAX = 255


@dataclasses.dataclass
class Case:
    line: int
    place: str  # album, section or photo
    verdict: str  # accept, same, refuse or kernel
    sent: bytes  # the name as the client sends it
    stored: bytes = b""  # accept, same: the name photodrop keeps (and lists)
    reason: str = ""  # refuse: what the reason must contain

    def __str__(self):
        return "line %d (%s %s %r)" % (self.line, self.place, self.verdict, self.sent)


def _value(node):
    """A literal of the corpus: str/bytes constants, joined by + and repeated by *."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes, int)):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
        left, right = _value(node.left), _value(node.right)
        return left + right if isinstance(node.op, ast.Add) else left * right
    raise ValueError("not a literal of the corpus: %s" % ast.dump(node))


def _bytes(value):
    return value if isinstance(value, bytes) else value.encode("utf-8")


def nfc(name):
    return unicodedata.normalize("NFC", name.decode("utf-8")).encode("utf-8")


def load(path=CORPUS):
    """Every case of the corpus, a `both` line as an album and a photo (NAME.jpg)."""
    cases = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        place, verdict, rest = text.split(None, 2)
        if place not in PLACES or verdict not in VERDICTS:
            raise ValueError("line %d: unknown place or verdict: %s" % (number, text))
        tree = ast.parse(rest.strip(), mode="eval").body
        parts = [_value(e) for e in tree.elts] if isinstance(tree, ast.Tuple) else [_value(tree)]
        name, expected = _bytes(parts[0]), parts[1] if len(parts) > 1 else None
        for where in (("album", "photo") if place == "both" else (place,)):
            sent = name + b".jpg" if place == "both" and where == "photo" else name
            case = Case(number, where, verdict, sent)
            if verdict in ("accept", "same"):
                case.stored = _bytes(expected) if expected is not None and place != "both" else nfc(sent)
            elif verdict == "refuse":
                case.reason = expected or ""
            cases.append(case)
    return cases


# --- how photodrop shows what a client sent (text::shown) -----------------------------------

_REFUSED = {0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F, 0x061C,
            0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x2028, 0x2029,
            0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0}  # the last: default-ignorable, not Cf


def unsafe(ch):
    """Whether text::unsafe_character refuses `ch` (controls, bidi, invisible, noncharacters, unassigned)."""
    c = ord(ch)
    if c < 0x20 or c == 0x7F or 0x80 <= c <= 0x9F or c in _REFUSED:
        return True
    if 0xFDD0 <= c <= 0xFDEF or (c & 0xFFFE) == 0xFFFE:
        return True
    return unicodedata.category(ch) in ("Cf", "Cs", "Cn")


def _neighbour(chars, at, step, skip):
    at += step
    while 0 <= at < len(chars) and chars[at] is not None and skip(chars[at]):
        at += step
    return chars[at] if 0 <= at < len(chars) else None


def _is_mark(ch):
    return unicodedata.category(ch) in ("Mn", "Me") and not unsafe(ch)


def _extends_emoji(ch):
    return _is_mark(ch) or 0x1F3FB <= ord(ch) <= 0x1F3FF


def _arabic_letter(ch):
    return ch is not None and unicodedata.bidirectional(ch) == "AL" and unicodedata.category(ch) == "Lo"


def _emoji(ch):
    return ch is not None and unicodedata.category(ch) == "So" and ord(ch) >= 0x2000


def unsafe_at(chars, at):
    """unsafe() in context, as text::first_unsafe_character and text::shown decide: a joiner
    (U+200C, U+200D) right after a virama, a non-joiner between Arabic-script letters and a
    joiner between emoji are allowed. `chars`: the characters, None for a byte that is not UTF-8."""
    ch = chars[at]
    if ch in ("\u200c", "\u200d"):
        before = chars[at - 1] if at > 0 else None
        if before is not None and unicodedata.combining(before) == 9:
            return False
        if ch == "\u200c":
            if _arabic_letter(_neighbour(chars, at, -1, _is_mark)) and _arabic_letter(_neighbour(chars, at, 1, _is_mark)):
                return False
        elif _emoji(_neighbour(chars, at, -1, _extends_emoji)) and _emoji(_neighbour(chars, at, 1, _extends_emoji)):
            return False
    return unsafe(ch)


def _decode_one(data, at):
    """The character at `at` and its length; (None, 1) where no valid UTF-8 character starts."""
    lead = data[at]
    if lead < 0x80:
        return chr(lead), 1
    n = 2 if 0xC2 <= lead <= 0xDF else 3 if 0xE0 <= lead <= 0xEF else 4 if 0xF0 <= lead <= 0xF4 else 0
    if n == 0 or at + n > len(data):
        return None, 1
    try:
        return data[at:at + n].decode("utf-8"), n
    except UnicodeDecodeError:
        return None, 1


def valid_utf8(data):
    """text::valid_utf8: no overlong form, no surrogate, nothing past U+10FFFF."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def shown(data):
    """text::shown: `data` (bytes) as every photodrop output shows it."""
    chars, starts, at = [], [], 0
    while at < len(data):
        ch, n = _decode_one(data, at)
        chars.append(ch)
        starts.append(at)
        at += n
    out = []
    for i, ch in enumerate(chars):
        if ch is None:
            out.append("\\x%02X" % data[starts[i]])
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\t\n\r":
            out.append({"\t": "\\t", "\n": "\\n", "\r": "\\r"}[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\x%02X" % ord(ch))
        elif unsafe_at(chars, i):
            out.append("\\u{%X}" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


def raw_controls(output):
    """What an operator's terminal must not receive raw, found in `output` (bytes): bytes
    that are not UTF-8, and every character text::shown escapes but a line break."""
    try:
        text = output.decode("utf-8")
    except UnicodeDecodeError as e:
        return ["not UTF-8 at byte %d: %r" % (e.start, output[max(0, e.start - 40):e.start + 40])]
    found, chars = [], list(text)
    for at, ch in enumerate(chars):
        if ch != "\n" and unsafe_at(chars, at):
            found.append("U+%04X in %r" % (ord(ch), text[max(0, at - 40):at + 40]))
    return found
