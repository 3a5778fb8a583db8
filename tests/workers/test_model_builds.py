"""A 3D build runs in a real Celery worker: stage progress in the catalogue, the model published."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from library.access import Actor
from library.container import build_platform
from library.catalogue.models import BuildStatus
from library.monuments.service import BuildSource
from tests.conftest import REPO, make_settings, settings_env, wait_until
from tests.library.test_monuments import point_cloud

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_build_task_publishes_a_model(tmp_path, start_worker):
    settings = make_settings(tmp_path / "data")
    p = build_platform(settings)
    m = p.monuments.create_monument(name_vi="Khuê Văn Các", name_en="Constellation of Literature Pavilion", actor=SYSTEM)
    v = p.monuments.submit_build(m.id, [BuildSource(point_cloud(tmp_path / "gac.xyz"), "gac.xyz")], actor=SYSTEM)
    start_worker(settings)
    wait_until(lambda: p.monuments.version(v.id).status not in (BuildStatus.queued, BuildStatus.running),
               timeout_s=180, what="build finished")
    done = p.monuments.version(v.id)
    assert done.status == BuildStatus.done, done.status_reason
    assert done.attempts == 1 and done.stage == "published"
    report = json.loads(done.report)
    assert all(p.store.resolve(done.output_relpath).joinpath(lv["file"]).is_file() for lv in report["levels"])
    # the worker indexed the monument after the build
    wait_until(lambda: p.indexer.engine.search(
        __import__("search").SearchRequest(access_levels=("public",), query="Khue Van Cac", kinds=["monument"])).total == 1,
        timeout_s=30, what="monument indexed")
    p.close()


def test_model_build_command_without_the_catalogue(tmp_path):
    cloud = point_cloud(tmp_path / "cloud.xyz")
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "console", "model", "build", str(cloud), "--out", str(out)],
                       env=settings_env(make_settings(tmp_path / "data")), capture_output=True, text=True, cwd=REPO,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "model written to" in r.stdout and "build: 100%" in r.stderr
    assert (out / "report.json").is_file() and any(out.glob("*.glb")) and (out / "thumbnail.webp").is_file()
    bad = tmp_path / "bad.glb"
    bad.write_bytes(b"glTF\x02\x00\x00\x00garbage")
    r = subprocess.run([sys.executable, "-m", "console", "model", "build", str(bad), "--out",
                        str(tmp_path / "out2")], env=settings_env(make_settings(tmp_path / "data")),
                       capture_output=True, text=True, cwd=REPO, timeout=300)
    assert r.returncode == 10 and "bad.glb" in r.stderr and not (tmp_path / "out2").exists()
