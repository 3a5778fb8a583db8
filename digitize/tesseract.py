"""The one wrapper around the ``tesseract`` program.

Everything the engine asks of tesseract goes through here, in the manner of
OCRmyPDF's ``_exec/tesseract.py``: probe the version and the installed
languages, run with a time limit, and turn the program's failures into
:mod:`digitize.errors`.

Every child runs with ``OMP_THREAD_LIMIT=1``: tesseract's OpenMP threads make
it several times slower per page on a busy machine, and the platform gets its
parallelism from one page per worker process instead.

:data:`PROGRAM` names the executable; tests replace it to see what happens
when it is absent.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from digitize.errors import LanguageMissing, OcrFailed, OcrTimeout, TesseractMissing

PROGRAM = "tesseract"
PROBE_TIMEOUT_S = 30.0
STDERR_TAIL_CHARS = 600

# psm values in which tesseract finds the layout itself and ignores a .uzn file
AUTOMATIC_PSMS = frozenset({0, 1, 2, 3})

_LANGUAGE_NAME = re.compile(r"^[A-Za-z0-9_]+(/[A-Za-z0-9_]+)?$")

_probe_lock = threading.Lock()
_versions: dict[str, str] = {}
_languages: dict[str, tuple[str, ...]] = {}


@dataclass(frozen=True)
class OcrOutput:
    """What one tesseract run wrote, as text (unparsed); formats that were
    not asked for are None."""

    tsv: str
    hocr: str | None = None
    alto: str | None = None
    txt: str | None = None
    stderr: str = ""


# tesseract's config name for each output and the suffix of the file it writes
OUTPUT_SUFFIXES = {"tsv": "tsv", "hocr": "hocr", "alto": "xml", "txt": "txt"}


@dataclass(frozen=True)
class Orientation:
    """Tesseract OSD's answer for a page.

    ``rotate_deg`` is how far to turn the image clockwise (0, 90, 180 or 270)
    to make it upright; ``confidence`` is OSD's orientation confidence
    (above about 2 is usually trustworthy).
    """

    rotate_deg: int
    confidence: float
    script: str


# --------------------------------------------------------------------- running
def child_env() -> dict[str, str]:
    """The environment for a tesseract child: ours, single-threaded."""
    env = dict(os.environ)
    env["OMP_THREAD_LIMIT"] = "1"
    return env


def run_tesseract(args: list[str], *, timeout_s: float) -> subprocess.CompletedProcess:
    """Run ``PROGRAM *args``; kill it (and anything it started) after ``timeout_s``.

    Raises :class:`TesseractMissing` when the program cannot be started and
    :class:`OcrTimeout` when it runs too long. The exit status is left to the
    caller.
    """
    program = PROGRAM
    try:
        proc = subprocess.Popen(
            [program, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_env(),
            start_new_session=True,  # its own process group, so a kill takes all of it
        )
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise TesseractMissing(program) from exc
    except PermissionError as exc:
        raise TesseractMissing(program, "permission denied") from exc
    try:
        stdout, stderr = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        proc.communicate()
        raise OcrTimeout(timeout_s) from None
    except BaseException:  # e.g. KeyboardInterrupt: never leave an orphan
        _kill_group(proc)
        proc.communicate()
        raise
    return subprocess.CompletedProcess(
        proc.args,
        proc.returncode,
        stdout.decode("utf-8", "replace"),
        stderr.decode("utf-8", "replace"),
    )


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stderr_tail(stderr: str, max_chars: int = STDERR_TAIL_CHARS) -> str:
    """The last lines of tesseract's stderr, without its routine chatter."""
    lines = [
        line
        for line in stderr.splitlines()
        if line.strip()
        and not line.startswith("Estimating resolution")
        and not line.startswith("Warning. Invalid resolution")
    ]
    return " | ".join(lines)[-max_chars:]


# --------------------------------------------------------------------- probing
def tesseract_version() -> str:
    """The version of the installed tesseract, e.g. ``"5.3.0"`` (probed once)."""
    program = PROGRAM
    with _probe_lock:
        if program not in _versions:
            result = run_tesseract(["--version"], timeout_s=PROBE_TIMEOUT_S)
            match = re.search(r"tesseract\s+v?(\S+)", result.stdout + result.stderr)
            if result.returncode != 0 or not match:
                raise TesseractMissing(
                    program, f"'--version' answered {stderr_tail(result.stdout + result.stderr)!r}"
                )
            _versions[program] = match.group(1)
        return _versions[program]


def available_languages() -> tuple[str, ...]:
    """The installed language models, sorted (``osd`` included), probed once."""
    program = PROGRAM
    with _probe_lock:
        if program not in _languages:
            result = run_tesseract(["--list-langs"], timeout_s=PROBE_TIMEOUT_S)
            if result.returncode != 0:
                raise TesseractMissing(program, stderr_tail(result.stderr))
            lines = result.stdout.splitlines()
            # first line: 'List of available languages in "/usr/share/...tessdata/" (5):'
            names = [line.strip() for line in lines[1:] if line.strip()]
            _languages[program] = tuple(sorted(names))
        return _languages[program]


def split_languages(languages: str) -> tuple[str, ...]:
    """``"vie+fra"`` -> ``("vie", "fra")``; rejects malformed names."""
    names = tuple(part.strip() for part in languages.split("+"))
    for name in names:
        if not _LANGUAGE_NAME.match(name):
            raise LanguageMissing(name or languages)
    return names


def check_languages(languages: str) -> None:
    """Raise :class:`LanguageMissing` naming the first requested model that is
    not installed, with the Debian package that provides it."""
    installed = available_languages()
    for name in split_languages(languages):
        if name not in installed:
            raise LanguageMissing(name, installed)


def clear_probe_cache() -> None:
    """Forget the probed version and languages (after installing a model)."""
    with _probe_lock:
        _versions.clear()
        _languages.clear()


# ----------------------------------------------------------------------- pages
def detect_orientation(image_path: Path, *, timeout_s: float) -> Orientation:
    """Ask tesseract's OSD (``--psm 0``) which way up the page is.

    A page with too little text for OSD to judge is reported upright with
    confidence 0.
    """
    check_languages("osd")
    result = run_tesseract([str(image_path), "-", "--psm", "0"], timeout_s=timeout_s)
    if result.returncode != 0:
        tail = stderr_tail(result.stderr)
        if "Too few characters" in result.stderr or "too few" in tail.lower():
            return Orientation(0, 0.0, "")
        raise OcrFailed(f"tesseract could not judge the orientation of {image_path.name}", tail)
    rotate = re.search(r"^Rotate:\s*(\d+)", result.stdout, re.MULTILINE)
    confidence = re.search(r"^Orientation confidence:\s*([\d.]+)", result.stdout, re.MULTILINE)
    script = re.search(r"^Script:\s*(\S+)", result.stdout, re.MULTILINE)
    if not rotate:
        return Orientation(0, 0.0, "")
    return Orientation(
        int(rotate.group(1)) % 360,
        float(confidence.group(1)) if confidence else 0.0,
        script.group(1) if script else "",
    )


def recognise(
    image_path: Path,
    output_base: Path,
    *,
    languages: str,
    psm: int,
    timeout_s: float,
    dpi: int | None = None,
    config: dict[str, str] | None = None,
    outputs: tuple[str, ...] = ("tsv",),
) -> OcrOutput:
    """Read one page image in ONE tesseract run writing every format in
    ``outputs`` (``tsv`` always; ``hocr``, ``alto``, ``txt`` on request) to
    ``output_base`` + ``.tsv``, ``.hocr``, ``.xml``, ``.txt``.

    Each extra format costs tesseract CPU (up to 5 % each on a dense page),
    which is why the pipeline asks for TSV alone and writes hOCR and ALTO
    itself.

    With a non-automatic ``psm`` (4 and above) tesseract reads zones from
    ``image_path`` with its suffix replaced by ``.uzn`` when that file exists.
    ``dpi`` tells tesseract the resolution when the image file does not.
    """
    check_languages(languages)
    wanted = ("tsv",) + tuple(o for o in outputs if o != "tsv")
    unknown = [o for o in wanted if o not in OUTPUT_SUFFIXES]
    if unknown:
        raise ValueError(f"unknown tesseract outputs: {unknown}")
    args = [str(image_path), str(output_base), "-l", languages, "--psm", str(int(psm))]
    if dpi:
        args += ["--dpi", str(int(dpi))]
    for key, value in (config or {}).items():
        args += ["-c", f"{key}={value}"]
    args += list(wanted)
    result = run_tesseract(args, timeout_s=timeout_s)
    if result.returncode != 0:
        raise OcrFailed(
            f"tesseract failed on {image_path.name} (exit status {result.returncode})",
            stderr_tail(result.stderr),
        )
    texts: dict[str, str] = {}
    for output in wanted:
        path = output_base.with_name(output_base.name + "." + OUTPUT_SUFFIXES[output])
        try:
            texts[output] = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise OcrFailed(
                f"tesseract wrote no {output} output for {image_path.name}",
                stderr_tail(result.stderr),
            ) from None
    return OcrOutput(stderr=result.stderr, **texts)
