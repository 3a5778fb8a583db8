"""The `heritage` command as an operator uses it: real processes, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, make_settings, settings_env
from tests.workers.test_ocr_workers import small_pages


def heritage(settings, *args, check=False, extra_env=None):
    env = settings_env(settings)
    env.update(extra_env or {})
    return subprocess.run([sys.executable, "-m", "console", *map(str, args)], env=env, capture_output=True,
                          text=True, cwd=REPO, check=check, timeout=600)


@pytest.fixture
def cli_settings(tmp_path):
    return make_settings(tmp_path / "data")


def scans(tmp_path: Path, n: int = 2) -> list[Path]:
    out = []
    for i, page in enumerate(small_pages(n)):
        out.append(tmp_path / f"trang-{i + 1}.png")
        page.image.save(out[-1], dpi=(300, 300))
    return out


def test_dry_run_lists_every_problem_and_stores_nothing(tmp_path, cli_settings):
    good = scans(tmp_path, 1)[0]
    bad = tmp_path / "hỏng.tif"
    bad.write_bytes(b"II*\x00\x08\x00\x00\x00garbage")
    sheet = tmp_path / "batch.csv"
    sheet.write_text("file,title,date\ntrang-1.png,Sách tốt,1936\nhỏng.tif,Sách hỏng,1936-02-30\n", encoding="utf-8")
    r = heritage(cli_settings, "ingest", "--dry-run", sheet)
    assert r.returncode == 2
    assert "valid (1 pages): Sách tốt" in r.stdout and "dry run: nothing was stored" in r.stdout
    assert "batch.csv, row 3" in r.stderr and "1936-02-30" in r.stderr
    assert not (cli_settings.store_dir / "originals").exists()
    ok = heritage(cli_settings, "ingest", "--dry-run", "--title", "Tốt", good)
    assert ok.returncode == 0 and "valid (1 pages): Tốt" in ok.stdout
    assert "no items yet" in heritage(cli_settings, "status").stdout


def test_ingest_json_then_again_is_recognised(tmp_path, cli_settings):
    folder = tmp_path / "sach"
    folder.mkdir()
    for p in scans(tmp_path, 2):
        p.rename(folder / p.name)
    r = heritage(cli_settings, "ingest", "--json", "--title", "Lục Vân Tiên", "--creator", "Nguyễn Đình Chiểu",
                 "--date", "thế kỷ XIX", "--lang", "vie", folder, check=True)
    out = json.loads(r.stdout)[0]["items"][0]
    assert out["status"] == "created" and out["pages"] == 2
    again = heritage(cli_settings, "ingest", folder)
    assert again.returncode == 0 and f"already stored as item {out['item_id']}" in again.stdout


def test_ingest_refuses_bad_options_with_a_clear_message(tmp_path, cli_settings):
    good = scans(tmp_path, 1)[0]
    r = heritage(cli_settings, "ingest", "--psm", "42", good)
    assert r.returncode == 2 and "page segmentation mode 42" in r.stderr
    r = heritage(cli_settings, "ingest", "--type", "poster", good)
    assert r.returncode == 2 and "poster" in r.stderr


@pytest.mark.slow
def test_ingest_wait_shows_progress_until_the_workers_finish(tmp_path, cli_settings, start_worker):
    pages = scans(tmp_path, 3)
    start_worker(cli_settings)
    r = heritage(cli_settings, "ingest", "--wait", "--title", "Ba trang", *pages[:1])
    assert r.returncode == 0, r.stderr
    assert "OCR: 100%" in r.stderr and "1/1 pages read" in r.stdout
    st = heritage(cli_settings, "status", "1", check=True).stdout
    assert "page    1" in st and "done" in st


@pytest.mark.slow
def test_ocr_command_prints_text_or_writes_files(tmp_path, cli_settings):
    page = scans(tmp_path, 1)[0]
    r = heritage(cli_settings, "ocr", "--lang", "vie", page, check=True)
    assert "Văn Miếu được xây dựng năm 1070" in r.stdout
    out = tmp_path / "out"
    heritage(cli_settings, "ocr", "--out", out, page, check=True)
    assert sorted(p.name for p in out.iterdir()) == ["trang-1.alto.xml", "trang-1.hocr", "trang-1.tsv", "trang-1.txt"]
    assert "Lý Thánh Tông" in (out / "trang-1.txt").read_text(encoding="utf-8")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\nnope")
    r = heritage(cli_settings, "ocr", broken)
    assert r.returncode == 6 and "broken.png" in r.stderr


def test_ocr_command_skips_stages_and_says_why_a_reading_is_poor(tmp_path, cli_settings):
    from PIL import Image

    blank = tmp_path / "trang-trang.png"
    Image.new("L", (1200, 1600), 250).save(blank, dpi=(300, 300))
    r = heritage(cli_settings, "ocr", "--skip", "postcorrect", "--skip", "layout", blank, check=True)
    assert r.stdout.strip() == "" and "warning: trang-trang.png: blank page" in r.stderr
    r = heritage(cli_settings, "ocr", "--skip", "binarize", blank)
    assert r.returncode == 2 and "binarize" in r.stderr and "binarise" in r.stderr  # the stages it could mean
    page = scans(tmp_path, 1)[0]
    r = heritage(cli_settings, "ocr", "--skip", "postcorrect", "--no-binarize", page, check=True)
    assert "Văn Miếu" in r.stdout


def test_user_add_and_duplicate(tmp_path, cli_settings):
    env = {"HERITAGE_NEW_PASSWORD": "mot-mat-khau-dai"}
    r = heritage(cli_settings, "user", "add", "nguyen.thu.thu", "--role", "librarian", extra_env=env)
    assert r.returncode == 0 and "created librarian nguyen.thu.thu" in r.stdout
    r = heritage(cli_settings, "user", "add", "nguyen.thu.thu", "--role", "admin", extra_env=env)
    assert r.returncode == 5 and "exists already" in r.stderr
    r = heritage(cli_settings, "user", "add", "x y", "--role", "admin", extra_env=env)
    assert r.returncode == 2 and "username" in r.stderr
