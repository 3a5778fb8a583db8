"""Settings: one data folder for all state, every value overridable by
``HERITAGE_``-prefixed environment variables.

Only the edges (CLI, web factory, Celery factory) call :func:`Settings.from_env`;
everything inside receives the values it needs explicitly.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

ENV_PREFIX = "HERITAGE_"


@dataclass(frozen=True)
class Limits:
    """Limits on uploaded input. Each one is a setting (``HERITAGE_MAX_…``)."""

    max_file_bytes: int = 512 * 1024 * 1024  # one uploaded file
    max_image_pixels: int = 120_000_000  # one page image (≈ A1 at 300 dpi)
    max_pages_per_file: int = 2_000  # multi-page TIFF or PDF
    max_zip_entries: int = 5_000
    max_zip_total_bytes: int = 4 * 1024 * 1024 * 1024  # expanded size of one zip
    max_zip_ratio: int = 200  # expanded/compressed size of one zip entry
    max_metadata_chars: int = 2_000  # one metadata value
    max_sheet_rows: int = 10_000
    max_pages_per_item: int = 10_000  # pages of one item, all its files (or one METS package) together
    max_words_per_page: int = 100_000  # words of one page's reading (an imported ALTO)
    max_items_per_collection: int = 100_000  # a collection larger than this is split into sub-collections
    pdf_dpi: int = 300  # rasterisation of PDF pages


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str = ""  # empty: SQLite file in data_dir
    broker_url: str = ""  # empty: kombu filesystem transport in data_dir
    search_url: str = ""  # empty: embedded tantivy index in data_dir/index; or http(s)://host:9200 (ES 8 / OpenSearch 2)
    search_index: str = "heritage"  # index (alias) name on a cluster
    # a search on a cluster: the engine stops collecting after this and answers with what it found (the
    # page says the results may be incomplete); a node that does not answer is given up a second later
    search_timeout_s: float = 5.0
    default_languages: str = "vie"
    review_confidence: float = 70.0  # pages with a lower mean word confidence are flagged
    # a word read with a lower confidence (tesseract's 0–100) is doubtful: marked on the correction page,
    # counted per page for the correction queue (pages.low_confidence_words)
    low_confidence: float = 60.0
    ocr_timeout_s: float = 600.0
    task_time_limit_s: float = 900.0
    resend_queued_after_s: float = 3600.0  # a queued page whose task was lost (e.g. a retry held by a dead worker) is sent again
    stuck_after_s: float = 300.0  # a running page without a heartbeat for this long is requeued
    heartbeat_s: float = 10.0
    retry_backoff_s: float = 5.0  # first retry delay of a transient failure; doubles each time
    max_retries: int = 5
    worker_concurrency: int = 2
    broker_polling_interval_s: float = 0.05
    feedback_per_window: int = 5  # readers' feedback accepted from one client address per window
    feedback_window_s: float = 600.0
    # the monument map: a tile URL template such as https://tile.example.org/{z}/{x}/{y}.png and its credit;
    # empty: no tile layer, the markers on a plain background, and no request leaves the portal
    map_tiles: str = ""
    map_attribution: str = ""
    # reverse proxies in front of the portal (nginx: 1): their X-Forwarded-For/-Proto are trusted for the
    # client address (per-address limits) and https; 0 trusts none (a direct connection)
    proxy_hops: int = 0
    # the portal's public base URL (https://thuvien.example.vn or …/portal): absolute URLs (IIIF ids,
    # manifests, API links, CSV links) are made from it, never from the request's Host header; empty: the
    # Host header is used (fine behind a proxy that sets it, unsafe when the portal is reached directly)
    public_url: str = ""
    iiif_cache_bytes: int = 2 * 1024 ** 3  # rendered IIIF tiles and sizes kept on disk (least recently used go first)
    exports_cache_bytes: int = 5 * 1024 ** 3  # PDF, text, ALTO and METS exports kept on disk (the same way)
    # keep the normalised page image (lossless PNG, the frame of the word boxes) after reading; by default it
    # is a work file: viewers, thumbnails and PDFs use the tiled pyramid (library.reading.pyramid)
    keep_normalised: bool = False
    viewer_jpeg_quality: int = 75  # JPEG quality of the viewer pyramid's tiles (bench/image_derivatives.py)
    # the reading room: address ranges (CIDR, comma-separated, e.g. "10.12.0.0/16,192.168.5.7") whose
    # requests may see items at the reading-room level; empty: no address is in the reading room
    reading_room: str = ""
    # what an anonymous request sees of an item it may not read: "hidden" (404, as if it did not exist)
    # or "shown" (its catalogue record with a notice; its images, text and downloads answer 403)
    restricted_metadata: str = "hidden"
    # a deleted item's originals stay in the store (and in fixity) this many days after the deletion;
    # then 'heritage fixity --purge-expired' removes those no other item uses
    deleted_retention_days: int = 365
    # OAI-PMH (/oai): the repository id in identifiers oai:<id>:item/<n> (empty: the host of public_url),
    # the contact harvesters see (empty: webmaster@<id>), and how many records one list answer holds
    oai_repository_id: str = ""
    oai_admin_email: str = ""
    oai_page_size: int = 100
    # who may read GET /metrics and the reasons of GET /health/ready: client address ranges (CIDR,
    # comma-separated; behind a proxy set proxy_hops, or every request comes from the proxy's address)
    metrics_allow: str = "127.0.0.1/32,::1/128"
    limits: Limits = field(default_factory=Limits)

    # ------------------------------------------------------------------ paths
    @property
    def store_dir(self) -> Path:
        return self.data_dir / "store"

    @property
    def work_dir(self) -> Path:
        return self.data_dir / "work"

    @property
    def queue_dir(self) -> Path:
        return self.data_dir / "queue"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def catalogue_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'catalogue.sqlite3'}"

    @property
    def search_location(self) -> str:
        return self.search_url or str(self.index_dir)

    @property
    def uses_embedded_broker(self) -> bool:
        return not self.broker_url or self.broker_url.startswith("filesystem://")

    # ------------------------------------------------------------- building
    @classmethod
    def from_env(cls, environ: os._Environ | dict | None = None, **overrides) -> "Settings":
        """Read ``HERITAGE_*`` variables; ``overrides`` win over the environment."""
        env = os.environ if environ is None else environ
        values: dict = {}
        limit_values: dict = {}
        for f in dataclasses.fields(cls):
            if f.name == "limits":
                continue
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _coerce(f.type, raw, f.name)
        for f in dataclasses.fields(Limits):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is not None and raw != "":
                limit_values[f.name] = _coerce(f.type, raw, f.name)
        if "data_dir" not in values:
            values["data_dir"] = Path.cwd() / "data"
        values.update({k: v for k, v in overrides.items() if k != "limits"})
        limits = overrides.get("limits") or Limits(**limit_values)
        values["data_dir"] = Path(values["data_dir"]).expanduser().resolve()
        return cls(limits=limits, **values)

    def ensure_dirs(self) -> None:
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # the catalogue, keys: the owner's only
        for d in (self.data_dir, self.store_dir, self.work_dir, self.queue_dir):
            d.mkdir(parents=True, exist_ok=True)


def _coerce(type_name, raw: str, name: str):
    t = type_name if isinstance(type_name, str) else getattr(type_name, "__name__", str(type_name))
    try:
        if t == "int":
            return int(raw)
        if t == "float":
            return float(raw)
        if t == "Path":
            return Path(raw)
        if t == "bool":
            if raw.strip().lower() not in ("0", "1", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(raw)
            return raw.strip().lower() in ("1", "true", "yes", "on")
        return raw
    except ValueError as exc:
        raise ValueError(f"setting {ENV_PREFIX}{name.upper()}={raw!r} is not a valid {t}") from exc
