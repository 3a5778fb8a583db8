"""The demo collection: the project's own Vietnamese texts (``library/demo_texts``)
rendered as pages, degraded like real scans, and ingested through the same
service as any upload, so a newcomer sees the whole platform work at once."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Callable

from sqlalchemy import select

from library.access import Actor
from library.ingest.service import Upload
from library.catalogue.models import Item

TEXTS_DIR = Path(__file__).parent / "demo_texts"
COLLECTION = "Bộ sưu tập mẫu – Di sản Hà Nội"
DEMO_ACTOR = Actor.system("demo")  # the demo data is made by the machine, not by a user
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
        report = platform.ingest.ingest_item([Upload(page_dir, page_dir.name)], {k: v for k, v in metadata.items() if v},
                                             actor=DEMO_ACTOR)
        for outcome in report.items:
            if outcome.status == "created":
                created.append(outcome.item_id)
            elif outcome.problems:
                raise RuntimeError("demo item rejected: " + "; ".join(map(str, outcome.problems)))
    return created


# The demo's monuments: facts from the public record; their models are the simple
# coloured sketches of heritage3d.demo_scenes, built by the workers like any upload.
DEMO_MONUMENTS = [
    {
        "scene": "khue-van-cac",
        "model_title": "Khuê Văn Các (mô hình phác thảo)",
        "name_vi": "Văn Miếu – Quốc Tử Giám",
        "name_en": "Temple of Literature – Imperial Academy",
        "description_vi": "Văn Miếu được dựng năm 1070 đời vua Lý Thánh Tông để thờ Khổng Tử; năm 1076 nhà Lý lập "
                          "Quốc Tử Giám bên cạnh, trường đại học đầu tiên của Việt Nam. Khuê Văn Các, gác bốn mặt có "
                          "cửa sổ tròn, dựng năm 1805 đời Nguyễn, nay là biểu tượng của Hà Nội. Mô hình 3D ở đây là "
                          "bản phác thảo dựng từ khối hình học cho bản trình diễn, chưa phải bản đo đạc.",
        "description_en": "The Temple of Literature was built in 1070 under King Lý Thánh Tông to honour Confucius; in "
                          "1076 the Imperial Academy, Vietnam's first university, was founded beside it. The "
                          "Constellation of Literature Pavilion (Khuê Văn Các), with a round window on each side, was "
                          "built in 1805 under the Nguyễn and is a symbol of Hanoi. The 3D model here is a sketch made "
                          "of simple shapes for the demo, not a survey.",
        "address": "58 Quốc Tử Giám, Đống Đa, Hà Nội",
        "lat": 21.0293, "lon": 105.8356, "period": "nhà Lý, 1070", "year_start": 1070,
        "heritage_rank": "special_national",
        "points": [
            {"position": (4.05, 2.0, 3.2), "normal": (1, 0, 0), "label_vi": "Bốn trụ gạch", "label_en": "Four brick piers",
             "text_vi": "Tầng dưới là bốn trụ gạch vuông đỡ gác gỗ phía trên.",
             "text_en": "Four square brick piers carry the wooden storey above."},
            {"position": (3.3, 5.55, 0.0), "normal": (1, 0, 0), "label_vi": "Cửa sổ tròn", "label_en": "Round window",
             "text_vi": "Bốn cửa sổ tròn tượng trưng cho ánh sáng sao Khuê toả ra bốn phương.",
             "text_en": "The four round windows stand for the light of the Khuê star shining in every direction."},
            {"position": (0.0, 9.7, 0.0), "normal": (0, 1, 0), "label_vi": "Mái hai tầng", "label_en": "Two-tier roof",
             "text_vi": "Mái ngói hai tầng che gác gỗ.", "text_en": "A two-tier tiled roof covers the wooden storey."},
        ],
        "tour": {"title_vi": "Một vòng quanh Khuê Văn Các", "title_en": "Around the Constellation of Literature Pavilion",
                 "stops": [((45, 80, 18), "Từ sân, gác đứng trên bốn trụ gạch.", "From the courtyard: the pavilion stands on four brick piers."),
                           ((90, 85, 14), "Mỗi mặt gác có một cửa sổ tròn.", "Each side has a round window."),
                           ((30, 45, 20), "Nhìn từ trên: mái ngói hai tầng.", "From above: the two-tier roof.")]},
    },
    {
        "scene": "chua-mot-cot",
        "model_title": "Chùa Một Cột (mô hình phác thảo)",
        "name_vi": "Chùa Một Cột",
        "name_en": "One Pillar Pagoda",
        "description_vi": "Chùa Một Cột (Diên Hựu tự) được dựng năm 1049 đời vua Lý Thái Tông: một điện nhỏ trên "
                          "một cột đá giữa hồ vuông, gợi hình bông sen. Chùa bị phá năm 1954 và được dựng lại năm "
                          "1955. Mô hình 3D ở đây là bản phác thảo cho bản trình diễn.",
        "description_en": "The One Pillar Pagoda (Diên Hựu temple) was built in 1049 under King Lý Thái Tông: a small "
                          "shrine on a single stone pillar in a square pond, in the shape of a lotus. It was destroyed "
                          "in 1954 and rebuilt in 1955. The 3D model here is a sketch for the demo.",
        "address": "Phố Chùa Một Cột, Ba Đình, Hà Nội",
        "lat": 21.0359, "lon": 105.8336, "period": "nhà Lý, 1049", "year_start": 1049,
        "heritage_rank": "national",
        "points": [
            {"position": (0.6, 2.4, 0.0), "normal": (1, 0, 0), "label_vi": "Cột đá", "label_en": "The stone pillar",
             "text_vi": "Một cột đá đỡ cả ngôi điện, như cuống sen giữa hồ.",
             "text_en": "A single stone pillar carries the whole shrine, like a lotus stem in the pond."},
            {"position": (0.0, 6.7, 1.5), "normal": (0, 0, 1), "label_vi": "Điện thờ", "label_en": "The shrine",
             "text_vi": "Điện nhỏ thờ Quán Thế Âm Bồ Tát.", "text_en": "The small shrine honours the bodhisattva Quán Thế Âm."},
        ],
        "tour": {"title_vi": "Chùa Một Cột", "title_en": "The One Pillar Pagoda",
                 "stops": [((20, 80, 22), "Ngôi chùa giữa hồ vuông.", "The pagoda in its square pond."),
                           ((0, 75, 12), "Điện thờ trên một cột đá.", "The shrine on its stone pillar.")]},
    },
]
DEMO_MODEL_LICENCE = "CC BY 4.0 – mô hình mẫu của dự án"


def load_demo_monuments(platform, folder: Path) -> list[int]:
    """Create the demo monuments not yet in the catalogue and submit their model builds
    (the workers build them); returns the new build (model version) ids."""
    from heritage3d.demo_scenes import write_scene
    from library.monuments.service import BuildSource

    folder.mkdir(parents=True, exist_ok=True)
    existing = {m.name_vi for m in platform.monuments.monuments()}
    builds: list[int] = []
    for spec in DEMO_MONUMENTS:
        if spec["name_vi"] in existing:
            continue
        fields = {k: v for k, v in spec.items() if k not in ("scene", "model_title", "points", "tour")}
        monument = platform.monuments.create_monument(**fields, actor=DEMO_ACTOR)
        mesh = write_scene(spec["scene"], folder / f"{spec['scene']}.ply")
        version = platform.monuments.submit_build(monument.id, [BuildSource(mesh, mesh.name)],
                                                  title=spec["model_title"], licence=DEMO_MODEL_LICENCE,
                                                  actor=DEMO_ACTOR)
        builds.append(version.id)
        points = [platform.guides.add_point(version.model_id, **point, actor=DEMO_ACTOR) for point in spec["points"]]
        tour = platform.guides.add_tour(version.model_id, title_vi=spec["tour"]["title_vi"],
                                        title_en=spec["tour"]["title_en"], actor=DEMO_ACTOR)
        for n, (orbit, caption_vi, caption_en) in enumerate(spec["tour"]["stops"]):
            platform.guides.add_stop(tour.id, orbit=orbit, poi_id=points[min(n, len(points) - 1)].id,
                                     caption_vi=caption_vi, caption_en=caption_en, actor=DEMO_ACTOR)
    return builds
