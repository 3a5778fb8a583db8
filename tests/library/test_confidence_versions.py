"""A reading that post-correction changed is stored with the raw machine text as the first
version and the corrected text as the second (by the post-correction), the corrected text on
the page, and every word's confidence as read; a reading without post-correction stays one
version. Through the worker's own store step (:meth:`PageReader._store_result`) with a reading
built here, so no OCR runs. On SQLite and PostgreSQL."""

from __future__ import annotations

from types import SimpleNamespace

from PIL import Image
from sqlalchemy import select

from digitize.reading import TextBlock, TextLine, Word
from library.access import Actor
from library.catalogue.models import Item, ItemType, Page, PageStatus, StoredFile, Transcription
from library.catalogue.page_layout import decode

SYSTEM = Actor.system("tests")  # corrections made by the fixtures: the system's, like the command line's

RAW = "Văn Mieu được xây dụng năm 1070"
CORRECTED = "Văn Miếu được xây dựng năm 1070"
CONFIDENCES = [96.0, 38.0, 91.0, 94.0, 52.0, 90.0, 75.0]


def reading_of(text: str, raw_text: str | None, tmp_path) -> SimpleNamespace:
    """What :func:`digitize.read_page` returns for a one-line page (plus the worker's labels)."""
    words, pos, x = [], 0, 10
    for token, confidence in zip(text.split(" "), CONFIDENCES):
        words.append(Word(token, pos, pos + len(token), x, 20, 20 * len(token), 30, confidence, 0, 0, 0))
        pos += len(token) + 1
        x += 20 * len(token) + 10
    image = tmp_path / "normalised.png"
    Image.new("L", (900, 80), 255).save(image)
    return SimpleNamespace(
        text=text, raw_text=raw_text, words=words,
        lines=[TextLine(0, 0, 0, 10, 20, x - 20, 30, 0, len(text))], blocks=[TextBlock(0, 10, 20, x - 20, 30, 0, len(text))],
        mean_confidence=sum(CONFIDENCES) / len(CONFIDENCES), hocr="<html/>", alto="<alto/>", tsv="", width=900,
        height=80, normalised_image_path=image, thumbnail=Image.new("RGB", (90, 8), "white"),
        engine_label="tesseract 5.3.0 vie psm3", ocr_seconds=1.5)


def queued_page(platform) -> int:
    with platform.sessions.begin() as s:
        s.merge(StoredFile(sha256="b" * 64, size_bytes=1, media_type="image/png", original_name="p.png"))
        item = Item(title="Đọc lại", languages="vie", item_type=ItemType.book)
        item.pages.append(Page(sequence=1, source_sha256="b" * 64, source_name="p.png", status=PageStatus.queued))
        s.add(item)
        s.flush()
        return item.pages[0].id


def store(platform, page_id: int, reading) -> None:
    claim = platform.reader.claim(page_id)
    platform.reader._store_result(claim, reading)


def versions(platform, page_id):
    with platform.sessions() as s:
        return s.scalars(select(Transcription).where(Transcription.page_id == page_id)
                         .order_by(Transcription.version)).all()


def test_the_raw_machine_reading_is_the_first_version_and_the_corrected_one_the_page_text(platform, tmp_path):
    page_id = queued_page(platform)
    store(platform, page_id, reading_of(CORRECTED, RAW, tmp_path))
    v = versions(platform, page_id)
    assert [(t.version, t.source, t.text) for t in v] == [(1, "ocr", RAW), (2, "auto", CORRECTED)]
    assert all(t.engine == "tesseract 5.3.0 vie psm3" and t.layout_blob is None for t in v)
    page = platform.catalogue.page(page_id)
    assert page.text == CORRECTED and page.status == PageStatus.done and page.pending_ocr_version is None
    words = platform.catalogue.words(page_id)
    assert [(w.text, w.confidence) for w in words] == list(zip(CORRECTED.split(" "), CONFIDENCES))
    assert page.low_confidence_words == 2  # 38 and 52, under the default 60
    history = platform.corrections.history(page_id)
    assert [(h.source, h.author) for h in history] == [("ocr", "machine"), ("auto", "post-correction")]
    assert platform.corrections.text_of(page_id, 1) == RAW


def test_a_reading_post_correction_did_not_change_is_one_version(platform, tmp_path):
    page_id = queued_page(platform)
    store(platform, page_id, reading_of(CORRECTED, None, tmp_path))
    assert [(t.version, t.source, t.text) for t in versions(platform, page_id)] == [(1, "ocr", CORRECTED)]
    plain = reading_of(CORRECTED, None, tmp_path)
    del plain.raw_text  # a reading from an engine that knows nothing of post-correction
    with platform.sessions.begin() as s:
        s.get(Page, page_id).status = PageStatus.queued
    store(platform, page_id, plain)
    assert [(t.version, t.source) for t in versions(platform, page_id)] == [(1, "ocr"), (2, "ocr")]


def test_over_a_manual_correction_both_versions_wait_with_the_words_as_read(platform, tmp_path):
    page_id = queued_page(platform)
    store(platform, page_id, reading_of(CORRECTED, RAW, tmp_path))
    c = platform.corrections
    c.correct(SYSTEM, page_id, {0: "Văn Miếu – Quốc Tử Giám"}, revision=c.review(page_id).revision)
    with platform.sessions.begin() as s:  # read again
        s.get(Page, page_id).status = PageStatus.queued
    store(platform, page_id, reading_of(CORRECTED, RAW, tmp_path))
    v = versions(platform, page_id)
    assert [(t.version, t.source) for t in v] == [(1, "ocr"), (2, "auto"), (3, "manual"), (4, "ocr"), (5, "auto")]
    page = platform.catalogue.page(page_id)
    assert page.text == "Văn Miếu – Quốc Tử Giám" and page.pending_ocr_version == 5  # the correction stands
    assert page.low_confidence_words == 0
    assert [w.confidence for w in decode(v[4].layout_blob, v[4].text).words] == CONFIDENCES
    assert v[3].layout_blob is None
    assert c.accept_machine_reading(SYSTEM, page_id) == 5
    page = platform.catalogue.page(page_id)
    assert page.text == CORRECTED and page.low_confidence_words == 2
    assert [w.confidence for w in platform.catalogue.words(page_id)] == CONFIDENCES
