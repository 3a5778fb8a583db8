"""Vietnamese post-correction (``digitize.postcorrect``): what it fixes, what it breaks, what it costs.

Pages: the project's own held-out prose (``bench/postcorrect_texts/``:
``dev.txt`` for tuning, ``test.txt`` for reporting; neither is in the
lexicon, and neither is the Lục Vân Tiên text or the hard page set), drawn
with ``digitize.synthetic`` in three faces (FreeSerif, Noto Serif, DejaVu
Sans; 12 pt, 6 × 8.5 in pages, a stub last page left out) and spoilt at a few
levels so that tesseract makes mistakes, then read in-process with tesserocr (``-l vie``, psm 3, one thread,
``lstm_choice_mode=2`` for the alternatives).

Figures per degradation level (micro-averaged over pages):

- CER and WER of the raw reading and of the corrected one (NFC, white space
  folded; WER on white-space tokens);
- the share of words (tokens with a letter) that are valid Vietnamese or
  foreign rather than broken Vietnamese, before and after;
- words changed: right (now equal to the truth), wrong (the raw word was
  right), other (was wrong, still wrong), using a word alignment of the raw
  reading to the truth;
- time per page: tesseract with alternatives, tesseract without them (the
  plain cost), and the correction, with its share of the plain tesseract time.

    .venv/bin/python bench/postcorrect.py [--split dev|test] [--pages N] [--levels clean,soft,blurred] [--show]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from rapidfuzz.distance import Levenshtein  # noqa: E402

from digitize.postcorrect import (  # noqa: E402
    LSTM_CHOICE_VARIABLES,
    WordReading,
    correct_words,
    load_syllable_model,
    page_words_with_choices,
)
from digitize.quality import comparable_text  # noqa: E402
from digitize.synthetic import FONT_DIRS, render_document  # noqa: E402
from digitize.vietnamese import token_kind  # noqa: E402

TEXTS = REPO / "bench" / "postcorrect_texts"
TESSDATA = "/usr/share/tesseract-ocr/5/tessdata/"

# Three faces with every Vietnamese glyph (Debian: fonts-freefont-ttf, fonts-noto-core,
# fonts-dejavu-core); tesseract's mistakes differ by face, FreeSerif (Times-like) most.
FONTS = ("FreeSerif.ttf", "NotoSerif-Regular.ttf", "DejaVuSans.ttf")
MIN_PAGE_CHARS = 300  # a stub last page (one line) is left out: tesseract often loses it whole

LEVELS: dict[str, dict] = {
    # a perfect render: the corrector must change nothing here
    "clean": {},
    # an ordinary office scan
    "scan": {"skew_deg": 0.8, "blur_radius": 1.0, "noise_sigma": 12.0, "jpeg_quality": 80},
    # soft focus, grain, 120 dpi: a few mark confusions per page
    "soft": {"blur_radius": 1.5, "noise_sigma": 20.0, "dpi": 120},
    # more blur and grain at 110 dpi: marks run together
    "blurred": {"blur_radius": 1.8, "noise_sigma": 25.0, "dpi": 110},
    # 100 dpi and heavy blur: many words broken
    "rough": {"blur_radius": 2.0, "noise_sigma": 22.0, "dpi": 100},
}


@dataclass
class Tally:
    pages: int = 0
    truth_chars: int = 0
    truth_words: int = 0
    char_edits_before: int = 0
    char_edits_after: int = 0
    word_edits_before: int = 0
    word_edits_after: int = 0
    words: int = 0
    broken_before: int = 0
    broken_after: int = 0
    changed: int = 0
    right: int = 0
    wrong: int = 0
    other: int = 0
    flagged: int = 0
    tesseract_s: float = 0.0
    tesseract_plain_s: float = 0.0
    correct_s: float = 0.0
    examples: list[str] = field(default_factory=list)


def read_page_words(api, image, dpi: float):
    """Recognise ``image`` and return its words with alternatives, and the seconds it took."""
    api.SetImage(image)
    api.SetSourceResolution(int(dpi))
    start = time.perf_counter()
    api.Recognize()
    elapsed = time.perf_counter() - start
    return page_words_with_choices(api), elapsed


def plain_seconds(plain_api, image, dpi: float) -> float:
    plain_api.SetImage(image)
    plain_api.SetSourceResolution(int(dpi))
    start = time.perf_counter()
    plain_api.Recognize()
    return time.perf_counter() - start


def align_words(ocr: list[str], truth: list[str]) -> dict[int, str]:
    """OCR word index → the truth word it stands for (1:1 parts of the alignment)."""
    mapping: dict[int, str] = {}
    for tag, a0, a1, b0, b1 in Levenshtein.opcodes(ocr, truth):
        if tag in ("equal", "replace") and a1 - a0 == b1 - b0:
            for offset in range(a1 - a0):
                mapping[a0 + offset] = truth[b0 + offset]
    return mapping


def is_broken(word: str) -> bool:
    return token_kind(word) == "broken"


def find_font(name: str) -> Path:
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return folder / name
    raise SystemExit(f"font {name} not found in {', '.join(map(str, FONT_DIRS))}")


def measure(split: str, levels: list[str], pages: int | None, show: bool) -> dict[str, Tally]:
    import tesserocr

    text = (TEXTS / f"{split}.txt").read_text(encoding="utf-8")
    fonts = [find_font(name) for name in FONTS]
    start = time.perf_counter()
    model = load_syllable_model()
    correct_words([WordReading("khởi", 50.0), WordReading("tiéng", 50.0)], model=model)  # builds the rule tables
    print(f"set-up, once per process: {1000 * (time.perf_counter() - start):.0f} ms (lexicon and syllable tables)")
    tallies: dict[str, Tally] = {}
    with tesserocr.PyTessBaseAPI(path=TESSDATA, lang="vie") as api, tesserocr.PyTessBaseAPI(
        path=TESSDATA, lang="vie"
    ) as plain_api:
        for name, value in LSTM_CHOICE_VARIABLES.items():
            api.SetVariable(name, value)
        for level in levels:
            tally = tallies.setdefault(level, Tally())
            degradation = LEVELS[level] or None
            rendered = [
                page
                for font in fonts
                for page in render_document(text, degradation=degradation, pages=pages, seed=7, font_path=font)
                if len(page.text) >= MIN_PAGE_CHARS
            ]
            for page in rendered:
                words, tess_s = read_page_words(api, page.image, page.dpi)
                plain_s = plain_seconds(plain_api, page.image, page.dpi)
                start = time.perf_counter()
                corrected = correct_words(words, model=model)
                correct_s = time.perf_counter() - start

                raw = [w.text for w in words]
                new = [c.text for c in corrected]
                truth_text = comparable_text(page.text)
                truth = truth_text.split()
                tally.pages += 1
                tally.truth_chars += len(truth_text)
                tally.truth_words += len(truth)
                tally.char_edits_before += Levenshtein.distance(comparable_text(" ".join(raw)), truth_text)
                tally.char_edits_after += Levenshtein.distance(comparable_text(" ".join(new)), truth_text)
                tally.word_edits_before += Levenshtein.distance(raw, truth)
                tally.word_edits_after += Levenshtein.distance(new, truth)
                lettered = [i for i, w in enumerate(raw) if any(c.isalpha() for c in w)]
                tally.words += len(lettered)
                tally.broken_before += sum(is_broken(raw[i]) for i in lettered)
                tally.broken_after += sum(is_broken(new[i]) for i in lettered)
                tally.flagged += sum(c.flagged for c in corrected)
                tally.tesseract_s += tess_s
                tally.tesseract_plain_s += plain_s
                tally.correct_s += correct_s
                mapping = align_words(raw, truth)
                for i, c in enumerate(corrected):
                    if not c.changed:
                        continue
                    tally.changed += 1
                    target = mapping.get(i)
                    if target is not None and c.text == target:
                        tally.right += 1
                        verdict = "right"
                    elif target is not None and c.original == target:
                        tally.wrong += 1
                        verdict = "WRONG"
                    else:
                        tally.other += 1
                        verdict = "other"
                    tally.examples.append(
                        f"{verdict:5} {c.original!r} → {c.text!r} (truth {target!r}, "
                        f"conf {c.confidence:.0f}, {c.reason})"
                    )
                if show:
                    for i, w in enumerate(raw):
                        target = mapping.get(i)
                        if target is not None and w != target and not corrected[i].changed:
                            why = corrected[i].reason or "not flagged"
                            tally.examples.append(
                                f"missed {w!r} (truth {target!r}, conf {words[i].confidence:.0f}, {why})"
                            )
    return tallies


def print_table(split: str, tallies: dict[str, Tally]) -> None:
    print(f"\nVietnamese post-correction, split {split!r} (bench/postcorrect_texts/{split}.txt)\n")
    header = (
        f"{'level':8} {'pages':>5} {'CER before':>10} {'CER after':>9} {'WER before':>10} {'WER after':>9} "
        f"{'valid before':>12} {'valid after':>11} {'changed':>7} {'right':>5} {'wrong':>5} {'other':>5} "
        f"{'flagged':>7} {'tess s/p':>8} {'plain s/p':>9} {'corr ms/p':>9} {'corr/plain':>10}"
    )
    print(header)
    print("-" * len(header))
    for level, t in tallies.items():
        pages = max(t.pages, 1)
        print(
            f"{level:8} {t.pages:5d} "
            f"{t.char_edits_before / t.truth_chars:10.2%} {t.char_edits_after / t.truth_chars:9.2%} "
            f"{t.word_edits_before / t.truth_words:10.2%} {t.word_edits_after / t.truth_words:9.2%} "
            f"{1 - t.broken_before / max(t.words, 1):12.2%} {1 - t.broken_after / max(t.words, 1):11.2%} "
            f"{t.changed:7d} {t.right:5d} {t.wrong:5d} {t.other:5d} {t.flagged:7d} "
            f"{t.tesseract_s / pages:8.2f} {t.tesseract_plain_s / pages:9.2f} {1000 * t.correct_s / pages:9.1f} "
            f"{t.correct_s / max(t.tesseract_plain_s, 1e-9):10.2%}"
        )
    print(
        "\nvalid = share of words with a letter that are valid Vietnamese (or foreign), not broken Vietnamese;"
        "\nright/wrong/other = changed words now equal to the truth / that were right before / wrong before and after;"
        "\ntess = recognition with lstm_choice_mode=2, plain = without it; corr = correct_words() for the page."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test"), default="test")
    parser.add_argument("--pages", type=int, default=None, help="pages per level (default: all the text)")
    parser.add_argument("--levels", default="clean,soft,blurred,rough")
    parser.add_argument("--show", action="store_true", help="list every change and every missed error")
    args = parser.parse_args(argv)
    levels = [level for level in args.levels.split(",") if level]
    unknown = [level for level in levels if level not in LEVELS]
    if unknown:
        parser.error(f"unknown levels {unknown}; known: {sorted(LEVELS)}")
    tallies = measure(args.split, levels, args.pages, args.show)
    print_table(args.split, tallies)
    if args.show:
        for level, tally in tallies.items():
            print(f"\n{level}:")
            for line in tally.examples:
                print("  " + line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
