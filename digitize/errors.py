"""Errors of the OCR engine.

A flat hierarchy in the manner of OCRmyPDF's ``exceptions.py``. Each class
says what went wrong in words a librarian can act on and carries its
consequence: ``transient`` tells a worker whether retrying the same page
later may succeed. The engine knows nothing of the catalogue, HTTP or Celery;
``library/`` translates these into its own errors at its edge.
"""

from __future__ import annotations


class DigitizeError(Exception):
    """Base class of every error raised by :mod:`digitize`."""

    transient = False  # True when retrying the same work later may succeed

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ImageUnreadable(DigitizeError):
    """A page image (or PDF page) cannot be decoded.

    ``source`` names the file and ``problem`` says what is wrong with it.
    """

    def __init__(self, source: str, problem: str):
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


class ImageTooLarge(ImageUnreadable):
    """A page image declares more pixels than the configured limit.

    Raised before the pixels are decoded, so a hostile file cannot exhaust
    memory. ``pixels`` is what the file declares, ``max_pixels`` the limit.
    """

    def __init__(self, source: str, pixels: int, max_pixels: int, detail: str = ""):
        problem = (
            f"the page has {pixels:,} pixels{detail}, more than the limit of "
            f"{max_pixels:,}; scan it at a lower resolution or split it"
        )
        super().__init__(source, problem)
        self.pixels = pixels
        self.max_pixels = max_pixels


class ZonesInvalid(DigitizeError):
    """A zone file (UNLV ``.uzn``: ``x y w h type`` per line) cannot be used."""

    def __init__(self, source: str, problem: str):
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


class EngineMissing(DigitizeError):
    """The OCR program or one of its language models is not installed."""


class TesseractMissing(EngineMissing):
    """The ``tesseract`` program cannot be run."""

    def __init__(self, program: str, detail: str = ""):
        message = (
            f"the OCR program {program!r} was not found or cannot be run"
            f"{': ' + detail if detail else ''}; install it (Debian: apt-get install tesseract-ocr)"
        )
        super().__init__(message)
        self.program = program


class LanguageMissing(EngineMissing):
    """A requested tesseract language model is not installed."""

    def __init__(self, language: str, installed: tuple[str, ...] = ()):
        package = debian_package(language)
        message = (
            f"the tesseract language model {language!r} is not installed; "
            f"install it (Debian: apt-get install {package})"
        )
        if installed:
            message += f"; installed: {', '.join(installed)}"
        super().__init__(message)
        self.language = language
        self.package = package


class OcrFailed(DigitizeError):
    """Tesseract ran but could not read the page; ``stderr_tail`` says why."""

    def __init__(self, message: str, stderr_tail: str = ""):
        if stderr_tail:
            message = f"{message}: {stderr_tail}"
        super().__init__(message)
        self.stderr_tail = stderr_tail


class OcrTimeout(OcrFailed):
    """Tesseract ran past its time limit and was stopped. A retry (perhaps
    with a larger limit, or when the machine is less busy) may succeed."""

    transient = True

    def __init__(self, timeout_s: float):
        super().__init__(
            f"tesseract did not finish within {timeout_s:g} s and was stopped; "
            "retry later or raise the OCR time limit"
        )
        self.timeout_s = timeout_s


def debian_package(language: str) -> str:
    """The Debian package that ships a tesseract model: ``chi_tra`` ->
    ``tesseract-ocr-chi-tra``, ``script/Latin`` -> ``tesseract-ocr-script-latn``."""
    if language.startswith("script/"):
        script = language.split("/", 1)[1]
        code = _SCRIPT_CODES.get(script, script.lower().replace("_", "-"))
        return f"tesseract-ocr-script-{code}"
    return "tesseract-ocr-" + language.lower().replace("_", "-")


_SCRIPT_CODES = {
    "Latin": "latn",
    "Cyrillic": "cyrl",
    "Arabic": "arab",
    "HanS": "hans",
    "HanT": "hant",
    "HanS_vert": "hans-vert",
    "HanT_vert": "hant-vert",
    "Devanagari": "deva",
    "Greek": "grek",
    "Vietnamese": "viet",
}
