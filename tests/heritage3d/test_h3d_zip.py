"""`heritage model build photos.zip --out DIR`: a zip of photos opened with library.ingest.zips' safety, and
the build's terminal output free of COLMAP's own log lines."""

from __future__ import annotations

import io
import json
import re
import stat
import subprocess
import sys
import zipfile

import pytest
from click.testing import CliRunner
from PIL import Image

from conftest import photo_set
from console import main
from tests.conftest import REPO, make_settings, settings_env

GLOG_LINE = re.compile(r"^[IWEF]\d{8} \d\d:\d\d:\d\d\.\d+ +\d+ \S+:\d+\]", re.MULTILINE)


def jpeg(colour=(120, 80, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "JPEG")
    return out.getvalue()


@pytest.mark.slow
def test_a_zip_of_photos_is_built_and_colmap_stays_quiet(tmp_path):
    d = photo_set("sceaux-castle")
    photos = sorted(d.glob("*.JPG"))
    with zipfile.ZipFile(tmp_path / "lâu đài.zip", "w", zipfile.ZIP_STORED) as z:
        for p in photos:
            z.write(p, f"Lâu đài Sceaux/{p.name}")
        z.writestr("__MACOSX/Lâu đài Sceaux/._100_7100.JPG", b"\x00\x05\x16\x07 resource fork")
        z.writestr("Lâu đài Sceaux/ghi chú.txt", "chụp tháng 6".encode())
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "console", "model", "build", str(tmp_path / "lâu đài.zip"),
                        "--out", str(out), "--intrinsics", str(d / "K.txt")],
                       env=settings_env(make_settings(tmp_path / "data")), capture_output=True, text=True, cwd=REPO,
                       timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert report["images_total"] == report["images_registered"] == 11
    assert sorted(c["name"] for c in report["cameras"]) == [p.name for p in photos]  # the names inside the zip
    assert "ghi chú.txt" in r.stderr and "left out" in r.stderr
    assert not GLOG_LINE.search(r.stderr), GLOG_LINE.findall(r.stderr)[:3]  # pycolmap's glog is silenced
    assert "build" in r.stderr and "done" in r.stderr  # our own progress is still shown
    assert "model written to" in r.stdout


def _zip(path, entries):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            if isinstance(name, zipfile.ZipInfo):
                z.writestr(name, data)
            else:
                z.writestr(name, data)
    return path


def _symlink_entry():
    info = zipfile.ZipInfo("photos/link.jpg")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


GOOD = [(f"photos/{i:02d}.jpg", jpeg()) for i in range(3)]
HOSTILE = {
    "traversal": (GOOD + [("photos/../../evil.jpg", jpeg())], "'..'"),
    "absolute": (GOOD + [("/tmp/evil.jpg", jpeg())], "absolute path"),
    "direction_trick": (GOOD + [("photos/ảnh\u202egpj.exe", jpeg())], "U+202E"),
    "bomb": (GOOD + [("photos/big.jpg", b"\0" * (40 << 20))], "zip bomb"),
    "not_an_image": (GOOD + [("photos/03.jpg", b"<!DOCTYPE html><html><body>hello</body></html>")],
                     "hostile.zip: photos/03.jpg: the content is an HTML"),
    "nested_zip": (GOOD + [("photos/more.zip", b"PK\x05\x06" + b"\0" * 18)], "zip inside a zip"),
    "symlink": (GOOD + [(_symlink_entry(), "/etc/passwd")], "symbolic link"),
    "truncated_photo": (GOOD + [("photos/03.jpg", jpeg()[:200])], "03.jpg"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_zips_are_refused_with_the_reason(tmp_path, monkeypatch, case):
    entries, reason = HOSTILE[case]
    path = _zip(tmp_path / "hostile.zip", entries)
    monkeypatch.setenv("HERITAGE_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(main, ["model", "build", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert reason in result.stderr, result.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "evil.jpg").exists()
    assert not list(tmp_path.parent.glob("evil.jpg"))


def test_a_corrupt_zip_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "photos.zip"
    path.write_bytes(b"PK\x03\x04" + b"\x13" * 300)
    monkeypatch.setenv("HERITAGE_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(main, ["model", "build", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "corrupt zip archive" in result.stderr, result.stderr


def test_a_zip_without_photos_is_refused(tmp_path, monkeypatch):
    path = _zip(tmp_path / "notes.zip", [("readme.txt", b"hello")])
    monkeypatch.setenv("HERITAGE_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(main, ["model", "build", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "no photos and no OBJ mesh" in result.stderr, result.stderr


def test_photos_with_the_same_name_in_two_folders_keep_both(tmp_path):
    from library.monuments.model_inputs import unpack_model_zip
    from library.settings import Limits

    path = _zip(tmp_path / "two.zip", [("north/1.jpg", jpeg((10, 10, 10))), ("south/1.jpg", jpeg((200, 200, 200))),
                                       ("south/2.jpg", jpeg())])
    files, notes = unpack_model_zip(path, tmp_path / "staging", Limits())
    assert [f.name for f in files] == ["north_1.jpg", "south_1.jpg", "2.jpg"] and not notes
    assert len({f.parent for f in files}) == 1  # one folder, as the pipeline wants
    assert all(f.resolve().is_relative_to((tmp_path / "staging").resolve()) for f in files)
