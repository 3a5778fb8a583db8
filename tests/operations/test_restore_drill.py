"""The restore drill: a platform with a page read by the real tesseract is backed up, restored into an
empty data folder (and an empty PostgreSQL database), and checked: the item, its page, text and checksums
are there, fixity is clean, search finds a word of the page, and a damaged file is named by fixity.

The page is block 1 of the BnL newspaper blocks (``../shared/data/ocr/bnl-newspaper-blocks/images/1.tif``,
a French text of 1858 from a Luxembourg newspaper; provenance in that folder's README): small enough to
read in well under a second. Runs on SQLite and on PostgreSQL (the ``platform`` fixture's two databases).
"""

from __future__ import annotations

import json
import os

import pytest
from sqlalchemy import select

from library.access import Actor
from library.catalogue.models import Derivative, Item, Page, PageStatus, StoredFile
from library.container import build_platform
from library.errors import Conflict
from library.fixity import check_fixity
from library.ingest.service import Upload
from library.operations.backup import MANIFEST, back_up, restore
from tests.conftest import _new_pg_database, make_settings
from tests.library.test_cli import heritage

SYSTEM = Actor.system("tests")
WORD = "lecteurs"  # the first line of the block: « A ce titre, nos lecteurs ne nous en voudront … »


def _read_bnl_block(platform, shared_data):
    scan = shared_data / "ocr" / "bnl-newspaper-blocks" / "images" / "1.tif"
    report = platform.ingest.ingest_item([Upload(scan, scan.name)], {"title": "L'Avenir 1858", "languages": "fra"},
                                         actor=SYSTEM)
    assert report.ok, report.as_dict()
    item_id = report.items[0].item_id
    for row in platform.catalogue.page_statuses(item_id):
        platform.reader.read(row.page_id)
    platform.reader.finish_item(item_id)
    platform.indexer.flush()
    return item_id


def _keep_gzipped_xml(platform, tmp_path) -> dict:
    """An XML original kept gzipped, as a METS import keeps its ALTO: the backup copies the .gz, checks it
    by the checksum of the bytes sent, and the restore brings it back."""
    import hashlib

    path = tmp_path / "p1.alto.xml"
    path.write_text('<?xml version="1.0" encoding="UTF-8"?><alto>' + "<String CONTENT=\"lecteurs\"/>" * 500
                    + "</alto>", encoding="utf-8")
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    assert platform.store.put_original(path, sha, compress=True)
    with platform.sessions.begin() as s:
        s.add(StoredFile(sha256=sha, size_bytes=len(data), media_type="application/xml", original_name=path.name))
    return {"sha256": sha, "bytes": data}


def _snapshot(platform, item_id):
    """What must survive: the item's title, its pages' text and status, and every checksum."""
    with platform.sessions() as s:
        item = s.get(Item, item_id)
        pages = [(p.sequence, p.status, p.text, p.source_sha256)
                 for p in s.scalars(select(Page).where(Page.item_id == item_id).order_by(Page.sequence))]
        derivatives = sorted(s.execute(select(Derivative.relpath, Derivative.sha256)).all())
        originals = sorted(s.scalars(select(StoredFile.sha256)))
        return item.title, pages, derivatives, originals


def _target_settings(settings, request, tmp_path):
    if settings.database_url.startswith("postgresql"):
        url = _new_pg_database(request.getfixturevalue("postgres_server"))
        return make_settings(tmp_path / "restored", database_url=url)
    return make_settings(tmp_path / "restored")


def test_backup_restore_drill(platform, settings, shared_data, tmp_path, request):
    item_id = _read_bnl_block(platform, shared_data)
    alto = _keep_gzipped_xml(platform, tmp_path)
    before = _snapshot(platform, item_id)
    assert before[1][0][1] == PageStatus.done and WORD in before[1][0][2]

    dest = tmp_path / "backup"
    first = back_up(settings, dest)
    assert first.ok, first.problems
    manifest = json.loads((dest / MANIFEST).read_text())
    assert manifest["catalogue"]["kind"] == ("postgresql" if "postgresql" in settings.catalogue_url else "sqlite")
    assert manifest["catalogue"]["schema_revision"] and manifest["counts"]["pages"] == 1
    listed = {f["relpath"]: f["sha256"] for f in manifest["files"]}
    assert listed[platform.store.stored_original_relpath(alto["sha256"])] == alto["sha256"]  # the .gz, by content
    for relpath, sha in before[2]:
        assert listed[relpath] == sha
    assert any(f["kind"] == "other" and f["relpath"].endswith("/text.txt") for f in manifest["files"])
    assert first.copied == first.files > len(before[2])

    second = back_up(settings, dest)  # incremental: nothing changed, nothing copied
    assert second.ok and second.copied == 0 and second.skipped == first.files

    damaged_rel = before[2][0][0]  # a derivative damaged in the live store: the next backup names it
    live = platform.store.resolve(damaged_rel)
    kept = live.read_bytes()
    live.write_bytes(kept + b"\0")
    noticed = back_up(settings, tmp_path / "backup-of-a-damaged-store")
    assert [p.split()[:2] for p in noticed.problems] == [["MISMATCH", damaged_rel]]
    live.write_bytes(kept)

    target = _target_settings(settings, request, tmp_path)
    restored = restore(dest, target)
    assert restored.ok, restored.problems
    assert restored.counts["items"] == 1 and restored.counts["pages"] == 1
    assert restored.fixity_checked == len(before[2]) + len(before[3])
    assert restored.documents_indexed >= 2  # the page and the item
    with pytest.raises(Conflict, match="not empty"):  # never over a platform that holds data
        restore(dest, target)

    p2 = build_platform(target)
    try:
        assert _snapshot(p2, item_id) == before
        with p2.store.open_original(alto["sha256"]) as f:  # an original kept gzipped comes back as it was sent
            assert f.read() == alto["bytes"]
        assert p2.store.stored_original_relpath(alto["sha256"]).endswith(".gz")
        hits = p2.search.search(WORD, actor=SYSTEM, kinds=("page",))
        assert hits.total == 1
        assert check_fixity(p2.sessions, p2.store).ok
        with p2.sessions() as s:  # damage one derivative of the restored store: fixity names it
            kinds = dict(s.execute(select(Derivative.kind, Derivative.relpath)).all())
        relpath = kinds["viewer"]
        path = p2.store.resolve(relpath)
        path.write_bytes(path.read_bytes()[:-100])  # a truncated copy, as a failing disk leaves it
        damaged = check_fixity(p2.sessions, p2.store)
        assert [(x.kind, x.relpath) for x in damaged.problems] == [("mismatch", relpath)]
    finally:
        p2.close()


@pytest.mark.slow
def test_the_commands_back_up_restore_and_refuse_a_full_target(tmp_path, shared_data):
    settings = make_settings(tmp_path / "data")
    platform = build_platform(settings)
    try:
        _read_bnl_block(platform, shared_data)
    finally:
        platform.close()
    made = heritage(settings, "backup", tmp_path / "backup")
    assert made.returncode == 0, made.stderr
    assert "already there" in made.stdout and "files:" in made.stderr  # the progress bar of the files
    full = heritage(settings, "restore", tmp_path / "backup")  # into the platform's own data: refused
    assert full.returncode == 5 and "not empty" in full.stderr
    fresh = tmp_path / "fresh"
    done = heritage(settings, "restore", tmp_path / "backup", "--data-dir", fresh)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "all match their checksums" in done.stdout and "reindex" in done.stderr
    original = next((fresh / "store" / "originals").rglob("*"))
    while original.is_dir():
        original = next(original.iterdir())
    os.chmod(original, 0o644)
    original.write_bytes(b"damaged")
    checked = heritage(make_settings(fresh), "fixity")
    assert checked.returncode == 8 and "MISMATCH" in checked.stdout and original.name in checked.stdout
