"""The scans of an uploaded zip: its headers checked before anything is extracted, its entries
extracted under generated names and counted again while extracting, since headers can lie.

- Entry count (walked without building it), expanded size and each entry's
  compression ratio are checked first; absolute paths, ``..``, drive letters,
  NUL bytes, links, devices, encrypted entries and nested zips are refused.
- **Nothing is written outside ``staging_dir``.** Entries are extracted under
  generated names (``000001.tif``); the entry name is kept only as the display
  name (``original_name``) and never becomes a path.
- When real bytes pass what the headers declared, the whole zip is refused and
  everything taken from it is removed.
"""

from __future__ import annotations

import itertools
import os
import re
import stat
import struct
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from library.catalogue.naturalsort import natural_path_key
from library.errors import InputRejected, LimitExceeded
from library.ingest.filenames import _is_junk, _nfc, display_label, name_problem
from library.ingest.messages import _fmt_bytes, _reason
from library.ingest.scan_files import _CHUNK, _sha256
from library.ingest.scan_types import Expansion, ScanFile
from library.settings import Limits

# The expanded/compressed ratio of a zip entry is checked only past this size:
# a few kilobytes of blank page compress far beyond any sane ratio, harmlessly.
_RATIO_CHECK_MIN_BYTES = 1 << 20


class _ZipLied(LimitExceeded):
    """Real bytes went past what the zip's headers allowed: reject the whole archive."""


def _expand_zip(
    path: Path,
    zip_name: str,
    zip_label: str,
    staging_dir: Path,
    limits: Limits,
    expansion: Expansion,
    expand_one: Callable[..., None],
) -> None:
    """Check a zip's headers, keep it as the package, then extract and expand its entries
    (each extracted file is given to ``expand_one``, :func:`library.ingest.uploads._expand_one`)."""
    declared = _declared_entry_count(path, stop_after=limits.max_zip_entries)
    if declared is not None and declared > limits.max_zip_entries:
        expansion.problems.append(_too_many_entries(zip_label, limits))
        return
    try:
        archive = zipfile.ZipFile(path)
    except Exception as exc:  # BadZipFile, OSError, ValueError, struct.error … on hostile bytes
        expansion.problems.append(
            InputRejected(zip_label, f"corrupt zip archive ({_reason(exc)}); make the zip again")
        )
        return
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_zip_entries:
            expansion.problems.append(_too_many_entries(zip_label, limits))
            return
        plan, problems = _plan_zip(infos, zip_label, limits)
        expansion.problems.extend(problems)
        declared_total = sum(info.file_size for info, _, _ in plan)
        if declared_total > limits.max_zip_total_bytes:
            expansion.problems.append(
                LimitExceeded(
                    zip_label,
                    f"the zip expands to {_fmt_bytes(declared_total)}, over the limit of "
                    f"{_fmt_bytes(limits.max_zip_total_bytes)} per zip; split it into several zips",
                )
            )
            return
        try:
            size, digest = _sha256(path, zip_label, limits)
        except InputRejected as exc:
            expansion.problems.append(exc)
            return
        expansion.package = ScanFile(
            path=path, original_name=zip_name, media_type="application/zip", size_bytes=size, sha256=digest, pages=()
        )
        _extract_zip(archive, plan, zip_label, Path(staging_dir), limits, expansion, expand_one)


def _too_many_entries(zip_label: str, limits: Limits) -> LimitExceeded:
    return LimitExceeded(
        zip_label,
        f"the zip holds more than {limits.max_zip_entries:,} entries, the limit per zip; split it into several zips",
    )


_DRIVE = re.compile(r"^[A-Za-z]:")


def _zip_path_problem(raw_name: str) -> str | None:
    """Why a zip entry's path is hostile, or ``None``. Backslashes count as separators."""
    if "\x00" in raw_name:
        return "the entry name contains a NUL byte (U+0000), a trick to hide its real name"
    if raw_name.startswith(("/", "\\")):
        return "the entry has an absolute path; zips must hold relative paths only"
    if _DRIVE.match(raw_name):
        return "the entry path starts with a drive letter; zips must hold relative paths only"
    if ".." in re.split(r"[\\/]", raw_name):
        return "the entry path contains '..', which would climb out of the folder; zips must not do that"
    return None


def _plan_zip(
    infos: list[zipfile.ZipInfo], zip_label: str, limits: Limits
) -> tuple[list[tuple[zipfile.ZipInfo, str, str]], list[InputRejected]]:
    """The entries worth extracting, ``(info, display name, label)`` in natural order, and the problems."""
    plan: list[tuple[zipfile.ZipInfo, str, str]] = []
    problems: list[tuple[str, InputRejected]] = []
    seen: set[str] = set()
    for info in infos:
        raw = _nfc(info.orig_filename)
        parts = [p for p in re.split(r"[\\/]", raw) if p not in ("", ".")]
        name = "/".join(parts)
        label = f"{display_label(raw)} (in {zip_label})"
        verdict = _entry_verdict(info, raw, parts, limits)
        if verdict is None and name in seen:
            verdict = (InputRejected, "the zip holds two entries with this name; only the first is used")
        if verdict == _SKIP:
            continue
        if verdict is not None:
            cls, problem = verdict
            problems.append((name, cls(label, problem)))
            continue
        seen.add(name)
        plan.append((info, name, label))
    plan.sort(key=lambda item: natural_path_key(item[1]))
    problems.sort(key=lambda item: natural_path_key(item[0]))
    return plan, [problem for _, problem in problems]


_SKIP = ("skip", "")


def _entry_verdict(
    info: zipfile.ZipInfo, raw: str, parts: list[str], limits: Limits
) -> tuple[type[InputRejected], str] | tuple[str, str] | None:
    """``None`` to extract the entry, :data:`_SKIP` to pass over it quietly, or ``(error class, problem)``."""
    problem = _zip_path_problem(raw) or (name_problem("/".join(parts)) if parts else None)
    if problem:
        return InputRejected, problem
    if not parts or any(_is_junk(p) for p in parts):
        return _SKIP
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return InputRejected, "a symbolic link inside the zip; links are not extracted, so zip the file itself"
    if raw.endswith(("/", "\\")) or stat.S_ISDIR(mode):
        return _SKIP  # folders are implied by their files' names; none is created
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        return InputRejected, "not a regular file (a device, pipe or socket entry)"
    if info.flag_bits & 0x1:
        return InputRejected, "the entry is encrypted (the zip has a password); make the zip again without a password"
    if parts[-1].lower().endswith(".zip"):
        return InputRejected, _NESTED_ZIP
    if info.file_size == 0:
        return InputRejected, "the file is empty (0 bytes)"
    if info.file_size > limits.max_file_bytes:
        return LimitExceeded, (
            f"the file is {_fmt_bytes(info.file_size)}, over the limit of {_fmt_bytes(limits.max_file_bytes)} per file"
        )
    if info.file_size > _RATIO_CHECK_MIN_BYTES and info.file_size > limits.max_zip_ratio * max(info.compress_size, 1):
        return LimitExceeded, _ratio_problem(info.compress_size, info.file_size, limits)
    return None


_NESTED_ZIP = "zip inside a zip is not supported; unpack the inner zip and add its pages instead"


def _ratio_problem(compressed: int, expanded: int, limits: Limits) -> str:
    ratio = expanded / max(compressed, 1)
    return (
        f"the entry expands from {_fmt_bytes(compressed)} to {_fmt_bytes(expanded)} (ratio {ratio:,.0f}:1, "
        f"the limit is {limits.max_zip_ratio}:1); it looks like a zip bomb"
    )


def _extract_zip(
    archive: zipfile.ZipFile,
    plan: list[tuple[zipfile.ZipInfo, str, str]],
    zip_label: str,
    staging_dir: Path,
    limits: Limits,
    expansion: Expansion,
    expand_one: Callable[..., None],
) -> None:
    staging_dir.mkdir(parents=True, exist_ok=True)
    extracted: list[Path] = []
    first_file = len(expansion.files)
    first_sheet = len(expansion.sheets)
    written_total = 0
    numbers = itertools.count(sum(1 for _ in os.scandir(staging_dir)) + 1)
    for info, name, label in plan:
        try:
            target, size = _extract_entry(
                archive,
                info,
                staging_dir,
                label,
                limits,
                budget=limits.max_zip_total_bytes - written_total,
                numbers=numbers,
            )
        except _ZipLied as lie:
            # The archive's headers lied: nothing from it is trusted.
            for done in extracted:
                done.unlink(missing_ok=True)
            del expansion.files[first_file:]
            del expansion.sheets[first_sheet:]
            expansion.package = None
            expansion.problems.append(LimitExceeded(zip_label, lie.problem))
            return
        except InputRejected as exc:
            expansion.problems.append(exc)
            continue
        written_total += size
        extracted.append(target)
        before = len(expansion.files) + len(expansion.sheets)
        expand_one(target, name, label, staging_dir, limits, expansion, inside="a zip")
        if len(expansion.files) + len(expansion.sheets) == before:  # rejected: do not keep its bytes
            target.unlink(missing_ok=True)
            extracted.remove(target)


def _staged_suffix(name: str) -> str:
    suffix = os.path.splitext(name)[1].lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ".bin"


def _create_staged_file(staging_dir: Path, suffix: str, numbers: Iterator[int]) -> tuple[int, Path]:
    """A new, empty file directly in ``staging_dir`` under a generated name, opened exclusively.

    The name is only digits and a short suffix, so it cannot point anywhere
    else; ``O_EXCL | O_NOFOLLOW`` refuses to reuse or follow anything already there.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    for number in numbers:
        target = staging_dir / f"{number:06d}{suffix}"
        try:
            return os.open(target, flags, 0o600), target
        except FileExistsError:
            continue
    raise AssertionError("unreachable: the numbers never run out")


def _extract_entry(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    staging_dir: Path,
    label: str,
    limits: Limits,
    *,
    budget: int,
    numbers: Iterator[int],
) -> tuple[Path, int]:
    """Copy one entry into ``staging_dir``, counting real bytes against every limit."""
    fd, target = _create_staged_file(staging_dir, _staged_suffix(info.filename), numbers)
    written = 0
    try:
        with os.fdopen(fd, "wb") as out, archive.open(info) as entry:
            while chunk := entry.read(_CHUNK):
                written += len(chunk)
                if written > budget:
                    raise _ZipLied(
                        label,
                        "the zip holds more bytes than its headers declare (past the limit of "
                        f"{_fmt_bytes(limits.max_zip_total_bytes)} per zip); it looks like a zip bomb and was not extracted",
                    )
                if written > limits.max_file_bytes:
                    raise LimitExceeded(
                        label, f"the file is over the limit of {_fmt_bytes(limits.max_file_bytes)} per file"
                    )
                if written > info.file_size:
                    raise _ZipLied(label, "an entry holds more bytes than its header declares; the zip was not extracted")
                if written > _RATIO_CHECK_MIN_BYTES and written > limits.max_zip_ratio * max(info.compress_size, 1):
                    raise LimitExceeded(label, _ratio_problem(info.compress_size, written, limits))
                out.write(chunk)
    except InputRejected:
        target.unlink(missing_ok=True)
        raise
    except BaseException as exc:
        target.unlink(missing_ok=True)
        if not isinstance(exc, Exception):
            raise
        raise InputRejected(
            label, f"the entry cannot be extracted ({_reason(exc)}); the zip may be damaged, so make it again"
        ) from None
    return target, written


def _declared_entry_count(path: Path, *, stop_after: int) -> int | None:
    """Entries in a zip's central directory, counted without building them.

    :class:`zipfile.ZipFile` reads the whole central directory into objects;
    a hostile zip could declare millions of entries. This walks the records
    and stops after ``stop_after``. ``None`` when the layout is not understood
    (then ``zipfile`` decides, and its count is checked too).
    """
    try:
        with open(path, "rb") as fp:
            fp.seek(0, os.SEEK_END)
            size = fp.tell()
            tail_size = min(size, 22 + 0xFFFF)
            fp.seek(size - tail_size)
            tail = fp.read(tail_size)
            at = tail.rfind(b"PK\x05\x06")
            if at < 0 or len(tail) - at < 22:
                return None
            _, _, _, _, total, cd_size, _, _ = struct.unpack("<4s4H2LH", tail[at : at + 22])
            end_of_cd = size - tail_size + at
            if total == 0xFFFF or cd_size == 0xFFFFFFFF:
                locator = tail[at - 20 : at] if at >= 20 else b""
                if not locator.startswith(b"PK\x06\x07"):
                    return None
                _, _, record_at, _ = struct.unpack("<4sLQL", locator)
                fp.seek(record_at)
                record = fp.read(56)
                if len(record) < 56 or not record.startswith(b"PK\x06\x06"):
                    return None
                fields = struct.unpack("<4sQ2H2L4Q", record)
                total, cd_size, end_of_cd = fields[7], fields[8], record_at
            if total > stop_after:
                return total
            fp.seek(max(0, end_of_cd - cd_size))
            count = 0
            while count <= stop_after:
                header = fp.read(46)
                if len(header) < 46 or not header.startswith(b"PK\x01\x02"):
                    break
                name_len, extra_len, comment_len = struct.unpack("<3H", header[28:34])
                fp.seek(name_len + extra_len + comment_len, os.SEEK_CUR)
                count += 1
            return max(count, total)
    except (OSError, struct.error, ValueError, OverflowError):
        return None
