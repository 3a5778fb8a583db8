"""`heritage model build --known-distance`: a curator's one measured distance gives the model metric scale,
checked against the surveyed cameras of fountain-P11."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import REPO, make_settings, settings_env

pytestmark = pytest.mark.slow


def surveyed_centre(shared_data, name: str) -> np.ndarray:
    lines = (shared_data / "photogrammetry" / "fountain-p11" / "gt_cameras" / f"{name}.camera").read_text().split("\n")
    return np.array([float(v) for v in lines[7].split()])


def test_known_distance_gives_metric_scale(tmp_path, shared_data):
    images = shared_data / "photogrammetry" / "fountain-p11" / "images"
    a, b = "0000.jpg", "0010.jpg"
    known = float(np.linalg.norm(surveyed_centre(shared_data, a) - surveyed_centre(shared_data, b)))
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "console", "model", "build", str(images), "--out", str(out),
                        "--known-distance", a, b, f"{known:.4f}"],
                       env=settings_env(make_settings(tmp_path / "data")), capture_output=True, text=True, cwd=REPO,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    report = json.loads((out / "report.json").read_text())
    assert report["metric_scale"] is True and report["scale_source"] == "known_distance"
    scale = report["model_frame_to_output"]["scale"]
    centres = {c["name"]: np.array(c["centre"]) for c in report["cameras"]}
    # another pair of cameras, not the one given: its distance in metres must match the survey
    c, d = "0003.jpg", "0007.jpg"
    measured = scale * float(np.linalg.norm(centres[c] - centres[d]))
    truth = float(np.linalg.norm(surveyed_centre(shared_data, c) - surveyed_centre(shared_data, d)))
    assert abs(measured - truth) / truth < 0.02, (measured, truth)
    bad = subprocess.run([sys.executable, "-m", "console", "model", "build", str(images), "--out",
                          str(tmp_path / "out2"), "--known-distance", "nope.jpg", b, "1.0"],
                         env=settings_env(make_settings(tmp_path / "data")), capture_output=True, text=True, cwd=REPO,
                         timeout=600)
    assert bad.returncode in (2, 10) and "nope.jpg" in bad.stderr and not (tmp_path / "out2").exists()
