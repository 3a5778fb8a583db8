"""The typefaces the hard pages are set in, and the check that each one has a
glyph for every character it is asked to print.

A missing glyph renders as an empty box (".notdef") and would show up as an
OCR error that no OCR engine could avoid, so every page checks every character
of every line against the font's character map before it is drawn.

Fonts are named by a short key; each key maps to one file and the Debian
package that installs it (``scripts/setup.sh`` must install those packages).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont
from PIL import ImageFont


class FontMissingError(RuntimeError):
    """A font file the hard pages need is not installed: install the Debian
    package named in the message (scripts/setup.sh does)."""


class GlyphMissingError(ValueError):
    """Text asked to be printed in a font that has no glyph for one of its
    characters: choose another font or change the text."""


@dataclass(frozen=True)
class Typeface:
    """One font file: ``key`` names it in layouts, ``package`` installs it."""

    key: str
    path: Path
    package: str
    licence: str
    lining_figures: bool = False  # ask OpenType "lnum" (EB Garamond's figures are old-style)


_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
_NOTO = Path("/usr/share/fonts/truetype/noto")
_FREE = Path("/usr/share/fonts/truetype/freefont")
_EBG = Path("/usr/share/fonts/opentype/ebgaramond")

TYPEFACES: dict[str, Typeface] = {
    t.key: t
    for t in (
        Typeface("dejavu-serif", _DEJAVU / "DejaVuSerif.ttf", "fonts-dejavu-core", "Bitstream Vera/DejaVu (free)"),
        Typeface("dejavu-serif-bold", _DEJAVU / "DejaVuSerif-Bold.ttf", "fonts-dejavu-core", "Bitstream Vera/DejaVu (free)"),
        Typeface("dejavu-sans", _DEJAVU / "DejaVuSans.ttf", "fonts-dejavu-core", "Bitstream Vera/DejaVu (free)"),
        Typeface("dejavu-sans-bold", _DEJAVU / "DejaVuSans-Bold.ttf", "fonts-dejavu-core", "Bitstream Vera/DejaVu (free)"),
        Typeface("noto-serif", _NOTO / "NotoSerif-Regular.ttf", "fonts-noto-core", "SIL OFL 1.1"),
        Typeface("noto-serif-bold", _NOTO / "NotoSerif-Bold.ttf", "fonts-noto-core", "SIL OFL 1.1"),
        Typeface("noto-serif-italic", _NOTO / "NotoSerif-Italic.ttf", "fonts-noto-core", "SIL OFL 1.1"),
        Typeface("noto-serif-display-bold", _NOTO / "NotoSerifDisplay-Bold.ttf", "fonts-noto-core", "SIL OFL 1.1"),
        Typeface("noto-sans", _NOTO / "NotoSans-Regular.ttf", "fonts-noto-core", "SIL OFL 1.1"),
        Typeface("noto-sans-bold", _NOTO / "NotoSans-Bold.ttf", "fonts-noto-core", "SIL OFL 1.1"),
        Typeface("free-serif", _FREE / "FreeSerif.ttf", "fonts-freefont-ttf", "GPL-3+ with font exception"),
        Typeface("free-serif-bold", _FREE / "FreeSerifBold.ttf", "fonts-freefont-ttf", "GPL-3+ with font exception"),
        Typeface("free-serif-italic", _FREE / "FreeSerifItalic.ttf", "fonts-freefont-ttf", "GPL-3+ with font exception"),
        Typeface("free-sans-bold", _FREE / "FreeSansBold.ttf", "fonts-freefont-ttf", "GPL-3+ with font exception"),
        Typeface("garamond", _EBG / "EBGaramond12-Regular.otf", "fonts-ebgaramond", "SIL OFL 1.1", lining_figures=True),
        Typeface("garamond-italic", _EBG / "EBGaramond12-Italic.otf", "fonts-ebgaramond", "SIL OFL 1.1", lining_figures=True),
    )
}


def typeface(key: str) -> Typeface:
    """The typeface called ``key``; raises FontMissingError if its file is absent."""
    face = TYPEFACES[key]
    if not face.path.is_file():
        raise FontMissingError(f"font {face.path} is missing: apt-get install {face.package}")
    return face


@lru_cache(maxsize=None)
def character_map(key: str) -> frozenset[int]:
    """The code points that font ``key`` has glyphs for."""
    font = TTFont(str(typeface(key).path), lazy=True)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


def missing_characters(key: str, text: str) -> str:
    """The characters of ``text`` (white space aside) that font ``key`` cannot print,
    each once, in order of first appearance."""
    cmap = character_map(key)
    missing = []
    for char in text:
        if not char.isspace() and ord(char) not in cmap and char not in missing:
            missing.append(char)
    return "".join(missing)


def require_glyphs(key: str, text: str) -> None:
    """Raise GlyphMissingError unless font ``key`` can print every character of ``text``."""
    missing = missing_characters(key, text)
    if missing:
        raise GlyphMissingError(f"font {key} has no glyph for {missing!r}")


@lru_cache(maxsize=256)
def pil_font(key: str, size_px: int) -> ImageFont.FreeTypeFont:
    """The font ``key`` at an em size of ``size_px`` pixels, laid out by raqm
    (HarfBuzz) so OpenType features such as lining figures apply."""
    return ImageFont.truetype(
        str(typeface(key).path), size=size_px, layout_engine=ImageFont.Layout.RAQM
    )


def features(key: str) -> list[str] | None:
    """OpenType features to ask when drawing with ``key`` (None: the font's defaults)."""
    return ["lnum"] if typeface(key).lining_figures else None
