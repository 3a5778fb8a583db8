"""Nôm, honestly (issue #14): how much of a page of chữ Nôm the Hán engine reads, and how much of what it
cannot read it marks rather than passes off as something else.

Pages are rendered from the Nôm text of *Lục Vân Tiên* in ``../shared/data/text/luc-van-tien.nom.txt``
(one verse a column, eight columns a page, right to left) with Debian's Hanazono Mincho (HanaMinA for the
basic plane and Extension A, HanaMinB for Extension B and beyond; every glyph checked in the fonts' cmaps).
The file's 267 private-use code points come from a legacy Nôm font whose table we do not have: a verse that
holds one is left out (821 of 1,061 verses remain). Verses 1–400 are the development split, the rest the
test split; the marking rule (``digitize.han.mark_unread``) was set on the first only.

For every character of the truth, aligned with the reading (Levenshtein edit operations):

- **known**: in the recognition network's dictionary; its errors make the CER of known characters;
- **unknown** (mostly Nôm's own characters): *marked* when the reading has the unread mark 〓 or a
  character read with probability under 0.6 there (both put the page before a transcriber), *silent*
  otherwise — a deletion, or another character read with confidence: the errors a reader cannot see;
- **false marks**: an unread mark where no character of the truth is missing.

    .venv/bin/python bench/nom_quality.py --split test
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from PIL import Image, ImageDraw, ImageFont  # noqa: E402

NOM = REPO.parent / "shared" / "data" / "text" / "luc-van-tien.nom.txt"
FONTS = (Path("/usr/share/fonts/truetype/hanazono/HanaMinA.ttf"), Path("/usr/share/fonts/truetype/hanazono/HanaMinB.ttf"))
SIZE, STEP, COLUMN, PER_PAGE = 44, 56, 72, 8
DEV_VERSES = 400
LOW = 0.6


def private(ch: str) -> bool:
    code = ord(ch)
    return 0xE000 <= code <= 0xF8FF or code >= 0xF0000


def verses(split: str) -> list[str]:
    lines = [line.strip() for line in NOM.read_text(encoding="utf-8").splitlines() if line.strip()]
    chosen = lines[:DEV_VERSES] if split == "dev" else lines[DEV_VERSES:]
    return [v for v in chosen if not any(private(c) for c in v)]


def fonts():
    from fontTools.ttLib import TTFont

    return [(ImageFont.truetype(str(f), SIZE), set(TTFont(str(f)).getBestCmap())) for f in FONTS]


def render(columns: list[str], faces) -> Image.Image:
    width, height = 80 + COLUMN * len(columns), 80 + STEP * max(len(c) for c in columns)
    page = Image.new("RGB", (width, height), (250, 247, 240))
    draw = ImageDraw.Draw(page)
    for n, column in enumerate(columns):
        for k, ch in enumerate(column):
            face = next((f for f, cmap in faces if ord(ch) in cmap), None)
            if face is None:
                raise SystemExit(f"no glyph for {ch} (U+{ord(ch):04X}) in the Hanazono fonts")
            draw.text((width - 40 - COLUMN * (n + 1) + 10, 40 + STEP * k), ch, font=face, fill=(20, 20, 20))
    return page


def score(truth: str, glyphs, known: set[str]) -> dict[str, int]:
    """Counts for one column: known/known errors, unknown marked/silent."""
    from rapidfuzz.distance import Levenshtein

    from digitize.han import UNREAD

    read = "".join(g.text for g in glyphs)
    ops = Levenshtein.editops(truth, read)
    mapping: dict[int, int | None] = {}  # truth index → reading index (None: deleted)
    t = r = 0
    for op in list(ops) + [None]:
        src, dst = (op.src_pos, op.dest_pos) if op is not None else (len(truth), len(read))
        while t < src and r < dst:
            mapping[t] = r
            t += 1
            r += 1
        if op is None:
            break
        if op.tag == "replace":
            mapping[t] = r
            t += 1
            r += 1
        elif op.tag == "delete":
            mapping[t] = None
            t += 1
        else:
            r += 1
    out = {"known": 0, "known_errors": 0, "unknown": 0, "marked": 0, "silent": 0, "false_marks": 0}
    used = {j for j in mapping.values() if j is not None}
    out["false_marks"] = sum(1 for j, g in enumerate(glyphs) if g.text == UNREAD and j not in used)
    for i, ch in enumerate(truth):
        j = mapping.get(i)
        got = glyphs[j] if j is not None and j < len(glyphs) else None
        if ch in known:
            out["known"] += 1
            out["known_errors"] += int(got is None or got.text != ch)
        else:
            out["unknown"] += 1
            flagged = got is not None and (got.text == UNREAD or got.confidence < LOW)
            out["marked" if flagged else "silent"] += 1
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("dev", "test"), default="test")
    parser.add_argument("--pages", type=int, default=10)
    args = parser.parse_args(argv)
    from digitize import han

    faces = fonts()
    known = set(han._engine().text_recognizer.postprocess_op.character)
    chosen = verses(args.split)
    totals = {"known": 0, "known_errors": 0, "unknown": 0, "marked": 0, "silent": 0, "false_marks": 0}
    pages, cpu = 0, 0.0
    for start in range(0, min(len(chosen), args.pages * PER_PAGE), PER_PAGE):
        columns = chosen[start:start + PER_PAGE]
        image = render(columns, faces)
        before = time.process_time()
        reading = han.read_han(image)
        cpu += time.process_time() - before
        pages += 1
        # columns in reading order against the verses (a column the engine split or lost costs its verse)
        for truth, line in zip(columns, [ln for ln in reading.lines if ln.vertical]):
            for k, v in score(truth, line.glyphs, known).items():
                totals[k] += v
    unknown = max(totals["unknown"], 1)
    print(f"Nôm pages ({args.split} split): {pages} pages, {totals['known'] + totals['unknown']} characters, "
          f"CPU {cpu / max(pages, 1):.2f} s a page")
    print(f"  not in the network's dictionary: {totals['unknown']} "
          f"({totals['unknown'] / max(totals['known'] + totals['unknown'], 1):.1%})")
    print(f"  of those marked for a transcriber (〓 or probability < {LOW}): {totals['marked'] / unknown:.1%}; "
          f"silent (left out or read as another character with confidence): {totals['silent'] / unknown:.1%}")
    print(f"  marks where no character was missing: {totals['false_marks']}")
    print(f"  CER of the characters it knows: {totals['known_errors'] / max(totals['known'], 1):.2%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
