"""Photos of two unrelated monuments in one build: the split is found and said, the larger model is kept."""

from __future__ import annotations

import shutil

import pytest

pytestmark = pytest.mark.slow


def test_unrelated_subjects_are_reported_and_the_largest_kept(tmp_path, shared_data):
    from heritage3d import BuildOptions, build_model

    photos = tmp_path / "photos"
    photos.mkdir()
    fountain = sorted((shared_data / "photogrammetry" / "fountain-p11" / "images").glob("*.jpg"))[:6]
    castle = sorted((shared_data / "photogrammetry" / "sceaux-castle").glob("*.JPG"))[:5]
    for p in fountain + castle:
        shutil.copy(p, photos / p.name)
    report = build_model(sorted(photos.iterdir()), out_dir=tmp_path / "out", work_dir=tmp_path / "work",
                         options=BuildOptions()).as_dict()
    assert report["models_found"] == 2 and report["images_total"] == 11
    assert sorted(c["name"] for c in report["cameras"]) == [p.name for p in fountain]
    assert any("split into 2 separate models" in w for w in report["warnings"])
    assert (tmp_path / "out" / "report.json").is_file()
