"""Monuments and their 3D models: the use cases behind the curator's uploads,
the build task, its progress by stage, cancel and retry.

A build is a new version of a model. Its sources (photos, a point cloud or a
mesh) are stored once under their sha256 like every original; the worker
copies them into a work folder, runs ``heritage3d.build_model`` (imported
only there), and publishes the outputs into the store only when the whole
build succeeded, so nothing partial is ever published.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from library.ingest.uploads import expand_upload
from library.access import Actor, require_permission
from library.errors import Conflict, HeritageError, InputRejected, NotFound
from library.ingest.filenames import name_problem
from library.catalogue.naturalsort import slugify
from library.catalogue.models import (
    BuildStatus,
    HeritageRank,
    ModelVersion,
    Monument,
    MonumentModel,
    StoredFile,
    as_utc,
    utcnow,
)
from heritage3d import formats as inputs3d
from library import leases
from library.queue import TaskQueue
from library.settings import Settings
from library.store import FileStore, sha256_of
from library.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

BUILD_MODEL = "workers.build_model"
# who may: library.access.PERMISSIONS (curators, admins and the system)
MONUMENT_ACTION, BUILD_ACTION = "manage_monuments", "manage_3d_builds"
# the file types a build accepts are heritage3d's (one list, so the upload never accepts what the engine refuses)
POINT_CLOUD_SUFFIXES = frozenset(inputs3d.CLOUD_SUFFIXES | inputs3d.EITHER_SUFFIXES)
MESH_SUFFIXES = frozenset(inputs3d.MESH_SUFFIXES)
MIN_PHOTOS = 3
MONUMENTS_PER_PAGE = 100  # the public list of monuments, a page at a time
MAX_MONUMENT_PAGES = 100  # how deep it pages (a bounded OFFSET on the name order)
OBJ_COMPANION_SUFFIXES = frozenset(inputs3d.OBJ_COMPANION_SUFFIXES)


class BuildCancelled(HeritageError):
    """The curator cancelled the build."""


@dataclass(frozen=True)
class BuildSource:
    path: Path
    name: str


@dataclass(frozen=True)
class PublishedModel:
    model_id: int
    title: str
    licence: str | None
    version_id: int
    version: int
    levels: list[tuple[str, str, int]]  # (name, file, bytes), smallest first
    thumbnail: str | None
    codec: str = "none"  # the levels' geometry compression: "draco", "meshopt" or "none" (the decoder a viewer needs)


def _codec(options: dict) -> str:
    """The geometry compression a build's levels got (heritage3d.pipeline.BuildOptions.codec), from its
    report's options: ``draco`` by default, ``none`` where an older report said ``draco: false``."""
    compression = options.get("compression", "draco")
    return "none" if compression == "draco" and options.get("draco") is False else compression


class MonumentService:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session], store: FileStore, queue: TaskQueue,
                 work: UnitOfWork):
        self.settings = settings
        self.sessions = sessions
        self.store = store
        self.queue = queue
        self.work = work  # every change: an explicit actor; commit, then search, then the build task

    # ------------------------------------------------------------ monuments
    def create_monument(self, *, name_vi: str, name_en: str | None = None, description_vi: str | None = None,
                        description_en: str | None = None, address: str | None = None, lat: float | None = None,
                        lon: float | None = None, period: str | None = None, year_start: int | None = None,
                        year_end: int | None = None, heritage_rank: str = "none",
                        actor: Actor) -> Monument:
        """A new monument, found by search as soon as it is committed."""
        require_permission(actor, MONUMENT_ACTION)
        values = _monument_values(name_vi=name_vi, name_en=name_en, description_vi=description_vi,
                                  description_en=description_en, address=address, lat=lat, lon=lon, period=period,
                                  year_start=year_start, year_end=year_end, heritage_rank=heritage_rank)
        with self.work(actor) as work:
            s = work.session
            slug = slugify(values["name_vi"])
            if s.scalar(select(func.count()).select_from(Monument).where(Monument.slug == slug)):
                raise Conflict(f"a monument named {values['name_vi']!r} exists already")
            m = Monument(slug=slug, index_pending=True, **values)
            s.add(m)
            s.flush()
            work.audit("monument_create", record_id=m.id, detail={"name_vi": values["name_vi"]})
            work.index()
        return m

    def update_monument(self, monument_id: int, *, name_vi: str, name_en: str | None = None,
                        description_vi: str | None = None, description_en: str | None = None,
                        address: str | None = None, lat: float | None = None, lon: float | None = None,
                        period: str | None = None, year_start: int | None = None, year_end: int | None = None,
                        heritage_rank: str = "none", actor: Actor) -> Monument:
        """Every field replaced by the values given (the slug stays, so links to the page keep working);
        search follows once the change is committed."""
        require_permission(actor, MONUMENT_ACTION)
        values = _monument_values(name_vi=name_vi, name_en=name_en, description_vi=description_vi,
                                  description_en=description_en, address=address, lat=lat, lon=lon, period=period,
                                  year_start=year_start, year_end=year_end, heritage_rank=heritage_rank)
        with self.work(actor) as work:
            s = work.session
            m = s.get(Monument, monument_id)
            if m is None:
                raise NotFound(f"no monument {monument_id}")
            for key, value in values.items():
                setattr(m, key, value)
            m.revision += 1
            m.index_pending = True
            work.audit("monument_edit", record_id=monument_id, detail={"name_vi": values["name_vi"]})
            work.index()
        return m

    def monument(self, monument_id: int) -> Monument:
        with self.sessions() as s:
            m = s.get(Monument, monument_id)
            if m is None:
                raise NotFound(f"no monument {monument_id}")
            return m

    def monuments(self) -> list[Monument]:
        """Every monument by name (staff lists; the public ones page with :meth:`monuments_page`)."""
        with self.sessions() as s:
            return list(s.scalars(select(Monument).order_by(Monument.name_vi)))

    def monuments_page(self, page: int = 1, per_page: int = MONUMENTS_PER_PAGE) -> tuple[list[Monument], bool]:
        """One page of the monuments by Vietnamese name (then id), ``per_page`` (capped to 100) at a time,
        at most MAX_MONUMENT_PAGES deep (a bounded OFFSET); and whether a next page exists."""
        per_page = max(1, min(int(per_page), MONUMENTS_PER_PAGE))
        page = max(1, min(int(page), MAX_MONUMENT_PAGES))
        with self.sessions() as s:
            rows = list(s.scalars(select(Monument).order_by(Monument.name_vi, Monument.id)
                                  .limit(per_page + 1).offset((page - 1) * per_page)))
        return rows[:per_page], len(rows) > per_page and page < MAX_MONUMENT_PAGES

    def featured(self, limit: int = 12) -> list[Monument]:
        """Up to ``limit`` monuments for the home page: those with a model built first, then by name."""
        with self.sessions() as s:
            built = select(MonumentModel.monument_id).join(ModelVersion, ModelVersion.model_id == MonumentModel.id) \
                .where(ModelVersion.status == BuildStatus.done)
            first = list(s.scalars(select(Monument).where(Monument.id.in_(built))
                                   .order_by(Monument.name_vi, Monument.id).limit(limit)))
            rest = list(s.scalars(select(Monument).where(Monument.id.not_in(built))
                                  .order_by(Monument.name_vi, Monument.id).limit(limit - len(first)))) \
                if len(first) < limit else []
        return first + rest

    def by_slug(self, slug: str) -> Monument:
        with self.sessions() as s:
            m = s.scalars(select(Monument).where(Monument.slug == slug)).first()
            if m is None:
                raise NotFound(f"no monument {slug!r}")
            return m

    def published(self, monument_id: int) -> list[PublishedModel]:
        """The newest successful build of each of the monument's models, smallest level first."""
        out = []
        with self.sessions() as s:
            models = s.scalars(select(MonumentModel).where(MonumentModel.monument_id == monument_id)
                               .order_by(MonumentModel.id)).all()
            for model in models:
                v = s.scalars(select(ModelVersion).where(ModelVersion.model_id == model.id,
                                                         ModelVersion.status == BuildStatus.done)
                              .order_by(ModelVersion.number.desc())).first()
                if v is None or not v.report:
                    continue
                report = json.loads(v.report)
                # the report lists the most detailed level first: on equal sizes the lighter level goes first
                levels = [lv for _, lv in sorted(enumerate(report.get("levels", [])),
                                                 key=lambda pair: (pair[1].get("bytes", 0), -pair[0]))]
                out.append(PublishedModel(model.id, model.title, model.licence, v.id, v.number,
                                          [(lv["name"], lv["file"], lv.get("bytes", 0)) for lv in levels],
                                          report.get("thumbnail"), _codec(report.get("options") or {})))
        return out

    def models(self, monument_id: int) -> list[MonumentModel]:
        """The monument's models with every build (version) of each, oldest first, for the curator."""
        from sqlalchemy.orm import selectinload

        with self.sessions() as s:
            return list(s.scalars(select(MonumentModel).where(MonumentModel.monument_id == monument_id)
                                  .options(selectinload(MonumentModel.versions)).order_by(MonumentModel.id)))

    def model_file(self, version_id: int, name: str) -> Path:
        """A published file of a build (a GLB level, the thumbnail, the report), by its plain name only."""
        import re

        if not re.fullmatch(r"[a-z0-9_-]{1,40}\.(glb|png|webp|json)", name):
            raise NotFound(f"no file {name[:60]!r}")
        v = self.version(version_id)
        if v.status != BuildStatus.done or not v.output_relpath:
            raise NotFound(f"build {version_id} is not published")
        path = self.store.resolve(f"{v.output_relpath}/{name}")
        if not path.is_file():
            raise NotFound(f"no file {name!r} in build {version_id}")
        return path

    # -------------------------------------------------------------- builds
    def submit_build(self, monument_id: int, uploads: list[BuildSource], *, title: str | None = None,
                     model_id: int | None = None, settings: dict | None = None, licence: str | None = None,
                     actor: Actor) -> ModelVersion:
        """Store the sources, create the model (or a new version of it) and enqueue its build (the task
        is sent once the version is committed)."""
        require_permission(actor, BUILD_ACTION)
        user_id = actor.user.id if actor.user is not None else None
        staging = self.settings.work_dir / "staging" / uuid.uuid4().hex
        staging.mkdir(parents=True)
        try:
            kind, files = self._check_sources(uploads, staging)
            for path, name, sha in files:
                self.store.put_original(path, sha)
            with self.work(actor) as work:
                s = work.session
                monument = s.get(Monument, monument_id)
                if monument is None:
                    raise NotFound(f"no monument {monument_id}")
                for path, name, sha in files:
                    if s.get(StoredFile, sha) is None:
                        s.add(StoredFile(sha256=sha, size_bytes=path.stat().st_size, media_type=_media_type(name),
                                         original_name=name, page_count=0, uploaded_by=user_id))
                if model_id is None:
                    model = MonumentModel(monument=monument, title=title or monument.name_vi, licence=licence)
                    s.add(model)
                else:
                    model = s.get(MonumentModel, model_id)
                    if model is None or model.monument_id != monument_id:
                        raise NotFound(f"no model {model_id} of monument {monument_id}")
                s.flush()
                number = (s.scalar(select(func.max(ModelVersion.number)).where(ModelVersion.model_id == model.id))
                          or 0) + 1
                version = ModelVersion(model_id=model.id, number=number, input_kind=kind,
                                       sources=json.dumps([{"sha256": sha, "name": name} for _, name, sha in files],
                                                          ensure_ascii=False),
                                       settings=json.dumps(settings or {}, sort_keys=True),
                                       created_by=user_id, status=BuildStatus.queued)
                s.add(version)
                s.flush()
                version_id = version.id
                work.audit("build_start", record_id=version_id,
                           detail={"monument_id": monument_id, "model_id": model.id, "kind": kind,
                                   "files": len(files)})
                self._send(work, version_id)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return self.version(version_id)

    def _check_sources(self, uploads: list[BuildSource], staging: Path) -> tuple[str, list[tuple[Path, str, str]]]:
        problems: list[InputRejected] = []
        photos: list[tuple[Path, str, str]] = []
        others: list[tuple[Path, str, str]] = []
        companions: list[tuple[Path, str, str]] = []  # an OBJ's material files and textures
        with_obj = any(Path(up.name).suffix.lower() == ".obj" for up in uploads)
        for n, up in enumerate(uploads):
            suffix = Path(up.name).suffix.lower()
            if with_obj and suffix in OBJ_COMPANION_SUFFIXES:
                problem = name_problem(up.name) or _file_size_problem(up.path, self.settings.limits.max_file_bytes)
                if problem:
                    problems.append(InputRejected(up.name, problem))
                else:
                    companions.append((up.path, Path(up.name).name, sha256_of(up.path)))
                continue
            if suffix in POINT_CLOUD_SUFFIXES | MESH_SUFFIXES:
                problem = name_problem(up.name)
                if problem:
                    problems.append(InputRejected(up.name, problem))
                    continue
                problem = _file_size_problem(up.path, self.settings.limits.max_file_bytes)
                if problem:
                    problems.append(InputRejected(up.name, problem))
                else:
                    others.append((up.path, up.name, sha256_of(up.path)))
                continue
            sub = staging / f"{n:04d}"
            sub.mkdir()
            exp = expand_upload(up.path, staging_dir=sub, limits=self.settings.limits, original_name=up.name)
            problems.extend(exp.problems)
            photos.extend((f.path, f.original_name, f.sha256) for f in exp.files)
        if problems:
            raise problems[0] if len(problems) == 1 else InputRejected(
                "upload", "; ".join(str(p) for p in problems[:10]))
        if photos and others:
            raise InputRejected("upload", "send either photos, or one point cloud, or one mesh — not a mix")
        if others:
            if len(others) > 1:
                raise InputRejected("upload", "send one point cloud or one mesh per build")
            kind = "point_cloud" if Path(others[0][1]).suffix.lower() in POINT_CLOUD_SUFFIXES else "mesh"
            if Path(others[0][1]).suffix.lower() == ".ply":  # a PLY is a mesh when it declares faces
                from heritage3d.errors import Heritage3DError
                from heritage3d.inputs import ply_header

                try:
                    kind = "mesh" if ply_header(others[0][0]).get("face", (0,))[0] > 0 else "point_cloud"
                except Heritage3DError as exc:
                    raise InputRejected(others[0][1], str(exc)) from None
            names = [Path(name).name.lower() for _, name, _ in others + companions]
            if len(set(names)) < len(names):
                raise InputRejected("upload", "two files have the same name: the mesh finds its materials and "
                                              "textures by name, so each name must be unique")
            return kind, others + companions
        if len(photos) < MIN_PHOTOS:
            raise InputRejected("upload", f"{len(photos)} photo(s) is too few to build a model: take at least "
                                          f"{MIN_PHOTOS}, overlapping by about two thirds, all around the subject")
        return "photos", photos

    def version(self, version_id: int) -> ModelVersion:
        with self.sessions() as s:
            v = s.get(ModelVersion, version_id)
            if v is None:
                raise NotFound(f"no model version {version_id}")
            return v

    def cancel(self, version_id: int, *, actor: Actor) -> ModelVersion:
        """A queued build is cancelled at once; a running one stops at its next stage boundary."""
        require_permission(actor, BUILD_ACTION)
        with self.work(actor) as work:
            s = work.session
            v = s.get(ModelVersion, version_id)
            if v is None:
                raise NotFound(f"no model version {version_id}")
            if v.status == BuildStatus.queued:
                v.status, v.status_reason, v.finished_at = BuildStatus.cancelled, "cancelled before it started", utcnow()
            elif v.status == BuildStatus.running:
                v.cancel_requested = True
            else:
                raise Conflict(f"build {version_id} is {v.status.value}; only queued or running builds can be cancelled")
            work.audit("build_cancel", record_id=version_id)
        return self.version(version_id)

    def retry(self, version_id: int, *, actor: Actor) -> ModelVersion:
        """A failed or cancelled build queued again (its task sent once that is committed)."""
        require_permission(actor, BUILD_ACTION)
        with self.work(actor) as work:
            s = work.session
            v = s.get(ModelVersion, version_id)
            if v is None:
                raise NotFound(f"no model version {version_id}")
            if v.status not in (BuildStatus.failed, BuildStatus.cancelled):
                raise Conflict(f"build {version_id} is {v.status.value}; only failed or cancelled builds are retried")
            v.status, v.status_reason, v.cancel_requested = BuildStatus.queued, "retry requested", False
            v.stage, v.progress, v.queued_at = None, 0.0, None
            work.audit("build_retry", record_id=version_id)
            self._send(work, version_id)
        return self.version(version_id)

    def _send(self, work, version_id: int) -> None:
        """The build task, sent once ``work`` has committed; then the version is marked as sent."""
        work.send(BUILD_MODEL, version_id)
        work.then(lambda: version_id in work.accepted_ids(BUILD_MODEL) and self._mark_sent(version_id))

    def _mark_sent(self, version_id: int) -> None:
        with self.sessions.begin() as s:
            s.execute(update(ModelVersion).where(ModelVersion.id == version_id).values(queued_at=utcnow()))

    # ------------------------------------------------------- the build task
    def build(self, version_id: int) -> BuildStatus:
        """Run one build end to end (called by the worker task)."""
        token = self._claim(version_id)
        if isinstance(token, BuildStatus):
            return token
        work = self.settings.work_dir / "builds" / f"{version_id}"
        out_rel = f"derivatives/models/{version_id}"
        stop = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(version_id, token, stop), daemon=True)
        beat.start()
        try:
            inputs, options = self._prepare_inputs(version_id, work)
            out_dir = self.store.resolve(out_rel)
            if out_dir.exists():
                shutil.rmtree(out_dir)  # an earlier attempt's leftovers are never published
            import heritage3d

            report = heritage3d.build_model(inputs, out_dir=out_dir, work_dir=work / "stages", options=options,
                                            progress=self._progress_writer(version_id))
        except BuildCancelled as exc:
            self._finish(version_id, token, BuildStatus.cancelled, str(exc))
            return BuildStatus.cancelled
        except Exception as exc:  # a build that cannot succeed ends with its reason; nothing is published
            reason = str(exc) if isinstance(exc, HeritageError) or type(exc).__module__.startswith("heritage3d") \
                else f"{type(exc).__name__}: {exc}"
            self._finish(version_id, token, BuildStatus.failed, reason)
            shutil.rmtree(self.store.resolve(out_rel), ignore_errors=True)
            return BuildStatus.failed
        finally:
            stop.set()
            beat.join(timeout=5)
        with self.sessions.begin() as s:
            v = s.get(ModelVersion, version_id)
            v.report = json.dumps(report.as_dict(), ensure_ascii=False)
            v.output_relpath = out_rel
            v.pipeline_version = report.pipeline_version
        self._finish(version_id, token, BuildStatus.done, None)
        shutil.rmtree(work, ignore_errors=True)
        return BuildStatus.done

    def _claim(self, version_id: int):
        stale = utcnow() - timedelta(seconds=max(2 * self.settings.heartbeat_s, 5))
        token = leases.new_token()
        with self.sessions.begin() as s:
            v = s.get(ModelVersion, version_id)
            if v is None:
                return BuildStatus.failed
            if v.status in (BuildStatus.done, BuildStatus.cancelled, BuildStatus.failed):
                return v.status
            if v.status == BuildStatus.running and v.heartbeat_at and as_utc(v.heartbeat_at) > stale:
                return BuildStatus.running
            now = utcnow()
            # compare-and-set: of two workers that read the build as free, exactly one takes it
            if not leases.take(s, ModelVersion, version_id, seen_token=v.lease_token, seen_status=v.status,
                               values=dict(status=BuildStatus.running, lease_token=token,
                                           attempts=ModelVersion.attempts + 1, started_at=now, heartbeat_at=now,
                                           status_reason=None)):
                return BuildStatus.running
        return token

    def _heartbeat(self, version_id: int, token: str, stop: threading.Event) -> None:
        while not stop.wait(self.settings.heartbeat_s):
            try:
                with self.sessions.begin() as s:
                    s.execute(update(ModelVersion).where(ModelVersion.id == version_id, ModelVersion.lease_token == token)
                              .values(heartbeat_at=utcnow()))
            except Exception as exc:
                log.warning("heartbeat of build %s failed: %s", version_id, exc)

    def _progress_writer(self, version_id: int) -> Callable[[str, float], None]:
        last = [0.0]

        def progress(stage: str, fraction: float) -> None:
            with self.sessions.begin() as s:
                v = s.get(ModelVersion, version_id)
                if v.cancel_requested:
                    raise BuildCancelled(f"cancelled during {stage}")
                now = time.monotonic()
                if now - last[0] > 0.5 or fraction >= 1.0 or v.stage != stage:
                    v.stage, v.progress = stage, max(0.0, min(1.0, float(fraction)))
                    last[0] = now

        return progress

    def _prepare_inputs(self, version_id: int, work: Path):
        import heritage3d

        with self.sessions() as s:
            v = s.get(ModelVersion, version_id)
            srcs = json.loads(v.sources)
            settings = json.loads(v.settings or "{}")
            input_kind = v.input_kind
        inputs_dir = work / "inputs"
        if inputs_dir.exists():
            shutil.rmtree(inputs_dir)
        inputs_dir.mkdir(parents=True)
        inputs = []
        staged_name = {}
        for n, src in enumerate(srcs):
            suffix = Path(src["name"]).suffix.lower()
            target = inputs_dir / f"{n:05d}{suffix if suffix.isascii() and len(suffix) <= 6 else ''}"
            if input_kind == "mesh" and not name_problem(src["name"]):
                target = inputs_dir / Path(src["name"]).name  # an OBJ names its MTL, the MTL its textures
            shutil.copyfile(self.store.original_path(src["sha256"]), target)
            inputs.append(target)
            staged_name[src["name"]] = target.name
        if settings.get("known_distance"):  # the curator names photos as uploaded; the engine sees staged names
            a, b, metres = settings["known_distance"]
            settings["known_distance"] = (staged_name.get(a, a), staged_name.get(b, b), float(metres))
        try:
            options = heritage3d.BuildOptions(**settings)
        except (TypeError, ValueError) as exc:
            raise InputRejected("settings", f"the build settings are not valid: {exc}") from None
        return inputs, options

    def _finish(self, version_id: int, token: str, status: BuildStatus, reason: str | None) -> None:
        with self.sessions.begin() as s:
            v = s.get(ModelVersion, version_id)
            if v.lease_token != token:
                return
            v.status, v.status_reason, v.lease_token, v.finished_at = status, reason, None, utcnow()
            if status == BuildStatus.done:
                v.stage, v.progress = "published", 1.0
                monument = v.model.monument
                monument.revision += 1
                monument.index_pending = True


def _monument_values(*, name_vi, name_en, description_vi, description_en, address, lat, lon, period, year_start,
                     year_end, heritage_rank) -> dict:
    """A monument's fields checked and cleaned (NFC, no markup), or :class:`InputRejected` naming the field."""
    from library.catalogue.text_values import validate_text_value

    texts = {"name_vi": name_vi, "name_en": name_en, "description_vi": description_vi,
             "description_en": description_en, "address": address, "period": period}
    clean: dict = {}
    for key, value in texts.items():
        clean[key] = validate_text_value(value, field=key, source="monument",
                                         limit=20_000 if key.startswith("description") else 500)
    if not clean["name_vi"]:
        raise InputRejected("monument", "a Vietnamese name (name_vi) is required")
    if (lat is None) != (lon is None):
        raise InputRejected("monument", "give both the latitude and the longitude, or neither")
    if lat is not None:
        try:
            lat, lon = float(lat), float(lon)
        except (TypeError, ValueError):
            raise InputRejected("monument", f"coordinates {lat}, {lon} are not numbers") from None
        if not -90 <= lat <= 90 or not -180 <= lon <= 180:  # NaN fails both
            raise InputRejected("monument", f"coordinates {lat}, {lon} are not WGS 84 degrees")
    years = []
    for key, year in (("year_start", year_start), ("year_end", year_end)):
        if year is not None and (isinstance(year, bool) or not isinstance(year, int) or not -3000 <= year <= 3000):
            raise InputRejected("monument", f"{key}: {year!r} is not a year between -3000 and 3000")
        years.append(year)
    if None not in years and years[1] < years[0]:
        raise InputRejected("monument", f"year_end {years[1]} is before year_start {years[0]}")
    try:
        rank = HeritageRank(heritage_rank)
    except ValueError:
        raise InputRejected("heritage_rank", f"{heritage_rank!r} is not one of "
                            + ", ".join(r.value for r in HeritageRank)) from None
    return dict(clean, lat=lat, lon=lon, year_start=year_start, year_end=year_end, heritage_rank=rank)


def _file_size_problem(path: Path, limit: int) -> str | None:
    size = path.stat().st_size
    if size == 0:
        return "the file is empty"
    if size > limit:
        return f"{size:,} bytes is more than the limit of {limit:,}"
    return None


def _media_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".tif": "image/tiff",
            ".tiff": "image/tiff", ".ply": "application/ply", ".las": "application/vnd.las",
            ".laz": "application/vnd.laszip", ".xyz": "text/plain", ".obj": "model/obj", ".glb": "model/gltf-binary",
            ".gltf": "model/gltf+json", ".stl": "model/stl"}.get(suffix, "application/octet-stream")


