"""The file store: originals under their sha256, derivatives under
deterministic paths, every write atomic (temporary file in the same folder,
fsync, then rename).

Layout under ``root``::

    originals/ab/cd/abcd…ef            the bytes as uploaded, read-only
    derivatives/items/<item>/pages/<seq>/<kind>.<ext>
    derivatives/items/<item>/<kind>.<ext>
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from library.errors import StoreFull

CHUNK = 1024 * 1024

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
        return self.root / self.original_relpath(sha256)

    def has_original(self, sha256: str) -> bool:
        return self.original_path(sha256).is_file()

    def put_original(self, source: Path, sha256: str, name: str | None = None) -> bool:
        """Copy ``source`` into the store under ``sha256``; False if it was already there. ``name``: the
        file as the person who sent it knows it, for the error when the store cannot take it.

        The copy is checked against the digest before it is renamed into place,
        so a file changed during upload is never stored under a wrong name.
        """
        dest = self.original_path(sha256)
        if dest.is_file():
            return False
        name = name or source.name
        with store_full(name):
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".incoming-")
        h = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                while chunk := src.read(CHUNK):
                    h.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
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
