"""UNLV zone files (``p1.uzn`` beside ``p1.tif``): layout hints for OCR, read and checked against the page."""

from __future__ import annotations

from pathlib import Path

from library.errors import InputRejected, LimitExceeded

__all__ = ["MAX_ZONES", "read_zone_file"]

MAX_ZONES = 500


def read_zone_file(path: Path, *, label: str, width: int, height: int) -> tuple[tuple[int, int, int, int], ...]:
    """Zones of a UNLV ``.uzn`` file (``x y w h Type`` per line, pixels), checked
    against the page's size. Raises :class:`InputRejected` naming the line."""
    try:
        raw = path.read_bytes()[: 200_000].decode("ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputRejected(label, f"not a UNLV zone file ({exc})") from None
    zones = []
    for n, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        try:
            x, y, w, h = (int(v) for v in parts[:4])
        except ValueError:
            raise InputRejected(label, f"line {n}: expected 'x y width height type', got {line[:60]!r}") from None
        if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > width or y + h > height:
            raise InputRejected(label, f"line {n}: zone {x} {y} {w} {h} lies outside the {width}×{height} page")
        zones.append((x, y, w, h))
        if len(zones) > MAX_ZONES:
            raise LimitExceeded(label, f"more than {MAX_ZONES} zones")
    if not zones:
        raise InputRejected(label, "the zone file lists no zones")
    return tuple(zones)
