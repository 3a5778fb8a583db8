"""The file store: originals under their sha256, derivatives under
deterministic paths, every write atomic (temporary file in the same folder,
fsync, then rename).

Layout under ``root``::

    originals/ab/cd/abcd…ef            the bytes as uploaded, read-only
    originals/ab/cd/abcd…ef.gz         or, for text originals (imported ALTO, METS), those bytes gzipped:
                                       ``open_original`` gives them back unchanged, the checksum is theirs
    derivatives/items/<item>/pages/<seq>/<kind>.<ext>
    derivatives/items/<item>/<kind>.<ext>
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import hashlib
import os
import shutil
import stat
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from library.errors import StoreFull

CHUNK = 1024 * 1024
#: The suffix of an original kept compressed (gzip, RFC 1952: readable by any tool, ``zcat``).
GZ = ".gz"

DERIVATIVE_NAMES = {
    "normalised": "normalised.png",  # a work file, kept only with HERITAGE_KEEP_NORMALISED=1
    "viewer": "viewer.tif",  # the tiled pyramid viewers and PDFs use (library.reading.pyramid)
    "thumbnail": "thumbnail.jpg",
    "hocr": "page.hocr",
    "alto": "page.alto.xml",
    "tsv": "page.tsv",
    "text": "page.txt",
}


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def content_sha256(path: Path) -> str:
    """The sha256 of the bytes a stored file holds: of the original's bytes for a ``.gz`` original
    (a damaged gzip stream is a mismatch: the digest of what could be read, marked), else of the file."""
    if not str(path).endswith(GZ):
        return sha256_of(path)
    h = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                h.update(chunk)
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        return f"unreadable-gzip:{type(exc).__name__}:{h.hexdigest()}"
    return h.hexdigest()


@dataclass(frozen=True)
class Written:
    relpath: str
    sha256: str
    size_bytes: int


class FileStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    # --------------------------------------------------------------- originals
    def original_relpath(self, sha256: str) -> str:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 digest: {sha256!r}")
        return f"originals/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def original_path(self, sha256: str) -> Path:
        """The path of an original kept as uploaded (a scan: what readers of images open by path)."""
        return self.root / self.original_relpath(sha256)

    def stored_original_relpath(self, sha256: str) -> str:
        """Where the original ``sha256`` is: as uploaded, or gzipped (``.gz``); as uploaded if neither."""
        rel = self.original_relpath(sha256)
        if not (self.root / rel).is_file() and (self.root / (rel + GZ)).is_file():
            return rel + GZ
        return rel

    def has_original(self, sha256: str) -> bool:
        return (self.root / self.stored_original_relpath(sha256)).is_file()

    def open_original(self, sha256: str):
        """The original's bytes as uploaded, as a binary file to read (decompressed if kept gzipped)."""
        path = self.root / self.stored_original_relpath(sha256)
        return gzip.open(path, "rb") if path.name.endswith(GZ) else open(path, "rb")

    def remove_original(self, sha256: str) -> None:
        for path in (self.original_path(sha256), self.root / (self.original_relpath(sha256) + GZ)):
            path.unlink(missing_ok=True)

    def put_original(self, source: Path, sha256: str, name: str | None = None, *, compress: bool = False) -> bool:
        """Copy ``source`` into the store under ``sha256``; False if it was already there. ``name``: the
        file as the person who sent it knows it, for the error when the store cannot take it.
        ``compress``: keep it gzipped (text originals: imported ALTO is ~10× smaller); it reads back
        unchanged through :meth:`open_original`, and its checksum stays that of the bytes sent.

        The copy is checked against the digest before it is renamed into place,
        so a file changed during upload is never stored under a wrong name.
        """
        if self.has_original(sha256):
            return False
        dest = self.root / (self.original_relpath(sha256) + (GZ if compress else ""))
        name = name or source.name
        with store_full(name):
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".incoming-")
        h = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as raw, open(source, "rb") as src:
                with (gzip.GzipFile(filename="", fileobj=raw, mode="wb", compresslevel=6, mtime=0) if compress
                      else contextlib.nullcontext(raw)) as out:
                    while chunk := src.read(CHUNK):
                        h.update(chunk)
                        out.write(chunk)
                raw.flush()
                os.fsync(raw.fileno())
            if h.hexdigest() != sha256:
                raise ValueError(f"{source.name} changed while it was being stored (checksum differs)")
            os.chmod(tmp, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
            os.replace(tmp, dest)
        except OSError as exc:
            _unlink_quietly(Path(tmp))
            if exc.errno in FULL_ERRNOS:
                raise StoreFull(_full_message(name, exc)) from exc
            raise
        except BaseException:
            _unlink_quietly(Path(tmp))
            raise
        _fsync_dir(dest.parent)
        return True

    # ------------------------------------------------------------- derivatives
    def page_derivative_relpath(self, item_id: int, sequence: int, kind: str) -> str:
        return f"derivatives/items/{int(item_id)}/pages/{int(sequence):05d}/{DERIVATIVE_NAMES[kind]}"

    def item_derivative_relpath(self, item_id: int, filename: str) -> str:
        if "/" in filename or filename.startswith("."):
            raise ValueError(f"bad derivative name {filename!r}")
        return f"derivatives/items/{int(item_id)}/{filename}"

    def write_bytes(self, relpath: str, data: bytes) -> Written:
        """Atomically write ``data`` to ``relpath``."""
        return self._write(relpath, [data])

    def write_file(self, relpath: str, source: Path) -> Written:
        """Atomically copy ``source`` to ``relpath``."""
        with open(source, "rb") as src:
            return self._write(relpath, iter(lambda: src.read(CHUNK), b""))

    def _write(self, relpath: str, chunks) -> Written:
        dest = self.resolve(relpath)
        with store_full(dest.name):
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
        h = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    h.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, dest)
        except OSError as exc:
            _unlink_quietly(Path(tmp))
            if exc.errno in FULL_ERRNOS:
                raise StoreFull(_full_message(dest.name, exc)) from exc
            raise
        except BaseException:
            _unlink_quietly(Path(tmp))
            raise
        return Written(relpath, h.hexdigest(), size)

    def link_file(self, src_relpath: str, relpath: str, *, sha256: str, size_bytes: int) -> Written:
        """``relpath`` made the same file as ``src_relpath`` (whose recorded digest and size are given):
        a hard link, so the bytes are kept once; a copy where the file system cannot link. Raises
        ``FileNotFoundError`` when the source is gone or is not the size recorded."""
        src, dest = self.resolve(src_relpath), self.resolve(relpath)
        if src.stat().st_size != size_bytes:
            raise FileNotFoundError(f"{src_relpath} is not the file recorded ({size_bytes} bytes)")
        with store_full(dest.name):
            dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".link-{os.getpid()}-{dest.name}")
        _unlink_quietly(tmp)
        try:
            os.link(src, tmp)
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK):
                raise
            return self.write_file(relpath, src)
        os.replace(tmp, dest)
        return Written(relpath, sha256, size_bytes)

    def resolve(self, relpath: str) -> Path:
        """The absolute path of ``relpath``, refusing anything that leaves the store."""
        root = self.root.resolve()
        path = (root / relpath).resolve()
        if root != path and root not in path.parents:
            raise ValueError(f"path {relpath!r} leaves the file store")
        return path

    def remove_tree(self, relpath: str) -> None:
        path = self.resolve(relpath)
        if path.exists() and not path.name.startswith("originals"):
            shutil.rmtree(path)


FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS)


def _full_message(name: str, exc: OSError) -> str:
    return (f"the file store cannot take {name}: {exc.strerror or exc} — nothing was recorded; "
            "send it again once there is room")


@contextlib.contextmanager
def store_full(name: str):
    """An OSError that says the disk is full (or read-only) as :class:`StoreFull`, naming ``name``: for
    every write to the data folder's disk (the store, and the work files beside it)."""
    try:
        yield
    except OSError as exc:
        if exc.errno in FULL_ERRNOS:
            raise StoreFull(_full_message(name, exc)) from exc
        raise



def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
