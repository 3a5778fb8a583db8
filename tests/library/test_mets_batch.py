"""Batch import of METS packages: several packages made here (folders and zips, one broken), a folder
of packages and an NDNP-style batch file (as in ../shared/data/ocr/ndnp-park-record-1935/, whose batch
file is read here too), imported one item per package: the dry run checks every package and stores
nothing, a broken package is reported and the others still go in, and ``heritage ingest`` shows a
progress bar and a per-package JSON report."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PIL import Image
from sqlalchemy import func, select

from library.access import Actor
from library.catalogue.models import Item
from library.container import build_platform
from library.ingest.mets_batch import batch_packages
from tests.conftest import REPO, make_settings, settings_env
from tests.library.test_mets_import import make_package, zip_folder

SYSTEM = Actor.system("tests")


def own_package(folder, n: int):
    """A two-page issue (:func:`make_package`) of its own: a speck per package keeps the images apart, and
    its own label."""
    make_package(folder)
    for image in (folder / "images").glob("*.png"):
        page = Image.open(image)
        page.load()
        page.putpixel((300 + n, 150), 0)
        page.save(image, dpi=(300, 300))
    mets = folder / "mets.xml"
    mets.write_text(mets.read_text(encoding="utf-8").replace("số 12", f"số {n}"), encoding="utf-8")
    return folder


def package_folder(tmp_path):
    """``batch/``: two folders and a zip that are packages, and a package whose second ALTO is missing."""
    batch = tmp_path / "batch"
    own_package(batch / "a-issue", 1)
    zip_folder(own_package(tmp_path / "b", 2), batch / "b-issue.zip")
    own_package(batch / "c-issue", 3)
    broken = own_package(batch / "d-broken", 4)
    (broken / "alto" / "p2.xml").unlink()
    (batch / "notes.txt").write_text("ghi chú", encoding="utf-8")  # not a package: left alone
    return batch


def item_count(platform) -> int:
    with platform.sessions() as s:
        return s.scalar(select(func.count()).select_from(Item))


@pytest.fixture
def platform(tmp_path):
    data = tmp_path / "data"
    p = build_platform(make_settings(data, database_url=f"sqlite:///{data / 'catalogue.sqlite3'}"))
    yield p
    p.close()


def test_a_folder_of_packages_is_checked_then_imported_one_item_each(platform, tmp_path):
    batch = package_folder(tmp_path)
    packages = batch_packages(batch)
    assert [p.label for p in packages] == ["a-issue", "b-issue.zip", "c-issue", "d-broken"]
    assert batch_packages(batch / "a-issue") is None  # one package is not a batch

    told = []
    checked = platform.mets.import_batch(packages, actor=SYSTEM, dry_run=True, done=told.append)
    assert told == checked
    assert [(o.source, o.status, o.pages) for o in checked[:3]] == [
        ("a-issue", "valid", 2), ("b-issue.zip", "valid", 2), ("c-issue", "valid", 2)]
    broken = checked[3]
    assert broken.status == "rejected" and [p.source for p in broken.problems] == ["alto/p2.xml"]
    assert "missing" in broken.problems[0].problem
    assert item_count(platform) == 0 and not (platform.store.root / "originals").exists()

    done = platform.mets.import_batch(packages, actor=SYSTEM)
    assert [o.status for o in done] == ["created", "created", "created", "rejected"]
    with platform.sessions() as s:
        titles = [s.get(Item, o.item_id).title for o in done[:3]]
    assert titles == [f"Tin Hà Nội, số {n}, 1935-03-01" for n in (1, 2, 3)]
    assert item_count(platform) == 3
    again = platform.mets.import_batch(packages[:1], actor=SYSTEM)
    assert again[0].status == "duplicate" and again[0].duplicate_of == done[0].item_id


def test_an_ndnp_batch_file_names_its_issues(platform, tmp_path, shared_data):
    real = batch_packages(shared_data / "ocr/ndnp-park-record-1935")
    assert [(p.label, p.problem) for p in real] == [("sn85058233/17082901001/1935080201/1935080201.xml", None)]

    batch = tmp_path / "ndnp"
    for n, day in ((1, "1935080201"), (2, "1935080901")):
        folder = own_package(batch / "sn00000000" / day, n)
        (folder / "mets.xml").rename(folder / f"{day}.xml")
    (tmp_path / "outside.xml").write_text("<mets/>", encoding="utf-8")
    (batch / "batch_test_ver01.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><batch xmlns="http://www.loc.gov/ndnp" name="test">'
        '<issue lccn="sn00000000" issueDate="1935-08-02">sn00000000/1935080201/1935080201.xml</issue>'
        '<issue lccn="sn00000000" issueDate="1935-08-09">sn00000000/1935080901/1935080901.xml</issue>'
        '<issue lccn="sn00000000" issueDate="1935-08-16">sn00000000/1935081601/1935081601.xml</issue>'
        '<issue lccn="sn00000000" issueDate="1935-08-23">../outside.xml</issue></batch>', encoding="utf-8")
    packages = batch_packages(batch)
    assert [p.label for p in packages] == ["sn00000000/1935080201/1935080201.xml",
                                           "sn00000000/1935080901/1935080901.xml",
                                           "sn00000000/1935081601/1935081601.xml", "batch_test_ver01.xml issue 4"]
    outcomes = platform.mets.import_batch(packages, actor=SYSTEM)
    assert [o.status for o in outcomes] == ["created", "created", "rejected", "rejected"]
    assert "missing from the batch" in outcomes[2].problems[0].problem
    assert outcomes[3].problems[0].source == "batch_test_ver01.xml"
    assert "outside the package" in outcomes[3].problems[0].problem
    assert item_count(platform) == 2


def test_heritage_ingest_takes_many_packages_with_a_dry_run_a_progress_bar_and_a_json_report(tmp_path):
    settings = make_settings(tmp_path / "data")
    batch = package_folder(tmp_path)

    def heritage(*args):
        return subprocess.run([sys.executable, "-m", "console", *map(str, args)], env=settings_env(settings),
                              capture_output=True, text=True, cwd=REPO, timeout=300)

    checked = heritage("ingest", "--dry-run", batch)
    assert checked.returncode == 2, checked.stderr  # one package has a problem
    assert "ingest: 100%" in checked.stderr and "4/4" in checked.stderr  # one step per package
    assert checked.stdout.count("valid (2 pages)") == 3 and "REJECTED: d-broken" in checked.stdout
    assert "alto/p2.xml: missing" in checked.stderr and "dry run: nothing was stored; 1 problem(s)" in checked.stdout
    assert not (settings.store_dir / "originals").exists()

    done = heritage("ingest", "--json", batch / "a-issue", batch / "b-issue.zip", batch / "d-broken")
    assert done.returncode == 2, done.stderr
    reports = json.loads(done.stdout)
    rows = [(r["items"][0]["source"], r["items"][0]["status"]) for r in reports]
    assert rows == [("a-issue", "created"), ("b-issue.zip", "created"), ("d-broken", "rejected")]
    assert reports[2]["items"][0]["problems"][0]["source"] == "alto/p2.xml"
    p = build_platform(settings)
    try:
        assert item_count(p) == 2
    finally:
        p.close()


def _catalogue_of(platform) -> list[tuple]:
    """Every item's title, and every page's text, packed layout, doubtful words and engine, in order."""
    from library.catalogue.models import Page

    with platform.sessions() as s:
        items = s.scalars(select(Item).order_by(Item.id)).all()
        return [(i.title, [(p.sequence, p.text, p.layout, p.low_confidence_words, p.ocr_engine, p.width, p.height)
                           for p in s.scalars(select(Page).where(Page.item_id == i.id).order_by(Page.sequence))])
                for i in items]


def test_checking_processes_import_what_one_process_imports(tmp_path):
    """``jobs=2``: two processes read and check the packages ahead of the one storing them; the same
    outcomes, rows and packed layouts as one process, the broken package refused for the same reason,
    no staging folder left; a dry run stores nothing."""
    batch = package_folder(tmp_path)
    packages = batch_packages(batch)
    results = {}
    for jobs in (1, 2):
        data = tmp_path / f"data-{jobs}"
        p = build_platform(make_settings(data, database_url=f"sqlite:///{data / 'catalogue.sqlite3'}"))
        try:
            checked = p.mets.import_batch(packages, actor=SYSTEM, dry_run=True, jobs=jobs)
            assert [o.status for o in checked] == ["valid", "valid", "valid", "rejected"]
            assert item_count(p) == 0 and not (p.store.root / "originals").exists()
            told = []
            outcomes = p.mets.import_batch(packages, actor=SYSTEM, jobs=jobs, done=told.append)
            assert told == outcomes
            results[jobs] = ([(o.source, o.status, o.pages, o.words, [str(x) for x in o.problems]) for o in outcomes],
                             _catalogue_of(p))
            assert list((p.settings.work_dir / "staging").iterdir()) == []
        finally:
            p.close()
    assert results[2] == results[1]
    outcomes, catalogue = results[2]
    assert [o[1] for o in outcomes] == ["created", "created", "created", "rejected"]
    assert "alto/p2.xml" in outcomes[3][4][0] and "missing" in outcomes[3][4][0]
    assert len(catalogue) == 3 and all(len(pages) == 2 and pages[0][2] for _, pages in catalogue)


def test_a_checking_process_that_dies_stops_the_batch_and_harms_nothing(platform, tmp_path):
    """A checking process killed (out of memory, by hand): the batch stops with BrokenProcessPool before
    storing the package it was checking, nothing half-written, and the next batch starts new processes."""
    import os
    import signal
    import time
    from concurrent.futures.process import BrokenProcessPool

    batch = package_folder(tmp_path)
    packages = batch_packages(batch)
    first = platform.mets.import_batch(packages[:2], actor=SYSTEM, jobs=2)
    assert [o.status for o in first] == ["created", "created"]
    pool = platform.mets._pool
    victim = next(iter(pool._processes.values()))
    os.kill(victim.pid, signal.SIGKILL)
    victim.join(10)
    time.sleep(0.5)  # the pool's manager notices
    with pytest.raises(BrokenProcessPool):
        platform.mets.import_batch(packages[2:], actor=SYSTEM, jobs=2)
    assert item_count(platform) == 2
    assert list((platform.settings.work_dir / "staging").iterdir()) == []
    again = platform.mets.import_batch(packages[2:], actor=SYSTEM, jobs=2)
    assert [o.status for o in again] == ["created", "rejected"]
    assert item_count(platform) == 3


def test_heritage_ingest_jobs_checks_packages_in_other_processes(tmp_path):
    settings = make_settings(tmp_path / "data")
    batch = package_folder(tmp_path)
    done = subprocess.run([sys.executable, "-m", "console", "ingest", "--jobs", "2", "--json", str(batch)],
                          env=settings_env(settings), capture_output=True, text=True, cwd=REPO, timeout=300)
    assert done.returncode == 2, done.stderr  # the broken package
    rows = [(r["items"][0]["source"], r["items"][0]["status"]) for r in json.loads(done.stdout)]
    assert rows == [("a-issue", "created"), ("b-issue.zip", "created"), ("c-issue", "created"),
                    ("d-broken", "rejected")]
    bad = subprocess.run([sys.executable, "-m", "console", "ingest", "--jobs", "0", str(batch)],
                         env=settings_env(settings), capture_output=True, text=True, cwd=REPO, timeout=300)
    assert bad.returncode == 2 and "--jobs" in bad.stderr
