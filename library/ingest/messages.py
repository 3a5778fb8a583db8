"""How sizes, pixel counts and a library's errors are worded in the problems shown to librarians."""

from __future__ import annotations

from library.ingest.filenames import display_label


def _fmt_bytes(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def _fmt_pixels(n: int) -> str:
    return f"{n / 1e6:,.1f} million pixels" if n >= 1_000_000 else f"{n:,} pixels"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    text = display_label(text.replace("\n", " "))
    return text
