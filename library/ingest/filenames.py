"""File names as uploads give them: checked for characters that could deceive
a reader or break a file system, and shortened into labels safe to show."""

from __future__ import annotations

import unicodedata

_JUNK_NAMES = {"__macosx", "thumbs.db", "ehthumbs.db", "desktop.ini", "$recycle.bin", "system volume information"}
_BIDI_CONTROLS = {
    "\u061c": "ARABIC LETTER MARK",
    "\u200e": "LEFT-TO-RIGHT MARK",
    "\u200f": "RIGHT-TO-LEFT MARK",
    "\u202a": "LEFT-TO-RIGHT EMBEDDING",
    "\u202b": "RIGHT-TO-LEFT EMBEDDING",
    "\u202c": "POP DIRECTIONAL FORMATTING",
    "\u202d": "LEFT-TO-RIGHT OVERRIDE",
    "\u202e": "RIGHT-TO-LEFT OVERRIDE",
    "\u2066": "LEFT-TO-RIGHT ISOLATE",
    "\u2067": "RIGHT-TO-LEFT ISOLATE",
    "\u2068": "FIRST STRONG ISOLATE",
    "\u2069": "POP DIRECTIONAL ISOLATE",
}
_CONTROL_NAMES = {"\x00": "NUL", "\t": "TAB", "\n": "LINE FEED", "\r": "CARRIAGE RETURN", "\x1b": "ESCAPE", "\x7f": "DELETE"}
_MAX_NAME_BYTES = 255  # per path component, UTF-8, as on every common file system
_LABEL_CHARS = 120


def _is_unsafe_char(c: str) -> bool:
    return c in _BIDI_CONTROLS or unicodedata.category(c) in ("Cc", "Cs")


def first_unsafe_char(text: str, *, allow: str = "") -> str | None:
    """The first control character, text-direction control or undecodable
    byte in ``text`` (other than those in ``allow``), or ``None``."""
    for c in text:
        if c not in allow and _is_unsafe_char(c):
            return c
    return None


def describe_char(c: str) -> str:
    """``U+202E RIGHT-TO-LEFT OVERRIDE``: a character named for a message."""
    name = _BIDI_CONTROLS.get(c) or _CONTROL_NAMES.get(c) or unicodedata.name(c, "")
    if unicodedata.category(c) == "Cs":
        name = "an undecodable byte"
    return f"U+{ord(c):04X} {name}".rstrip()


def display_label(name: str) -> str:
    """``name`` made safe to show in a message or a log line: control and
    text-direction characters are written as escapes (``\\n``, ``\\u202e``) and
    a very long name is cut short with ``…``."""
    out = []
    for c in name:
        if c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif unicodedata.category(c) == "Cs":  # from os.fsdecode of a non-UTF-8 byte
            out.append(f"\\x{ord(c) - 0xDC00:02x}")
        elif _is_unsafe_char(c):
            out.append(f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
        else:
            out.append(c)
    label = "".join(out)
    if len(label) > _LABEL_CHARS:
        label = label[: _LABEL_CHARS - 1] + "…"
    return label or "(no name)"


def name_problem(name: str) -> str | None:
    """What is wrong with a display name, or ``None`` when it is acceptable.

    ``name`` may hold ``/``-separated folders (``folder/p2.tif``); each part is
    checked. Refused: an empty name; a control character (NUL, line feed …);
    an invisible text-direction control such as U+202E, which can make
    ``photo‮gpj.exe`` look like ``photoexe.jpg``; a part longer than 255 bytes
    in UTF-8; a part that is only dots. Path traversal is a zip matter and is
    checked there.
    """
    if not name:
        return "the file name is empty"
    for c in name:
        if unicodedata.category(c) == "Cs":
            return "the file name is not valid UTF-8 text; rename the file"
        if c in _BIDI_CONTROLS:
            return (
                f"the file name contains an invisible text-direction control ({describe_char(c)}), "
                "which can disguise a file's real type; rename the file"
            )
        if unicodedata.category(c) == "Cc":
            return f"the file name contains a control character ({describe_char(c)}); rename the file"
    for part in name.split("/"):
        size = len(part.encode("utf-8"))
        if size > _MAX_NAME_BYTES:
            return f"the file name is {size} bytes long; names may be at most {_MAX_NAME_BYTES} bytes (UTF-8); rename the file"
        if part and set(part) == {"."}:
            return f"the file name '{part}' is only dots; rename the file"
    return None


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _is_junk(part: str) -> bool:
    return part.startswith(".") or part.casefold() in _JUNK_NAMES
