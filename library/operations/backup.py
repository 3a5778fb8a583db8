"""Backup and restore of the system of record: the catalogue and the file store.

A backup folder holds::

    manifest.json          when, the catalogue's kind and schema revision, counts, every file with its SHA-256
    catalogue.sqlite3      the SQLite catalogue (the online backup API: a consistent copy while others write)
    catalogue.pgdump       or the PostgreSQL catalogue (pg_dump -Fc, custom format, for pg_restore)
    store/originals/…      the store's files under their own relative paths
    store/derivatives/…

The catalogue is copied first; the files are the ones *that copy* names (on PostgreSQL the dump and the
file list come from one exported snapshot), each checked against the checksum the catalogue records for
it (files it records none for — an item's full text, its METS structure, 3D model outputs — are
checksummed as they are copied). Backing up into the same folder again copies only what is new: an
original already there (its name is its SHA-256), a derivative whose checksum the last manifest gave.

Not backed up: the search index (``restore`` rebuilds it from the catalogue, as ``heritage reindex``
does), the queue (pages queued when the backup was made are still queued in the catalogue and are sent
again by the sweeper), and caches made again on demand (IIIF tiles, cached exports).

``restore`` fills an empty catalogue and an empty store, then rebuilds the index and checks fixity.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import create_engine, func, inspect, make_url, select
from sqlalchemy.orm import Session

from library.catalogue import db
from library.catalogue.models import Derivative, Item, Page, StoredFile, utcnow
from library.errors import Conflict, EngineMissing, HeritageError, InputRejected
from library.settings import Settings
from library.store import CHUNK, GZ, FileStore, content_sha256, sha256_of

MANIFEST = "manifest.json"
FORMAT = 1
SQLITE_FILE = "catalogue.sqlite3"
PG_DUMP_FILE = "catalogue.pgdump"
STORE = "store"
CACHES = ("derivatives/iiif-cache/",)  # made again on demand: not backed up
CACHE_NAME_PREFIXES = ("export-",)  # cached exports of an item (library.discovery.exports)
PG_TIMEOUT_S = 6 * 3600

# progress(stage, done, total): stage is "catalogue", "files", "reindex" or "fixity"; total may be 0
Progress = Callable[[str, int, int], None]


class BackupFailed(HeritageError):
    """A backup or restore could not be made (a tool failed, the folder is not a backup)."""

    exit_code = 10


@dataclass(frozen=True)
class FileEntry:
    relpath: str  # relative to the store root
    sha256: str  # the catalogue's checksum ("original", "derivative") or taken when copied ("other")
    size_bytes: int
    kind: str  # "original" | "derivative" | "other" (a file the catalogue records no checksum for)


@dataclass
class BackupReport:
    dest: Path
    catalogue_kind: str  # "sqlite" | "postgresql"
    schema_revision: str | None
    counts: dict[str, int]
    files: int = 0
    copied: int = 0
    skipped: int = 0  # already in the backup folder (incremental)
    bytes_copied: int = 0
    problems: list[str] = field(default_factory=list)  # files missing from the store or unlike their checksum

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class RestoreReport:
    source: Path
    catalogue_kind: str
    schema_revision: str | None  # as backed up (the restore brings it to this code's revision)
    counts: dict[str, int]  # as counted in the restored catalogue
    files: int = 0
    documents_indexed: int = 0
    fixity_checked: int = 0
    problems: list[str] = field(default_factory=list)  # files of the backup missing or damaged; fixity problems

    @property
    def ok(self) -> bool:
        return not self.problems


# ====================================================================== backup
def back_up(settings: Settings, dest: Path, *, progress: Progress | None = None) -> BackupReport:
    """Write a consistent backup of the catalogue and the store into ``dest`` (created if need be;
    a folder holding an earlier backup is brought up to date, copying only what is new)."""
    progress = progress or _no_progress
    dest = Path(dest).resolve()
    if dest == settings.data_dir or settings.data_dir in dest.parents:
        raise InputRejected(str(dest), f"a backup goes outside the data folder {settings.data_dir} "
                                       "(best on another disk)")
    if _catalogue_kind(settings) == "sqlite" and not Path(make_url(settings.catalogue_url).database).is_file():
        raise InputRejected(settings.catalogue_url, "there is no catalogue to back up")
    dest.mkdir(parents=True, exist_ok=True)
    (dest / STORE).mkdir(exist_ok=True)
    previous = _previous_entries(dest)
    kind = _catalogue_kind(settings)
    store = FileStore(settings.store_dir)
    progress("catalogue", 0, 1)
    with _catalogue_snapshot(settings, dest) as s:
        revision = _revision(s)
        counts = _counts(s)
        recorded = list(_recorded_files(s, store))
    progress("catalogue", 1, 1)
    others = list(_unrecorded_files(store, {e.relpath for e in recorded}))
    report = BackupReport(dest=dest, catalogue_kind=kind, schema_revision=revision, counts=counts)
    entries = _copy_files(store, dest / STORE, recorded, others, previous, report, progress)
    _write_manifest(dest, {
        "format": FORMAT,
        "created_at": utcnow().isoformat(),
        "catalogue": {"kind": kind, "file": SQLITE_FILE if kind == "sqlite" else PG_DUMP_FILE,
                      "schema_revision": revision},
        "search_index": "not backed up: 'heritage restore' rebuilds it from the catalogue",
        "counts": counts | {"files": len(entries), "bytes": sum(e.size_bytes for e in entries)},
        "problems": report.problems,
        "files": [e.__dict__ for e in entries],
    })
    return report


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def _catalogue_kind(settings: Settings) -> str:
    return "sqlite" if settings.catalogue_url.startswith("sqlite") else "postgresql"


@contextlib.contextmanager
def _catalogue_snapshot(settings: Settings, dest: Path) -> Iterator[Session]:
    """Copy the catalogue into ``dest`` and yield a session that reads exactly what was copied."""
    if _catalogue_kind(settings) == "sqlite":
        copy = dest / SQLITE_FILE
        _sqlite_copy(Path(make_url(settings.catalogue_url).database), copy)
        engine = create_engine(f"sqlite:///{copy}")
        try:
            with Session(engine) as s:
                yield s
        finally:
            engine.dispose()
        return
    engine = db.make_engine(settings.catalogue_url)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
                _pg_dump(settings.catalogue_url, dest / PG_DUMP_FILE, snapshot)
                with Session(bind=conn) as s:
                    yield s
    finally:
        engine.dispose()


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite file (other processes may write meanwhile), in rollback-journal
    mode so that reading it makes no side files; replaced atomically, readable by its owner only."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".catalogue-")
    os.close(fd)
    try:
        with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, \
                contextlib.closing(sqlite3.connect(tmp)) as out:
            src.backup(out)
            out.execute("PRAGMA journal_mode=DELETE")
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _revision(s: Session) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(s.connection()).get_current_revision()


def _counts(s: Session) -> dict[str, int]:
    return {name: s.scalar(select(func.count()).select_from(model)) or 0
            for name, model in (("items", Item), ("pages", Page), ("originals", StoredFile),
                                ("derivatives", Derivative))}


def _recorded_files(s: Session, store: FileStore) -> Iterator[FileEntry]:
    """The files the catalogue records a checksum for: originals, then the pages' derivatives."""
    for sha, size in s.execute(select(StoredFile.sha256, StoredFile.size_bytes).order_by(StoredFile.sha256)):
        yield FileEntry(store.stored_original_relpath(sha), sha, size, "original")
    for rel, sha, size in s.execute(select(Derivative.relpath, Derivative.sha256, Derivative.size_bytes)
                                    .order_by(Derivative.id)):
        yield FileEntry(rel, sha, size, "derivative")


def _unrecorded_files(store: FileStore, recorded: set[str]) -> Iterator[str]:
    """Files of the store outside ``originals/`` the catalogue has no checksum for, but caches."""
    root = store.root
    for folder, dirs, files in os.walk(root):
        rel_folder = Path(folder).relative_to(root).as_posix()
        if rel_folder == "originals":
            dirs[:] = []
            continue
        prefix = "" if rel_folder == "." else rel_folder + "/"
        dirs[:] = sorted(d for d in dirs if not any((prefix + d + "/").startswith(c) for c in CACHES))
        for name in sorted(files):
            rel = prefix + name
            if name.startswith(".") or name.startswith(CACHE_NAME_PREFIXES) or rel in recorded:
                continue
            yield rel


def _previous_entries(dest: Path) -> dict[str, FileEntry]:
    """The files an earlier backup in ``dest`` copied intact, by relpath."""
    path = dest / MANIFEST
    if not path.is_file():
        return {}
    manifest = json.loads(path.read_text(encoding="utf-8"))
    damaged = {p.split()[1] for p in manifest.get("problems", []) if len(p.split()) > 1}
    return {f["relpath"]: FileEntry(**f) for f in manifest.get("files", []) if f["relpath"] not in damaged}


def _copy_files(store: FileStore, out: Path, recorded: list[FileEntry], others: list[str],
                previous: dict[str, FileEntry], report: BackupReport, progress: Progress) -> list[FileEntry]:
    total = len(recorded) + len(others)
    entries: list[FileEntry] = []
    for n, entry in enumerate(recorded, 1):
        target = out / entry.relpath
        before = previous.get(entry.relpath)
        if target.is_file() and (entry.kind == "original" or (before and before.sha256 == entry.sha256)):
            report.skipped += 1
        else:
            source = store.resolve(entry.relpath)
            if not source.is_file():
                report.problems.append(f"MISSING  {entry.relpath}  ({entry.kind}): not in the store")
                entries.append(entry)
                continue
            sha, size = copy_verified(source, target)
            report.copied += 1
            report.bytes_copied += size
            if entry.relpath.endswith(GZ):  # an original kept gzipped: its checksum is of the bytes it holds
                sha = content_sha256(target)
            if sha != entry.sha256:
                report.problems.append(f"MISMATCH {entry.relpath}  ({entry.kind}): the catalogue says "
                                       f"{entry.sha256}, the store holds {sha}")
        entries.append(entry)
        progress("files", n, total)
    for n, rel in enumerate(others, len(recorded) + 1):
        source, target = store.resolve(rel), out / rel
        sha = sha256_of(source)
        before = previous.get(rel)
        if target.is_file() and before and before.sha256 == sha:
            report.skipped += 1
            size = before.size_bytes
        else:
            sha, size = copy_verified(source, target)
            report.copied += 1
            report.bytes_copied += size
        entries.append(FileEntry(rel, sha, size, "other"))
        progress("files", n, total)
    report.files = len(entries)
    return entries


def copy_verified(source: Path, target: Path) -> tuple[str, int]:
    """Copy ``source`` to ``target`` atomically (temporary file, fsync, rename); its sha256 and size."""
    target.parent.mkdir(parents=True, exist_ok=True)
    h, size = hashlib.sha256(), 0
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as dst, open(source, "rb") as src:
            while chunk := src.read(CHUNK):
                h.update(chunk)
                size += len(chunk)
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return h.hexdigest(), size


def _write_manifest(dest: Path, manifest: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=dest, prefix=".manifest-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, dest / MANIFEST)


# ====================================================================== restore
def read_manifest(source: Path) -> dict:
    path = Path(source) / MANIFEST
    if not path.is_file():
        raise InputRejected(str(source), f"not a backup folder: it has no {MANIFEST}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InputRejected(str(path), f"not valid JSON ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise InputRejected(str(path), f"backup format {manifest.get('format')!r} is not one this version "
                                       f"reads ({FORMAT})")
    return manifest


def restore(source: Path, settings: Settings, *, progress: Progress | None = None) -> RestoreReport:
    """Restore the backup in ``source`` into the empty catalogue and store ``settings`` name, rebuild the
    search index from it and check the fixity of every file. Refuses (Conflict) a target holding data."""
    from library.container import build_platform
    from library.fixity import check_fixity

    progress = progress or _no_progress
    source = Path(source)
    manifest = read_manifest(source)
    kind = manifest["catalogue"]["kind"]
    if kind != _catalogue_kind(settings):
        raise Conflict(f"this backup holds a {kind} catalogue; the target catalogue is "
                       f"{_catalogue_kind(settings)} (set HERITAGE_DATABASE_URL to match)")
    settings.ensure_dirs()
    refuse_non_empty(settings)
    progress("catalogue", 0, 1)
    _restore_catalogue(source, manifest, settings)
    progress("catalogue", 1, 1)
    report = RestoreReport(source=source, catalogue_kind=kind,
                           schema_revision=manifest["catalogue"].get("schema_revision"), counts={})
    _restore_files(source / STORE, manifest["files"], settings.store_dir, report, progress)
    platform = build_platform(settings)  # brings a backup of an older schema up to this code's
    try:
        with platform.sessions() as s:
            report.counts = _counts(s)
        documents = platform.indexer.document_count()
        report.documents_indexed = platform.indexer.rebuild(
            progress=lambda done: progress("reindex", done, documents))
        fixity = check_fixity(platform.sessions, platform.store,
                              progress=lambda done, total: progress("fixity", done, total))
    finally:
        platform.close()
    report.fixity_checked = fixity.checked
    report.problems += [str(p) for p in fixity.problems if str(p) not in report.problems]
    return report


def refuse_non_empty(settings: Settings) -> None:
    """A restore fills an empty catalogue and store only (it never mixes two platforms' records)."""
    store = settings.store_dir
    if store.is_dir() and any(p.is_file() for p in store.rglob("*")):
        raise Conflict(f"the file store {store} is not empty: restore into an empty data folder")
    engine = db.make_engine(settings.catalogue_url)
    try:
        tables = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if tables:
        where = make_url(settings.catalogue_url).render_as_string(hide_password=True)
        raise Conflict(f"the catalogue {where} is not empty ({len(tables)} tables): restore into an empty "
                       "catalogue")


def _restore_catalogue(source: Path, manifest: dict, settings: Settings) -> None:
    backup_file = source / manifest["catalogue"]["file"]
    if not backup_file.is_file():
        raise InputRejected(str(source), f"the backup has no {backup_file.name}")
    if manifest["catalogue"]["kind"] == "sqlite":
        target = Path(make_url(settings.catalogue_url).database)
        for side in (target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
            side.unlink(missing_ok=True)
        _sqlite_copy(backup_file, target)
        return
    _pg_restore(settings.catalogue_url, backup_file)


def _restore_files(backup_store: Path, files: list[dict], store_dir: Path, report: RestoreReport,
                   progress: Progress) -> None:
    store = FileStore(store_dir)
    for n, f in enumerate(files, 1):
        rel = f["relpath"]
        src = backup_store / rel
        if not src.is_file():
            report.problems.append(f"MISSING  {rel}  ({f['kind']}): not in the backup")
            continue
        target = store.resolve(rel)
        sha, _size = copy_verified(src, target)
        if rel.endswith(GZ) and f["kind"] == "original":
            sha = content_sha256(target)
        if f["kind"] == "original":
            os.chmod(target, 0o444)  # originals are read-only in the store
        if sha != f["sha256"]:
            report.problems.append(f"MISMATCH {rel}  ({f['kind']}): the backup holds {sha}, "
                                   f"the manifest says {f['sha256']}")
        report.files += 1
        progress("files", n, len(files))


# ================================================================= PostgreSQL tools
def _pg_program(name: str) -> str:
    found = shutil.which(name) or (sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [None])[-1]
    if not found:
        raise EngineMissing(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _libpq_env(url: str) -> dict[str, str]:
    """The connection as libpq's environment variables (a password never appears on a command line)."""
    u = make_url(url)
    env = dict(os.environ)
    for key, value in (("PGHOST", u.query.get("host") or u.host), ("PGPORT", u.port), ("PGUSER", u.username),
                       ("PGPASSWORD", u.password), ("PGDATABASE", u.database)):
        if value is not None:
            env[key] = str(value)
    return env


def _run_pg(args: list[str], url: str, what: str) -> None:
    try:
        done = subprocess.run(args, env=_libpq_env(url), capture_output=True, text=True, timeout=PG_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise BackupFailed(f"{what} ran past {PG_TIMEOUT_S} s") from None
    if done.returncode != 0:
        raise BackupFailed(f"{what} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def _pg_dump(url: str, target: Path, snapshot: str) -> None:
    tmp = target.with_name("." + target.name + ".tmp")
    _run_pg([_pg_program("pg_dump"), "--format=custom", f"--snapshot={snapshot}", "--no-owner",
             f"--file={tmp}"], url, "pg_dump")
    os.chmod(tmp, 0o600)
    os.replace(tmp, target)


def _pg_restore(url: str, dump: Path) -> None:
    _run_pg([_pg_program("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
             f"--dbname={make_url(url).database}", str(dump)], url, "pg_restore")

