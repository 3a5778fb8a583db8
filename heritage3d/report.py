"""The build report: what was made, how well, how long it took. JSON-serialisable."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field


@dataclass
class StageRecord:
    name: str
    seconds: float
    peak_rss_mb: float  # the process's memory high-water mark at the end of the stage
    resumed: bool = False


@dataclass
class LevelRecord:
    name: str  # "high", "medium", "mobile", "preview"
    file: str
    vertices: int
    faces: int
    bytes: int
    texture_px: int | None = None  # side of the texture atlas; None: vertex colours
    texture_bytes: int = 0
    texture_seen: float | None = None  # share of the atlas's surface some photo saw (the rest: vertex colours)


@dataclass
class BuildReport:
    input_kind: str  # "photos", "point_cloud", "mesh"
    pipeline_version: str
    options: dict
    images_total: int = 0
    images_registered: int = 0
    models_found: int = 0  # >1: the photos split into several models; the largest was kept
    mean_reprojection_error_px: float | None = None
    cameras: list[dict] = field(default_factory=list)  # name, centre (3,), rotation (3, 3) world→camera, model frame
    sparse_points: int = 0
    metric_scale: bool = False
    scale_source: str = "none"  # what set the size: "known_distance" (wins), "gps" or "none"
    scale_residual_m: float | None = None  # gps: RMS distance between the placed cameras and their GPS positions
    up_source: str = "cameras"  # "gps", "cameras" (photographers hold cameras upright) or "input" (kept as given)
    gps: dict | None = None  # photos with GPS, used, outliers, accuracy, predicted errors, or why it was refused
    georeference: dict | None = None  # latitude, longitude (WGS 84), altitude of the output origin; axes
    model_frame_to_output: dict = field(default_factory=dict)  # scale, rotation, translation
    levels: list[LevelRecord] = field(default_factory=list)
    thumbnail: str | None = None
    stages: list[StageRecord] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    @contextmanager
    def stage(self, name: str, resumed: bool = False):
        t0 = time.perf_counter()
        yield
        peak_mb = peak_rss_mb()
        self.stages.append(StageRecord(name, round(time.perf_counter() - t0, 3), round(peak_mb, 1), resumed))


def peak_rss_mb() -> float:
    """This process's own peak resident memory in MB (``VmHWM``).

    ``getrusage(RUSAGE_SELF).ru_maxrss`` is no use in a process started by
    another: Linux carries the parent's peak across fork and exec (a child of
    a 1 GB test runner reports 1 GB before it has done anything)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")
