"""Fixtures for heritage3d: the shared photo sets (see ../shared/data/README.md for provenance),
each reconstructed at most once per test session (module-scoped fixtures)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
PHOTOGRAMMETRY = REPO.parent / "shared" / "data" / "photogrammetry"


def photo_set(name: str) -> Path:
    d = PHOTOGRAMMETRY / name
    if not d.is_dir():
        pytest.skip(f"shared data {d} is absent")
    return d


def fountain_truth(names: list[str]) -> np.ndarray:
    """Surveyed camera centres (n, 3) float64 metres from the Strecha ``.camera`` files."""
    d = photo_set("fountain-p11") / "gt_cameras"
    return np.array([np.array((d / f"{n}.camera").read_text().split(), float)[21:24] for n in names])


@pytest.fixture(scope="session")
def synthetic_scene():
    from heritage3d.synthetic import make_scene

    return make_scene()
