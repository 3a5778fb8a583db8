"""A zip given to a 3D build (photos, or an OBJ with its MTL and textures) opened as safely as an upload.

The checks are :mod:`library.ingest.zips`' own, not copies: entry count and expanded size before anything
is extracted, hostile names (control or text-direction characters, absolute paths, ``..``, drive
letters), links, encryption, nested zips, zip bombs (declared ratio, then real bytes counted while
extracting), and for photos the content sniffed and fully decoded. Any problem refuses the whole zip
with every reason, so a build never starts from a half-read archive.

Entries are extracted under generated names by :mod:`library.ingest.zips`, then given back their names
inside ``staging_dir`` (checked above, so they cannot point anywhere else): an OBJ finds its MTL and
textures by the relative paths it names, and photos keep their names for the build report and
``--known-distance``.
"""

from __future__ import annotations

import itertools
import os
import zipfile
from pathlib import Path

from library.ingest import zips
from library.ingest.messages import _fmt_bytes, _reason
from library.ingest.scan_files import inspect_file
from library.ingest.sniffing import sniff
from library.errors import InputRejected, LimitExceeded
from library.ingest.filenames import display_label
from library.settings import Limits

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff"}
PHOTO_TYPES = {"image/jpeg", "image/png", "image/tiff"}
MESH_COMPANIONS = {".mtl"} | PHOTO_SUFFIXES | {".bmp"}


def is_zip(path: Path) -> bool:
    """True when the file's content is a zip archive (whatever its name)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8192)
    except OSError:
        return False
    return sniff(head) == (None, "a ZIP archive")


def unpack_model_zip(path: Path, staging_dir: Path, limits: Limits) -> tuple[list[Path], list[str]]:
    """The build inputs in the zip at ``path``, extracted under ``staging_dir``, and notes on what was left out.

    Returns ``[the .obj]`` for a mesh (its MTL and textures beside it as the zip had them), or the
    photos (all in one folder, by their names). Raises :class:`InputRejected` naming every problem.
    """
    path, staging_dir = Path(path), Path(staging_dir)
    label = display_label(path.name)
    entries = _extract(path, label, staging_dir / "tree", staging_dir / "staged", limits)
    objs = [e for e in entries if e.suffix.lower() == ".obj"]
    notes: list[str] = []
    if len(objs) > 1:
        raise InputRejected(label, f"the zip holds {len(objs)} OBJ meshes; a build takes one")
    if objs:
        for e in entries:
            if e != objs[0] and e.suffix.lower() not in MESH_COMPANIONS:
                notes.append(f"{e.relative_to(staging_dir / 'tree')} (in {label}) is not the mesh's material or "
                             "texture; left out")
        return objs, notes
    photos, problems = [], []
    for e in entries:
        name = e.relative_to(staging_dir / "tree").as_posix()
        if e.suffix.lower() not in PHOTO_SUFFIXES:
            notes.append(f"{name} (in {label}) is not a photo; left out")
            continue
        with open(e, "rb") as fh:
            media_type, description = sniff(fh.read(8192))
        if media_type not in PHOTO_TYPES:
            problems.append(f"{display_label(name)}: the content is {description}, not a photo "
                            "(JPEG, PNG or TIFF), whatever its name says")
            continue
        try:  # decoded in full, pixel count checked first (decompression bombs)
            scan = inspect_file(e, original_name=name, limits=limits)
        except InputRejected as exc:
            problems.append(_entry_problem(exc, label))
            continue
        if len(scan.pages) != 1:
            problems.append(f"{display_label(name)}: a photo must be one image, not "
                            f"{len(scan.pages)} pages")
            continue
        photos.append(e)
    if problems:
        raise InputRejected(label, "; ".join(problems))
    if not photos:
        raise InputRejected(label, "the zip holds no photos and no OBJ mesh")
    return _flatten(photos, staging_dir / "tree", staging_dir / "photos"), notes


def _entry_problem(exc: InputRejected, zip_label: str) -> str:
    """``entry: problem`` for a message that already names the zip."""
    return f"{exc.source.removesuffix(f' (in {zip_label})')}: {exc.problem}"


def _extract(path: Path, label: str, tree: Path, staged: Path, limits: Limits) -> list[Path]:
    declared = zips._declared_entry_count(path, stop_after=limits.max_zip_entries)
    if declared is not None and declared > limits.max_zip_entries:
        raise zips._too_many_entries(label, limits)
    try:
        archive = zipfile.ZipFile(path)
    except Exception as exc:  # BadZipFile, OSError, ValueError, struct.error … on hostile bytes
        raise InputRejected(label, f"corrupt zip archive ({_reason(exc)}); make the zip again") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_zip_entries:
            raise zips._too_many_entries(label, limits)
        plan, problems = zips._plan_zip(infos, label, limits)
        if problems:
            raise InputRejected(label, "; ".join(_entry_problem(p, label) for p in problems))
        total = sum(info.file_size for info, _, _ in plan)
        if total > limits.max_zip_total_bytes:
            raise LimitExceeded(label, f"the zip expands to {_fmt_bytes(total)}, over the limit of "
                                       f"{_fmt_bytes(limits.max_zip_total_bytes)} per zip")
        staged.mkdir(parents=True, exist_ok=True)
        tree.mkdir(parents=True, exist_ok=True)
        numbers = itertools.count(1)
        out, written = [], 0
        for info, name, entry_label in plan:
            try:
                target, size = zips._extract_entry(archive, info, staged, entry_label, limits,
                                                   budget=limits.max_zip_total_bytes - written, numbers=numbers)
            except zips._ZipLied as lie:
                raise LimitExceeded(label, lie.problem) from None
            written += size
            dest = tree.joinpath(*name.split("/"))  # checked by _plan_zip: relative, no '..', no hostile characters
            if not dest.resolve().is_relative_to(tree.resolve()):  # pragma: no cover - defence in depth
                raise InputRejected(entry_label, "the entry path leaves the folder")
            dest.parent.mkdir(parents=True, exist_ok=True)
            if dest.exists():
                raise InputRejected(entry_label, "two entries have this name once folders are taken into account")
            os.rename(target, dest)
            out.append(dest)
    return out


def _flatten(photos: list[Path], tree: Path, folder: Path) -> list[Path]:
    """Photos moved into one folder, named by their file names (by their folder path too when names repeat)."""
    folder.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for p in photos:
        counts[p.name.lower()] = counts.get(p.name.lower(), 0) + 1
    out = []
    for p in photos:
        name = p.name if counts[p.name.lower()] == 1 else "_".join(p.relative_to(tree).parts)
        if len(name.encode()) > 255 or (folder / name).exists():
            name = f"{len(out) + 1:06d}{p.suffix.lower()}"
        os.rename(p, folder / name)
        out.append(folder / name)
    return out
