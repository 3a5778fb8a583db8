"""The ``heritage`` command: an edge like the web and the workers. Each
command parses its arguments, calls one use case, and prints the outcome.
Errors of the domain become a message on stderr and an exit code.

It never imports the web or worker code: ``heritage serve`` starts them as
child processes (``python -m web``, ``python -m workers``).
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
from tqdm import tqdm

from library.errors import HeritageError
from library.settings import Settings


def _settings() -> Settings:
    return Settings.from_env()


def _platform():
    from library.container import build_platform

    return build_platform(_settings())


def handle_errors(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except HeritageError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper


@click.group(help="Hanoi heritage digitization platform. All state lives in $HERITAGE_DATA_DIR (default ./data).")
def main() -> None:
    pass


# ------------------------------------------------------------------- ingest
@main.command(help="Ingest scans: each PATH (image, multi-page TIFF, PDF, folder or zip of pages) "
                   "becomes one item; a .csv PATH is a metadata sheet listing many items. A METS/ALTO package "
                   "(folder or zip) is imported already read, one item; a folder of packages or an NDNP batch "
                   "(a folder with a batch*.xml naming its issues) gives one item per package.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--title")
@click.option("--creator")
@click.option("--date", "date_", help="e.g. 1858, 1858-07-10, 1930s, 'khoảng 1930'")
@click.option("--publisher")
@click.option("--lang", "languages", help="languages, e.g. vie, vie+fra, eng, lzh (Hán script, read by PP-OCR), lzh+vie (default vie)")
@click.option("--type", "item_type", help="book, newspaper, magazine, manuscript or other")
@click.option("--subject")
@click.option("--identifier", help="identifier or call number")
@click.option("--rights")
@click.option("--collection")
@click.option("--serial-title")
@click.option("--issue-date")
@click.option("--issue-number")
@click.option("--psm", type=int, help="tesseract page segmentation mode (default 3, automatic)")
@click.option("--binarize/--no-binarize", default=None)
@click.option("--osd/--no-osd", "detect_orientation", default=None, help="detect page rotation with tesseract OSD")
@click.option("--skip", "stages_off", multiple=True, metavar="STAGE",
              help="switch an optional OCR stage off for this item (see 'heritage ocr --help')")
@click.option("--dry-run", is_flag=True, help="check everything, store nothing")
@click.option("--wait", is_flag=True, help="wait for the workers to read every page, with a progress bar")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="processes that read and check METS/ALTO packages ahead of the one storing them "
                   "(a batch of packages; about one per core)")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def ingest(paths, title, creator, date_, publisher, languages, item_type, subject, identifier, rights,
           collection, serial_title, issue_date, issue_number, psm, binarize, detect_orientation, stages_off,
           dry_run, wait, jobs, as_json):
    from library.ingest.service import Upload

    p = _platform()
    meta = {k: v for k, v in dict(
        title=title, creator=creator, date=date_, publisher=publisher, language=languages, type=item_type,
        subject=subject, identifier=identifier, rights=rights, collection=collection, serial_title=serial_title,
        issue_date=issue_date, issue_number=issue_number).items() if v is not None}
    options = {k: v for k, v in dict(psm=psm, binarize=binarize, detect_orientation=detect_orientation,
                                     stages_off=sorted(stages_off) or None).items()
               if v is not None}
    reports = []
    work = _ingest_work(paths)  # a batch of METS packages (batch file, folder of packages) is one entry each
    bar = tqdm(total=len(work), desc="ingest", unit="package", disable=len(work) < 2 or as_json)

    def package_done(outcome) -> None:
        reports.append(outcome.as_ingest_report(dry_run=dry_run))
        bar.set_postfix_str(outcome.source, refresh=False)
        bar.update(1)

    with p.indexer.batched():  # a batch of many packages tells search every few seconds, not per item
        for n, (kind, entry) in enumerate(work):
            if kind == "mets":  # already read (METS + ALTO + images): imported, nothing queued for OCR
                if n and work[n - 1][0] == "mets":
                    continue  # imported with the run of packages it belongs to
                run = [e for _, e in itertools.takewhile(lambda w: w[0] == "mets", work[n:])]
                p.mets.import_batch(run, actor=_cli_actor(), dry_run=dry_run, collection=collection,
                                    done=package_done, jobs=jobs)
                continue
            bar.set_postfix_str(entry.name, refresh=False)
            if kind == "sheet":
                reports.append(p.ingest.ingest_sheet(entry, actor=_cli_actor(), dry_run=dry_run, ocr_options=options))
            else:
                m = dict(meta)
                if len(work) > 1:
                    m.pop("title", None)  # one title cannot name several items
                reports.append(p.ingest.ingest_item([Upload(entry, entry.name)], m, actor=_cli_actor(),
                                                    dry_run=dry_run, ocr_options=options))
            bar.update(1)
    bar.close()
    problems = [pr for r in reports for pr in r.all_problems]
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in reports], ensure_ascii=False, indent=2))
    else:
        for r in reports:
            for o in r.items:
                line = {"created": f"created item {o.item_id} ({o.pages} pages): {o.title}",
                        "duplicate": f"already stored as item {o.duplicate_of}: {o.title} (nothing new stored)",
                        "valid": f"valid ({o.pages} pages): {o.title}",
                        "rejected": f"REJECTED: {o.source}"}[o.status]
                click.echo(line)
                if o.recognised_files and o.status == "created":
                    click.echo(f"  recognised (already in the store): {', '.join(o.recognised_files)}")
                for pr in o.problems:
                    click.echo(f"  - {pr}", err=True)
            for pr in r.problems:
                click.echo(f"  - {pr}", err=True)
        if dry_run:
            click.echo("dry run: nothing was stored" + ("" if not problems else f"; {len(problems)} problem(s)"))
    created = [o.item_id for r in reports for o in r.items if o.status == "created"]
    if wait and created and not dry_run:
        _wait_for_items(p, created)
    sys.exit(2 if problems else 0)


def _ingest_work(paths) -> list[tuple[str, object]]:
    """``(kind, entry)`` for each thing to ingest, in order: ``sheet`` (a CSV path), ``mets`` (one METS
    package, a :class:`~library.ingest.mets_batch.BatchPackage`: a batch path gives one per package) or
    ``scans`` (a path of scans)."""
    from library.ingest.mets_batch import BatchPackage, batch_packages
    from library.ingest.mets_package import is_mets_package

    work: list[tuple[str, object]] = []
    for path in paths:
        batch = batch_packages(path)
        if batch is not None:
            work += [("mets", entry) for entry in batch]
        elif path.suffix.lower() == ".csv" and path.is_file():
            work.append(("sheet", path))
        elif is_mets_package(path):
            work.append(("mets", BatchPackage(path.name, path)))
        else:
            work.append(("scans", path))
    return work


def _wait_for_items(p, item_ids: list[int], timeout_s: float = 24 * 3600) -> None:
    rows = p.catalogue.item_statuses(item_ids)
    total = sum(r.total for r in rows)
    deadline = time.monotonic() + timeout_s
    with tqdm(total=total, desc="OCR", unit="page") as bar:
        while True:
            rows = p.catalogue.item_statuses(item_ids)
            finished = sum(r.counts["done"] + r.counts["failed"] for r in rows)
            bar.update(finished - bar.n)
            if finished >= total and all(r.status != "processing" for r in rows):
                break
            if time.monotonic() > deadline:
                raise click.ClickException("gave up waiting")
            time.sleep(0.5)
    for r in rows:
        click.echo(f"item {r.item_id}: {r.status} ({r.counts['done']}/{r.total} pages read)"
                   + (f" — {r.reason}" if r.reason else ""))


# ------------------------------------------------------------------ status
def _all_item_statuses(catalogue, batch: int = 100):
    """Every item's status row, read ``batch`` items at a time (keyset on the id: no query reads all)."""
    after = 0
    while True:
        rows, after = catalogue.item_statuses_page(after_id=after, limit=batch)
        yield from rows
        if after is None:
            return


def _all_page_statuses(catalogue, item_id: int, batch: int = 100):
    """Every page row of one item, a window of ``batch`` pages at a time (the (item_id, sequence) index)."""
    start = 1
    while True:
        window = catalogue.page_window(item_id, start=start, count=batch)
        yield from window.rows
        if window.next_start is None:
            return
        start = window.next_start


@main.command(help="Status of items and their pages (queued, running, done, failed with the reason).")
@click.argument("item_id", type=int, required=False)
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def status(item_id, as_json):
    p = _platform()
    if item_id is None:
        rows = _all_item_statuses(p.catalogue)  # streamed, 100 items a query
        if as_json:
            click.echo(json.dumps([r.__dict__ for r in rows], ensure_ascii=False, indent=2))
            return
        shown = 0
        for shown, r in enumerate(rows, 1):
            c = r.counts
            click.echo(f"{r.item_id:>5}  {r.status:<10} {c['done']:>4}/{r.total:<4} done  "
                       f"{c['running']} running  {c['queued']} queued  {c['failed']} failed   {r.title}")
        if not shown:
            click.echo("no items yet")
        return
    pages = list(_all_page_statuses(p.catalogue, item_id))
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in pages], ensure_ascii=False, indent=2))
        return
    for r in pages:
        conf = f"{r.mean_confidence:5.1f}" if r.mean_confidence is not None else "    -"
        flag = " REVIEW" if r.needs_review and r.status == "done" else ""
        click.echo(f"page {r.sequence:>4} (id {r.page_id}) {r.status:<8} conf {conf}{flag}  {r.source_name}"
                   + (f" — {r.reason}" if r.reason else ""))


@main.command(help="Put failed (and cancelled) pages back in the queue.")
@click.option("--item", "item_id", type=int)
@click.option("--page", "page_ids", type=int, multiple=True)
@handle_errors
def retry(item_id, page_ids):
    ids = _platform().reader.retry(actor=_cli_actor(), item_id=item_id, page_ids=list(page_ids) or None)
    click.echo(f"requeued {len(ids)} page(s)" + (f": {', '.join(map(str, ids))}" if ids else ""))


@main.command(help="Take an item's queued pages out of the queue (workers skip them; 'retry' puts them back).")
@click.argument("item_id", type=int)
@handle_errors
def cancel(item_id):
    res = _platform().reader.cancel(item_id, actor=_cli_actor())
    click.echo(f"cancelled {len(res.cancelled)} queued page(s) of item {item_id}"
               + (f"; {res.still_running} page(s) being read will finish" if res.still_running else ""))


def _sweeper():
    from library.access import Actor

    return Actor.system("sweeper")


@main.command(help="Requeue pages stuck in 'running' after a worker died, send unsent tasks, and lift the "
                   "embargoes whose day has come.")
@handle_errors
def sweep():
    p = _platform()
    report = p.reader.sweep()
    report["embargoes_lifted"] = p.access_admin.lift_embargoes(_sweeper())
    flushed = p.indexer.flush()
    report.update(indexed_pages=flushed.pages, indexed_items=flushed.items)
    if flushed.error:
        report["index_error"] = flushed.error
    click.echo(json.dumps(report, ensure_ascii=False))


# ------------------------------------------------------------------ fixity
@main.command(help="Verify the checksum of every stored original and derivative.")
@click.option("--purge-expired", is_flag=True,
              help="first remove what deleted items kept once HERITAGE_DELETED_RETENTION_DAYS have passed")
@handle_errors
def fixity(purge_expired):
    from library.fixity import check_fixity

    p = _platform()
    if purge_expired:
        from library.fixity import purge_expired as purge

        purged = purge(p.sessions, p.store, retention_days=p.settings.deleted_retention_days,
                       now=p.access.clock())
        click.echo(f"purged {len(purged.items)} deleted item(s): {len(purged.originals)} original(s) removed"
                   + (f", {len(purged.shared)} kept (used by other items)" if purged.shared else ""))
    bar = tqdm(desc="fixity", unit="file")

    def progress(done, total):
        bar.total = total
        bar.update(done - bar.n)

    report = check_fixity(p.sessions, p.store, progress=progress, retention_days=p.settings.deleted_retention_days)
    bar.close()
    for problem in report.problems:
        click.echo(str(problem))
    for kept in report.retained:
        click.echo(str(kept))
    click.echo(f"checked {report.checked} file(s): "
               + ("all match their checksums" if report.ok else f"{len(report.problems)} problem(s)"))
    sys.exit(0 if report.ok else 8)


# --------------------------------------------------------------------- ocr
@main.command(help="Read files with the OCR pipeline, without the catalogue. Prints the text unless --out is given.")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--lang", "languages", default=None, help="languages: tesseract's (vie, vie+fra …) or lzh for Hán script (PP-OCR), lzh+vie for both (default vie)")
@click.option("--psm", type=int, default=None)
@click.option("--zones", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="UNLV .uzn zone file")
@click.option("--binarize/--no-binarize", default=None,
              help="force binarisation on or off (default: decided per page by what the page shows)")
@click.option("--skip", "stages_off", multiple=True, metavar="STAGE",
              help="switch an optional stage off: rescale, illumination, denoise, show-through, binarise, "
                   "borders, dewarp, layout, model (the second reading of a doubtful page with the larger "
                   "models), postcorrect (repeatable)")
@click.option("--osd", is_flag=True, help="detect page rotation with tesseract OSD")
@click.option("--page", "page_index", type=int, default=1, help="page of a multi-page TIFF or PDF (1-based)")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="write text, hOCR, ALTO, TSV here")
@handle_errors
def ocr(files, languages, psm, zones, binarize, stages_off, osd, page_index, out):
    import tempfile

    import digitize
    from digitize.errors import DigitizeError

    s = _settings()
    kwargs = dict(languages=languages or s.default_languages, binarize=binarize, detect_orientation=osd,
                  timeout_s=s.ocr_timeout_s, stages_off=frozenset(stages_off))
    if psm is not None:
        kwargs["psm"] = psm
    if zones:
        kwargs["zones"] = digitize.read_zones(zones)
        kwargs.setdefault("psm", 4)
    try:
        options = digitize.OcrOptions(**kwargs)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    failures = 0
    for f in tqdm(files, desc="OCR", unit="page", disable=len(files) < 2):
        with tempfile.TemporaryDirectory(prefix="heritage-ocr-") as work:
            try:
                reading = digitize.read_page(f, options=options, work_dir=Path(work), page_index=page_index - 1,
                                             pdf_dpi=s.limits.pdf_dpi, max_pixels=s.limits.max_image_pixels)
            except DigitizeError as exc:
                click.echo(f"error: {f.name}: {exc}", err=True)
                failures += 1
                continue
            if out:
                stem = f.stem if page_index == 1 else f"{f.stem}-p{page_index}"
                (out / f"{stem}.txt").write_text(reading.text + "\n", encoding="utf-8")
                (out / f"{stem}.hocr").write_text(reading.hocr, encoding="utf-8")
                (out / f"{stem}.alto.xml").write_text(reading.alto, encoding="utf-8")
                (out / f"{stem}.tsv").write_text(reading.tsv, encoding="utf-8")
                conf = f"{reading.mean_confidence:.1f}" if reading.mean_confidence is not None else "-"
                tqdm.write(f"{f.name}: {len(reading.words)} words, mean confidence {conf}")
            for warning in reading.warnings:
                click.echo(f"warning: {f.name}: {warning}", err=True)
            else:
                if len(files) > 1:
                    click.echo(f"==> {f.name} <==")
                click.echo(reading.text)
    sys.exit(6 if failures else 0)


# ------------------------------------------------------------------ search
@main.command(help="Search every collection: words with or without diacritics, \"phrases\", -exclusions, OR.")
@click.argument("query", nargs=-1, required=True)
@click.option("--type", "types", multiple=True, help="book, newspaper, magazine, manuscript, other")
@click.option("--collection", "collections", multiple=True)
@click.option("--language", "languages", multiple=True)
@click.option("--from", "year_from", type=int, help="first year")
@click.option("--to", "year_to", type=int, help="last year")
@click.option("--sort", type=click.Choice(["relevance", "date", "-date"]), default="relevance")
@click.option("--page", type=int, default=1)
@click.option("--per-page", type=int, default=10)
@click.option("--fuzzy", is_flag=True, help="also find words misread by OCR (one letter off)")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def search(query, types, collections, languages, year_from, year_to, sort, page, per_page, fuzzy, as_json):
    from library.access import Actor
    from library.discovery.searching import marked

    p = _platform()
    filters = {k: list(v) for k, v in (("type", types), ("collection", collections), ("language", languages)) if v}
    # the command line is run by the machine's operator: it sees every level, as staff do
    res = p.search.search(" ".join(query), actor=Actor.system("cli"), filters=filters, year_from=year_from,
                          year_to=year_to, sort=sort, page=page, per_page=per_page, fuzzy=fuzzy)
    if as_json:
        click.echo(json.dumps(res.as_dict(), ensure_ascii=False, indent=2))
        return
    for n in res.notices:
        click.echo(f"note: {n}", err=True)
    click.echo(f"{res.total} page(s) found" + (f", showing page {res.page}" if res.total > per_page else ""))
    for h in res.hits:
        boxes = sum(len(sp.boxes) for sp in getattr(h, "spans", []))
        click.echo(f"\n{h.item_title} — page {h.sequence} (item {h.item_id}, page id {h.page_id}; {boxes} box(es))")
        for sn in h.snippets:
            click.echo("   " + marked(sn).replace("\n", " "))
    for name, counts in res.facets.items():
        if counts:
            click.echo(f"\n{name}: " + ", ".join(f"{v} ({c})" for v, c in counts[:8]))


# ------------------------------------------------------------------ export
@main.command(help="Export a read item: a searchable PDF (page images with their current text, corrections "
                   "included), its whole text (UTF-8), a zip of its pages' ALTO files, or a METS package (mets "
                   "with MODS and DC, the originals and each page's current ALTO).")
@click.argument("item_id", type=int)
@click.option("--format", "kind", type=click.Choice(["pdf", "txt", "alto", "mets"]), default="pdf", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="file to write (default: the item's title as a file name, in the current folder)")
@handle_errors
def export(item_id, kind, out):
    import shutil

    p = _platform()
    bar = tqdm(desc=f"export {kind}", unit="page")

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        made = p.exports.export(item_id, kind, progress=progress)
    finally:
        bar.close()
    dest = out or Path(made.filename)
    try:
        shutil.copyfile(made.path, dest)
    except OSError as exc:
        raise click.ClickException(f"cannot write {dest}: {exc.strerror or exc}") from None
    click.echo(f"wrote {dest} ({made.size_bytes:,} bytes{', made earlier' if made.from_cache else ''})")


@main.command(help="Rebuild the search index from the catalogue (searching goes on meanwhile).")
@handle_errors
def reindex():
    p = _platform()
    total = p.indexer.document_count()
    with tqdm(total=total, desc="reindex", unit="doc") as bar:
        n = p.indexer.rebuild(progress=lambda done: bar.update(done - bar.n))
    click.echo(f"indexed {n} document(s)")


# ------------------------------------------------------------------ 3D models
MODEL_INPUT_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".ply", ".xyz", ".las", ".laz", ".obj", ".mtl",
                        ".glb", ".gltf"}

@main.group(help="Monuments' 3D models.")
def model():
    pass


@model.command("build", help="Build a web 3D model from photos (files, a folder or a zip), a point cloud (PLY, XYZ, "
                             "LAS/LAZ) or a mesh (OBJ with its MTL and textures in a folder or a zip, PLY, GLB), "
                             "without the catalogue: GLB levels, a thumbnail and report.json.")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--intrinsics", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="a known 3×3 camera matrix as text (calibrated cameras)")
@click.option("--work", type=click.Path(file_okay=False, path_type=Path),
              help="keep each stage's files here, so a rerun resumes")
@click.option("--known-distance", nargs=3, type=(str, str, float), default=None,
              metavar="PHOTO_A PHOTO_B METRES", help="metric scale: the distance between the cameras of two photos "
                                                     "(wins over GPS)")
@click.option("--compression", type=click.Choice(["draco", "meshopt", "none"]), default="draco", show_default=True,
              help="GLB mesh compression: Draco, meshopt (gltfpack, needs node) or none")
@click.option("--no-gps", is_flag=True, help="ignore the photos' EXIF GPS (scale, up and north)")
@click.option("--no-texture", is_flag=True, help="vertex colours only: no texture atlas from the photos")
@handle_errors
def model_build(inputs, out, intrinsics, work, known_distance, compression, no_gps, no_texture):
    import tempfile

    from heritage3d import BuildOptions, Heritage3DError, build_model
    from heritage3d.pipeline import read_intrinsics
    from library.monuments.model_inputs import is_zip, unpack_model_zip

    with tempfile.TemporaryDirectory(prefix="heritage-build-") as tmp:
        files: list[Path] = []
        for n, path in enumerate(inputs):
            if path.is_file() and is_zip(path):
                unpacked, notes = unpack_model_zip(path, Path(tmp) / f"zip{n}", _settings().limits)
                for note in notes:
                    click.echo(f"note: {note}", err=True)
                files += unpacked
            elif not path.is_dir():
                files.append(path)
            else:
                for p in sorted(path.iterdir()):
                    if not p.is_file() or p.name.startswith("."):
                        continue
                    if p.suffix.lower() in MODEL_INPUT_SUFFIXES:
                        files.append(p)
                    else:
                        click.echo(f"note: {p.name} is not a photo, point cloud or mesh; left out", err=True)
        try:
            options = BuildOptions(intrinsics=read_intrinsics(intrinsics) if intrinsics else None,
                                   known_distance=tuple(known_distance) if known_distance else None,
                                   compression=compression, use_gps=not no_gps, texture=not no_texture)
            bar = tqdm(total=100, desc="build", unit="%", bar_format="{l_bar}{bar}| {postfix}")

            def progress(stage: str, fraction: float) -> None:
                bar.set_postfix_str(stage)
                bar.update(round(fraction * 100) - bar.n)

            report = build_model(files, out_dir=out, work_dir=work or Path(tmp) / "work", options=options,
                                 progress=progress)
            bar.close()
        except Heritage3DError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(10)
    d = report.as_dict()
    click.echo(json.dumps({k: d[k] for k in ("input_kind", "images_registered", "images_total",
                                             "mean_reprojection_error_px", "scale_source", "scale_residual_m",
                                             "up_source", "georeference", "levels", "warnings")},
                          ensure_ascii=False, indent=2))
    click.echo(f"model written to {out}")


@model.command("inscription", help="Publish an inscribed face of a monument's published model (a stele's) as a "
                                   "library item: the face rendered straight on from the model's texture, read by "
                                   "the Hán engine, linked to the monument (and to a point of interest).")
@click.argument("monument_id", type=int)
@click.argument("version_id", type=int)
@click.option("--corner", "corners", nargs=3, type=float, multiple=True, required=True, metavar="X Y Z",
              help="three times, in the model's frame as its viewer shows it: lower left, lower right, upper left")
@click.option("--px-per-unit", type=float, default=400.0, show_default=True,
              help="the picture's pixels per model unit (per metre when the model is to scale)")
@click.option("--title", required=True)
@click.option("--lang", "languages", default="lzh", show_default=True, help="the item's languages (lzh: Hán script)")
@click.option("--point", "point_id", type=int, help="the point of interest where the stele stands: it opens the item")
@handle_errors
def model_inscription(monument_id, version_id, corners, px_per_unit, title, languages, point_id):
    if len(corners) != 3:
        raise click.UsageError(f"give --corner three times (lower left, lower right, upper left), not {len(corners)}")
    p = _platform()
    try:
        done = p.inscriptions.publish(monument_id, version_id, corners, px_per_unit=px_per_unit, title=title,
                                      languages=languages, point_id=point_id, actor=_cli_actor())
    finally:
        p.close()
    for warning in done.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(json.dumps({"item_id": done.item_id, "monument_link": done.link_id, "width_px": done.width_px,
                           "height_px": done.height_px, "on_the_model": round(done.coverage, 3)}))


# ------------------------------------------------------------------- users
@main.group(help="Users and roles (librarian, archivist, curator, admin).")
def user():
    pass


@user.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["librarian", "archivist", "curator", "admin"]))
@click.option("--name", "display_name")
@click.password_option(envvar="HERITAGE_NEW_PASSWORD")
@handle_errors
def user_add(username, role, display_name, password):
    u = _platform().users.create(_cli_actor(), username, password, role, display_name)  # the machine's operator
    click.echo(f"created {u.role.value} {u.username}")


# ------------------------------------------------------------------ access
def _cli_actor():
    from library.access import Actor

    return Actor.system("cli")  # the machine's operator


@main.group("item", help="One item after ingest: its access, withdrawal and restoring.")
def item_group():
    pass


@item_group.command("access", help="Set who may see the item: public, reading-room or staff; with "
                                   "--embargo-until YYYY-MM-DD --then LEVEL the level changes on that day.")
@click.argument("item_id", type=int)
@click.argument("level")
@click.option("--embargo-until", "embargo_until", metavar="YYYY-MM-DD")
@click.option("--then", "then", metavar="LEVEL", help="the level from the embargo day on")
@click.option("--do-not-ocr/--ocr", "do_not_ocr", default=None, help="sensitive: never read by OCR")
@click.option("--do-not-index/--index", "do_not_index", default=None, help="sensitive: kept out of search")
@handle_errors
def item_access(item_id, level, embargo_until, then, do_not_ocr, do_not_index):
    change = _platform().access_admin.set_item_access(_cli_actor(), item_id, level, embargo_until=embargo_until,
                                                      then=then, do_not_ocr=do_not_ocr, do_not_index=do_not_index)
    click.echo(f"item {item_id}: {change.describe()}")


@item_group.command("withdraw", help="Withdraw the item: readers get 410 with the reason; staff still see it.")
@click.argument("item_id", type=int)
@click.option("--reason", required=True, help="why (shown to readers)")
@handle_errors
def item_withdraw(item_id, reason):
    _platform().access_admin.withdraw(_cli_actor(), item_id, reason)
    click.echo(f"item {item_id}: withdrawn ({' '.join(reason.split())})")


@item_group.command("restore", help="Put a withdrawn item back.")
@click.argument("item_id", type=int)
@handle_errors
def item_restore(item_id):
    _platform().access_admin.restore(_cli_actor(), item_id)
    click.echo(f"item {item_id}: restored")


_EDIT_OPTIONS = (("title", "title"), ("creator", "creator"), ("date", "date"), ("publisher", "publisher"),
                 ("lang", "languages"), ("type", "item_type"), ("subject", "subject"), ("identifier", "identifier"),
                 ("rights", "rights"), ("serial-title", "serial_title"), ("issue-date", "issue_date"),
                 ("issue-number", "issue_number"), ("description", "description"))


def _edit_options(fn):
    for flag, field in reversed(_EDIT_OPTIONS):
        fn = click.option(f"--{flag}", field, default=None, help=f"new {field.replace('_', ' ')} ('' clears it)")(fn)
    return fn


@item_group.command("edit", help="Edit the item's record (Dublin Core, serial, issue, language, rights); every "
                                 "previous value is kept in its history and search follows at once.")
@click.argument("item_id", type=int)
@_edit_options
@click.option("--expect-revision", type=int, default=None,
              help="refuse the edit if the record changed since this metadata revision")
@handle_errors
def item_edit(item_id, expect_revision, **fields):
    changes = {k: v for k, v in fields.items() if v is not None}
    if not changes:
        raise click.UsageError("name at least one field to change, e.g. --title '…'")
    before = len(_platform().items.history(item_id))
    item = _platform().items.edit(_cli_actor(), item_id, changes, expected_revision=expect_revision)
    history = _platform().items.history(item_id)
    if len(history) == before:
        click.echo(f"item {item_id}: nothing changed")
        return
    for field, (old, new) in sorted(history[-1].changes.items()):
        click.echo(f"item {item_id}: {field}: {old!r} → {new!r}")
    click.echo(f"item {item_id}: metadata revision {item.metadata_revision}")


@item_group.command("history", help="What was changed on the item after ingest, by whom, with the previous values.")
@click.argument("item_id", type=int)
@handle_errors
def item_history(item_id):
    for c in _platform().items.history(item_id):
        fields = "; ".join(f"{k}: {old!r} → {new!r}" for k, (old, new) in sorted(c.changes.items()))
        click.echo(f"{c.changed_at:%Y-%m-%d %H:%M} r{c.metadata_revision} {c.kind} by {c.actor}: {fields}")


# ------------------------------------------------------------- page operations
def _page_order(text: str) -> list:
    from library.errors import InputRejected

    parts = [x for x in text.replace(",", " ").split() if x]
    if not parts or not all(x.isdigit() for x in parts):
        raise InputRejected("order", f"{text!r} is not a list of page numbers such as 3,1,2")
    return [int(x) for x in parts]


@item_group.command("pages", help="Put the item's pages in a new order: --order 3,1,2 names every page once.")
@click.argument("item_id", type=int)
@click.option("--order", required=True, help="every page number once, in the new order: 3,1,2")
@handle_errors
def item_pages(item_id, order):
    p = _platform()
    p.pages.reorder(_cli_actor(), item_id, _page_order(order))
    click.echo(f"item {item_id}: pages now in the order {order} (renumbered 1–{len(_page_order(order))})")


@item_group.command("rotate", help="Turn a page clockwise (90, 180 or 270 degrees) and read it again; the "
                                   "original scan is never altered.")
@click.argument("item_id", type=int)
@click.option("--page", "page", type=int, required=True, help="page number")
@click.option("--degrees", type=int, required=True, help="90, 180 or 270, clockwise")
@handle_errors
def item_rotate(item_id, page, degrees):
    _platform().pages.rotate(_cli_actor(), item_id, page, degrees)
    click.echo(f"item {item_id}: page {page} turned {degrees}° clockwise; queued to be read again")


@item_group.command("replace", help="Replace a page's scan by FILE (checked as at ingest); the former original "
                                    "stays in the store and in the history.")
@click.argument("item_id", type=int)
@click.option("--page", "page", type=int, required=True, help="page number")
@click.argument("file", type=click.Path(exists=True, path_type=Path))
@handle_errors
def item_replace(item_id, page, file):
    from library.ingest.service import Upload

    _platform().pages.replace(_cli_actor(), item_id, page, Upload(file, file.name))
    click.echo(f"item {item_id}: page {page} now reads {file.name}; queued to be read")


@item_group.command("remove-page", help="Take a page out of the item (its text leaves search; its original "
                                        "stays in the store).")
@click.argument("item_id", type=int)
@click.option("--page", "page", type=int, required=True, help="page number")
@handle_errors
def item_remove_page(item_id, page):
    _platform().pages.remove(_cli_actor(), item_id, page)
    click.echo(f"item {item_id}: page {page} removed; later pages moved up one")


@item_group.command("add-pages", help="Add the pages of FILES (images, PDFs, folders, zips; checked as at "
                                      "ingest) at the end, or from position --at N; they are then read.")
@click.argument("item_id", type=int)
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--at", "at", type=int, default=None, help="the first new page's number (default: at the end)")
@handle_errors
def item_add_pages(item_id, files, at):
    from library.ingest.service import Upload

    ids = _platform().pages.add(_cli_actor(), item_id, [Upload(f, f.name) for f in files], at=at)
    click.echo(f"item {item_id}: {len(ids)} page(s) added" + (f" from page {at}" if at else " at the end")
               + "; queued to be read")


@item_group.command("delete", help="Delete the item: it leaves the catalogue, search and IIIF; its originals stay "
                                   "in the store until HERITAGE_DELETED_RETENTION_DAYS have passed "
                                   "('heritage fixity --purge-expired').")
@click.argument("item_id", type=int)
@click.option("--reason", default=None, help="why (kept in the item's history)")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@handle_errors
def item_delete(item_id, reason, yes):
    if not yes:
        click.confirm(f"delete item {item_id}?", abort=True)
    p = _platform()
    p.pages.delete_item(_cli_actor(), item_id, reason)
    click.echo(f"item {item_id}: deleted; its originals are kept {p.settings.deleted_retention_days} days")


@main.command(help="Read an item's pages (or a whole collection) again with other OCR settings, kept with the "
                   "item. Pages with manual corrections keep them: the new reading waits for the corrector.")
@click.argument("item_id", type=int, required=False)
@click.option("--collection", "collection_id", type=int, help="every item of this collection (its id)")
@click.option("--page", "pages", type=int, multiple=True, help="page number (repeat for several); all by default")
@click.option("--lang", "languages", help="languages, e.g. vie, vie+fra, lzh (Hán script), lzh+vie")
@click.option("--psm", type=click.IntRange(1, 13), help="page segmentation mode")
@click.option("--skip", "stages_off", multiple=True, help="an OCR stage to leave out (see 'heritage ocr --help')")
@click.option("--binarize/--no-binarize", default=None)
@click.option("--wait", is_flag=True, help="wait for the workers, with a progress bar")
@handle_errors
def reread(item_id, collection_id, pages, languages, psm, stages_off, binarize, wait):
    p = _platform()
    queued = p.items.reread(_cli_actor(), item_id=item_id, collection_id=collection_id, pages=list(pages) or None,
                            languages=languages, psm=psm, stages_off=list(stages_off) or None, binarize=binarize)
    click.echo(f"queued {len(queued)} page(s) to read again")
    if wait and queued:
        with p.sessions() as s:
            from sqlalchemy import select

            from library.catalogue.models import Page

            items = sorted(set(s.scalars(select(Page.item_id).where(Page.id.in_(queued)))))
        _wait_for_items(p, items)


@main.group("collection", help="Collections: create, rename, describe, order, move items, list; their access level.")
def collection_group():
    pass


@collection_group.command("access", help="Set a collection's level (public, reading-room, staff): each of its "
                                         "items is at least this restricted. COLLECTION is its id, slug or name.")
@click.argument("collection")
@click.argument("level")
@handle_errors
def collection_access(collection, level):
    change = _platform().access_admin.set_collection_access(_cli_actor(), collection, level)
    click.echo(f"collection {collection}: {change.describe()} ({len(change.item_ids)} item(s) re-indexed)")


@collection_group.command("create", help="Create a collection (its slug is made from the name).")
@click.argument("name")
@click.option("--description", default=None, help="what readers see on the collection's page")
@click.option("--parent", default=None, help="put it inside this collection (id, slug or name)")
@handle_errors
def collection_create(name, description, parent):
    coll = _platform().collections.create(_cli_actor(), name, description, parent=parent)
    click.echo(f"collection {coll.id}: {coll.name} ({coll.slug})")


@collection_group.command("rename", help="Rename COLLECTION (id, slug or name); search follows at once.")
@click.argument("collection")
@click.argument("new_name")
@handle_errors
def collection_rename(collection, new_name):
    coll = _platform().collections.rename(_cli_actor(), collection, new_name)
    click.echo(f"collection {coll.id}: {coll.name} ({coll.slug})")


@collection_group.command("describe", help="Set COLLECTION's description (\"\" clears it).")
@click.argument("collection")
@click.argument("text")
@handle_errors
def collection_describe(collection, text):
    coll = _platform().collections.describe(_cli_actor(), collection, text)
    click.echo(f"collection {coll.id}: {'described' if coll.description else 'description cleared'}")


@collection_group.command("move", help="Move ITEMs (ids) into a collection (--to), or out of any (--out).")
@click.argument("items", nargs=-1, required=True)
@click.option("--to", "to", default=None, help="the collection (id, slug or name)")
@click.option("--out", "out", is_flag=True, help="take the items out of any collection")
@handle_errors
def collection_move(items, to, out):
    from library.errors import InputRejected

    if (to is None) == (not out):
        raise InputRejected("to", "say where: --to COLLECTION, or --out to take the items out of any collection")
    moved = _platform().collections.move(_cli_actor(), items, None if out else to)
    click.echo(f"moved {len(moved)} item(s)" + (f": {' '.join(map(str, moved))}" if moved else ""))


@collection_group.command("order", help="Set the order of COLLECTION's items: every item id, first to last.")
@click.argument("collection")
@click.argument("items", nargs=-1, required=True)
@handle_errors
def collection_order(collection, items):
    ids = _platform().collections.order(_cli_actor(), collection, items)
    click.echo(f"collection {collection}: {len(ids)} item(s) in order {' '.join(map(str, ids))}")


@collection_group.command("export", help="Write the catalogue records of COLLECTION's items (id, slug or name), in "
                                         "id order: CSV (UTF-8 with BOM, for spreadsheets) or Dublin Core XML.")
@click.argument("collection")
@click.option("--format", "fmt", type=click.Choice(["csv", "dc"]), default="csv", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--public", "as_public", is_flag=True, help="only the items an anonymous reader may see")
@handle_errors
def collection_export(collection, fmt, out, as_public):
    from library.access import Actor
    from library.discovery.metadata_export import MetadataExporter, csv_chunks, dc_xml_chunks, write_chunks

    p = _platform()
    actor = Actor.anonymous() if as_public else _cli_actor()
    exporter = MetadataExporter(p.sessions, p.access)
    cid, name = exporter.collection(actor, collection)
    count = 0

    def counted():
        nonlocal count
        for record in exporter.collection_records(actor, cid):
            count += 1
            yield record

    base = p.settings.public_url
    chunks = csv_chunks(counted(), base_url=base) if fmt == "csv" else dc_xml_chunks(counted(), base_url=base,
                                                                                       label=name)
    try:
        size = write_chunks(chunks, out)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror or exc}") from None
    click.echo(f"wrote {out}: {count} item(s) of {name} ({size:,} bytes)")


@collection_group.command("list", help="Every collection: id, slug, items, access level, name.")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def collection_list(as_json):
    from library.catalogue.collections import SIZE_CAP

    rows = _platform().collections.collections()
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no collections yet")
    for r in rows:
        inside = f" (in {r.parent_id})" if r.parent_id else ""
        size = f"{SIZE_CAP}+" if r.items > SIZE_CAP else str(r.items)
        click.echo(f"{r.id}\t{r.slug}\t{size} item(s)\t{r.access_level}\t{r.name}{inside}")


# ------------------------------------------------------------- the audit trail
@main.command(help="The audit trail of staff work, newest first: who did what, when, from where, on which record.")
@click.option("--since", help="from this day on (YYYY-MM-DD)")
@click.option("--until", help="up to and including this day (YYYY-MM-DD)")
@click.option("--user", help="one account's actions")
@click.option("--action", help="one kind of action (sign_in, item_edit, withdraw, …)")
@click.option("--record", help="one record: item:12, page:3, collection:2 …")
@click.option("--limit", type=click.IntRange(1, 1_000_000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
@handle_errors
def audit(since, until, user, action, record, limit, as_json):
    from library.audit import Filters

    filters = Filters.parse(user=user, action=action, record=record, since=since, until=until)
    trail, shown, before = _platform().audit, 0, None
    while shown < limit:
        events = trail.events(filters, before=before, limit=min(1000, limit - shown))
        for e in events:
            if as_json:
                click.echo(json.dumps(e.as_dict(), ensure_ascii=False, sort_keys=True))
            else:
                target = f"{e.record_type}:{e.record_id}" if e.record_id is not None else (e.record_type or "")
                detail = json.dumps(e.detail, ensure_ascii=False, sort_keys=True) if e.detail else ""
                click.echo(f"{e.at:%Y-%m-%d %H:%M:%S}\t{e.actor}\t{e.address or '-'}\t{e.action}\t{target}\t{detail}")
        shown += len(events)
        if not events or len(events) < min(1000, limit - shown + len(events)):
            break
        before = events[-1].id
    if not shown and not as_json:
        click.echo("no matching actions")


# ------------------------------------------------------------- demo, serve
@main.command(help="Create the demo collection: Vietnamese pages rendered and degraded like real scans.")
@click.option("--wait", is_flag=True, help="wait for the workers to read the pages")
@handle_errors
def demo(wait):
    from library.demo import load_demo, load_demo_monuments

    p = _platform()
    with tqdm(desc="demo pages", unit="page") as bar:
        created = load_demo(p, p.settings.work_dir / "demo", progress=lambda: bar.update(1))
    click.echo(f"demo collection: {len(created)} new item(s)" if created else "demo collection already loaded")
    builds = load_demo_monuments(p, p.settings.work_dir / "demo-3d")
    click.echo(f"demo monuments: {len(builds)} model build(s) queued" if builds else "demo monuments already loaded")
    if wait and created:
        _wait_for_items(p, created)


@main.command(help="Start the platform: the web portal and the OCR workers (and the sweeper).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--demo/--no-demo", "with_demo", default=False, help="load the demo collection first")
@click.option("--workers/--no-workers", "with_workers", default=True)
@click.option("--sweep-every", default=30.0, show_default=True, help="seconds between sweeps for stuck pages")
@click.option("--web-processes", default=1, show_default=True, type=click.IntRange(1, 64),
              help="web server processes sharing the port (one per core serves the most readers)")
@handle_errors
def serve(host, port, with_demo, with_workers, sweep_every, web_processes):
    p = _platform()  # creates the data folder and migrates the catalogue before the children start
    env = dict(os.environ, HERITAGE_DATA_DIR=str(p.settings.data_dir), OMP_THREAD_LIMIT="1")
    children: dict[str, subprocess.Popen] = {}

    def start(name: str) -> None:
        if name.startswith("web"):
            cmd = [sys.executable, "-m", "web", "--host", host, "--port", str(port)]
            if web_processes > 1:
                cmd.append("--reuse-port")
        else:
            cmd = [sys.executable, "-m", "workers"]
        children[name] = subprocess.Popen(cmd, env=env)

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for n in range(web_processes):
        start(f"web-{n + 1}" if web_processes > 1 else "web")
    if with_workers:
        start("workers")
    click.echo(f"Heritage platform at http://{host}:{port}/  (data in {p.settings.data_dir}; Ctrl-C stops)")
    if with_demo:
        from library.demo import load_demo, load_demo_monuments

        with tqdm(desc="demo pages", unit="page") as bar:
            created = load_demo(p, p.settings.work_dir / "demo", progress=lambda: bar.update(1))
        click.echo(f"demo collection: {len(created)} new item(s), being read by the workers"
                   if created else "demo collection already loaded")
        builds = load_demo_monuments(p, p.settings.work_dir / "demo-3d")
        click.echo(f"demo monuments: {len(builds)} 3D model(s) being built by the workers"
                   if builds else "demo monuments already loaded")
    last_sweep = 0.0
    try:
        while not stopping:
            for name, proc in list(children.items()):
                if proc.poll() is not None and not stopping:
                    click.echo(f"{name} exited with code {proc.returncode}; restarting", err=True)
                    time.sleep(1)
                    start(name)
            if time.monotonic() - last_sweep > sweep_every:
                last_sweep = time.monotonic()
                try:
                    p.reader.sweep()
                    p.access_admin.lift_embargoes(_sweeper())
                    p.indexer.flush()  # changes kept while the search engine was down
                except Exception as exc:  # the sweeper must never take the platform down
                    click.echo(f"sweep failed: {exc}", err=True)
            time.sleep(0.5)
    finally:
        for proc in children.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in children.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        p.close()


@main.command(help="Run OCR workers in the foreground (what 'serve' starts).")
def worker():
    os.execv(sys.executable, [sys.executable, "-m", "workers"])


@main.command("db-upgrade", help="Create or upgrade the catalogue's schema.")
@handle_errors
def db_upgrade():
    from library.catalogue import db

    s = _settings()
    s.ensure_dirs()
    engine = db.make_engine(s.catalogue_url)
    db.upgrade(engine)
    click.echo(f"catalogue at revision {db.current_revision(engine)}")


from console import operations  # noqa: E402  (backup and restore: console/operations.py)

main.add_command(operations.backup)
main.add_command(operations.restore)

if __name__ == "__main__":
    main()
