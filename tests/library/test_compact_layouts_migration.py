"""Migration 0014 on SQLite and PostgreSQL: going down rebuilds the ``words`` and ``text_regions`` rows
and the JSON layout of a waiting reading from the blobs; coming back up packs them again, the same."""
import json

from alembic import command
from sqlalchemy import inspect, text

from library.catalogue import db
from library.catalogue.models import Item, ItemType, Page, PageStatus, StoredFile, Transcription
from library.catalogue.page_layout import decode, encode, stored

TEXT = "Văn Miếu Quốc Tử Giám\nđược dựng năm 1070"
LAYOUT = {
    "words": [["Văn", 0, 3, 90, 90, 90, 50, 96.4, 1, 1, 1], ["Miếu", 4, 8, 190, 92, 120, 48, 38.9, 1, 1, 1],
              ["Quốc", 9, 13, 320, 90, 120, 50, 91.0, 1, 1, 1], ["Tử", 14, 16, 450, 90, 60, 50, 94.0, 1, 1, 1],
              ["Giám-", 17, 21, 520, 90, 120, 50, 52.2, 1, 1, 1], ["được", 22, 26, 90, 150, 120, 50, 90.0, 1, 1, 2],
              ["dựng", 27, 31, 220, 150, 120, 50, 75.0, 1, 1, 2], ["năm", 32, 35, 350, 150, 90, 50, 88.0, 1, 1, 2],
              ["1070", 36, 40, 450, 150, 120, 52, -1, 1, 1, 2]],
    "lines": [[1, 1, 1, 90, 90, 550, 52, 0, 21], [1, 1, 2, 90, 150, 480, 52, 22, 40]],
    "blocks": [[1, 85, 85, 560, 120, 0, 40]],
}


def _downgrade(platform, revision: str) -> None:
    """As :func:`library.catalogue.db.upgrade` does, with SQLite's foreign keys off while tables are
    copied (else dropping ``pages`` would delete its rows' children)."""
    cfg = db.alembic_config(platform.engine.url.render_as_string(hide_password=False))
    with platform.engine.connect() as conn:
        sqlite = platform.engine.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        with conn.begin():
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.commit()


def test_layouts_go_down_to_rows_and_up_to_blobs(platform):
    with platform.sessions.begin() as s:
        s.merge(StoredFile(sha256="c" * 64, size_bytes=1, media_type="image/png", original_name="p.png"))
        item = Item(title="Bia Văn Miếu", languages="vie", item_type=ItemType.book)
        page = Page(sequence=1, source_sha256="c" * 64, source_name="p.png", status=PageStatus.done, text=TEXT,
                    layout=encode(LAYOUT, TEXT))
        item.pages.append(page)
        s.add(item)
        s.flush()
        s.add(Transcription(page_id=page.id, version=1, source="ocr", text=TEXT, layout_blob=encode(LAYOUT, TEXT)))
        page_id = page.id
    before = decode(encode(LAYOUT, TEXT), TEXT)

    _downgrade(platform, "0013")
    assert {"words", "text_regions"} <= set(inspect(platform.engine).get_table_names())
    with platform.engine.connect() as conn:
        words = conn.execute(text("SELECT text, char_start, confidence, line FROM words WHERE page_id = :p "
                                  "ORDER BY sequence"), {"p": page_id}).all()
        kinds = conn.execute(text("SELECT kind FROM text_regions WHERE page_id = :p ORDER BY id"),
                             {"p": page_id}).scalars().all()
        pending = json.loads(conn.execute(text("SELECT layout FROM transcriptions")).scalar_one())
    assert [tuple(w) for w in words][:2] == [("Văn", 0, 96.0, 1), ("Miếu", 4, 38.0, 1)]
    assert words[4][0] == "Giám-" and words[-1][2] == -1.0
    assert kinds == ["block", "line", "line"]
    assert pending == before.as_dict()

    db.upgrade(platform.engine)
    assert not {"words", "text_regions"} & set(inspect(platform.engine).get_table_names())
    assert db.current_revision(platform.engine) == db.head_revision()
    with platform.sessions() as s:
        assert stored(s, page_id) == before
        t = s.query(Transcription).one()
        assert decode(t.layout_blob, t.text) == before
