"""The demo collection: the project's own Vietnamese texts (``library/demo_texts``)
rendered as pages, degraded like real scans, and ingested through the same
service as any upload, so a newcomer sees the whole platform work at once."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Callable

from sqlalchemy import select

from library.ingest import Upload
from library.models import Item

TEXTS_DIR = Path(__file__).parent / "demo_texts"
COLLECTION = "Bộ sưu tập mẫu – Di sản Hà Nội"
# each text gets a different kind of scan, so the demo shows what preprocessing does
PRESET_BY_TYPE = {"book": "scan", "magazine": "clean", "newspaper": "low_dpi"}
MAX_PAGES_PER_TEXT = 3


def read_demo_text(path: Path) -> tuple[dict[str, str], str]:
    """Split a demo text into its ``# key: value`` header and its body."""
    header: dict[str, str] = {}
    lines = unicodedata.normalize("NFC", path.read_text(encoding="utf-8")).splitlines()
    n = 0
    while n < len(lines) and lines[n].startswith("# "):
        key, _, value = lines[n][2:].partition(":")
        header[key.strip()] = value.strip()
        n += 1
    return header, "\n".join(lines[n:]).strip("\n")


def load_demo(platform, folder: Path, *, progress: Callable[[], None] | None = None) -> list[int]:
    """Render and ingest every demo text not yet in the catalogue; returns the new item ids."""
    from digitize import synthetic

    folder.mkdir(parents=True, exist_ok=True)
    created: list[int] = []
    for n, path in enumerate(sorted(TEXTS_DIR.glob("*.txt"))):
        identifier = f"DEMO-{path.stem}"
        with platform.sessions() as s:
            if s.scalars(select(Item.id).where(Item.identifier == identifier)).first() is not None:
                continue
        header, body = read_demo_text(path)
        item_type = header.get("type", "book")
        pages = synthetic.render_document(
            body, pages=MAX_PAGES_PER_TEXT, title=header.get("title"),
            degradation=PRESET_BY_TYPE.get(item_type, "scan"), seed=n * 100,
        )
        page_dir = folder / path.stem
        page_dir.mkdir(exist_ok=True)
        for i, page in enumerate(pages, 1):
            fmt = "JPEG" if page.image.format == "JPEG" or item_type != "magazine" else "PNG"
            target = page_dir / f"trang-{i}.{'jpg' if fmt == 'JPEG' else 'png'}"
            page.image.save(target, fmt, dpi=page.image.info.get("dpi", (300, 300)), quality=90)
            if progress:
                progress()
        metadata = {
            "title": header.get("title", path.stem),
            "creator": header.get("creator", ""),
            "date": header.get("date", ""),
            "type": item_type,
            "language": "vie",
            "subject": header.get("subject", ""),
            "identifier": identifier,
            "rights": "Văn bản mẫu viết cho dự án; giấy phép Apache-2.0",
            "collection": COLLECTION,
        }
        if item_type == "newspaper":
            metadata["serial_title"] = header.get("title", "")
            metadata["issue_date"] = header.get("date", "")
        report = platform.ingest.ingest_item([Upload(page_dir, page_dir.name)], {k: v for k, v in metadata.items() if v})
        for outcome in report.items:
            if outcome.status == "created":
                created.append(outcome.item_id)
            elif outcome.problems:
                raise RuntimeError("demo item rejected: " + "; ".join(map(str, outcome.problems)))
    return created
