"""Why a machine reading may be poor, kept and shown to staff (issue #14): a rubbing (white on dark) read
by the worker keeps the engine's warning with its version in the catalogue; the page's correction view
says it in Vietnamese and English, its history marks the version, and the page's API answer gives it;
an ink page read plainly shows no such box. Every warning the engines can give has words in both
languages. On SQLite and PostgreSQL."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from PIL import ImageOps
from sqlalchemy import select

from library.access import Actor
from library.catalogue.models import Transcription
from library.ingest.service import Upload
from tests.digitize.test_han import render
from tests.web.staff_accounts import client_as, staffed_app
from web import reading_warning_words

pytestmark = pytest.mark.slow

SYSTEM = Actor.system("tests")
STELE = "大寶三年壬戌科進士題名記國家設科目以取士文廟"
INVERTED = "white on dark: read inverted"


@pytest.fixture
def app(settings):
    yield from staffed_app(settings)


def _read(p, image, path: Path, title: str) -> int:
    image.save(path)
    report = p.ingest.ingest_item([Upload(path, path.name)], {"title": title, "language": "chữ Hán", "type": "other"},
                                  actor=SYSTEM)
    item_id = report.items[0].item_id
    page_id = p.catalogue.page_statuses(item_id)[0].page_id
    assert p.reader.read(page_id).value == "done"
    p.reader.finish_item(item_id)
    return page_id


def _box(html: str) -> list[str]:
    found = re.search(r'<section class="reading-warnings" id="reading-warnings".*?<ul>(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", found.group(1)) if found else []


def test_a_rubbing_read_inverted_says_so_to_staff_in_both_languages(app, tmp_path):
    p = app.extensions["heritage"]
    ink, _, _ = render(STELE, vertical=True, per_line=12)
    rubbing = _read(p, ImageOps.invert(ink.convert("RGB")), tmp_path / "thac-ban.png", "Bản rập bia")
    plain = _read(p, ink, tmp_path / "ban-muc.png", "Bản mực")
    assert "進士" in p.catalogue.page(rubbing).text  # read, and read right

    with p.sessions() as s:  # kept with the version the reading made, as the engine said it
        kept = dict(s.execute(select(Transcription.page_id, Transcription.warnings)
                              .where(Transcription.page_id.in_([rubbing, plain]))).all())
    assert kept[rubbing] is not None and INVERTED in kept[rubbing].split("\n")
    assert kept[plain] is None

    librarian = client_as(app, "librarian")
    vi = librarian.get(f"/staff/pages/{rubbing}/correct?lang=vi").get_data(as_text=True)
    assert "Lưu ý khi máy đọc trang này" in vi
    assert "chữ sáng trên nền tối (bản rập, đá khắc): đọc sau khi đảo màu" in _box(vi)
    versions = re.search(r'<ol class="versions">(.*?)</ol>', vi, re.S).group(1)
    assert "⚠ chữ sáng trên nền tối" in versions  # the version that was read inverted is marked
    en = librarian.get(f"/staff/pages/{rubbing}/correct?lang=en").get_data(as_text=True)
    assert "white on dark (a rubbing, carved stone): read inverted" in _box(en)
    assert "How the machine read this page" in en
    calm = librarian.get(f"/staff/pages/{plain}/correct?lang=vi").get_data(as_text=True)
    assert _box(calm) == [] and 'id="reading-warnings"' not in calm and "⚠" not in calm

    api = app.test_client()
    assert INVERTED in api.get(f"/api/v1/pages/{rubbing}").get_json()["warnings"]
    assert api.get(f"/api/v1/pages/{plain}").get_json()["warnings"] == []

    # the staff item page marks the page in its list of pages, linking to its correction view
    rubbing_item = p.catalogue.page(rubbing).item_id
    listed = librarian.get(f"/staff/items/{rubbing_item}/edit?lang=vi").get_data(as_text=True)
    marked = re.search(r'<small class="version-warnings page-warnings"><a href="([^"]+)">⚠ ([^<]+)</a>', listed)
    assert marked and marked.group(1) == f"/staff/pages/{rubbing}/correct?lang=vi"
    assert "chữ sáng trên nền tối" in marked.group(2)
    plain_item = p.catalogue.page(plain).item_id
    assert "page-warnings" not in librarian.get(f"/staff/items/{plain_item}/edit?lang=vi").get_data(as_text=True)

    # corrected by hand: the box still says how the image was read (the manual version carries nothing)
    revision, lines = p.corrections.lines(rubbing)
    p.corrections.correct(SYSTEM, rubbing, {0: lines[0].text + "〓"}, revision=revision)
    after = librarian.get(f"/staff/pages/{rubbing}/correct?lang=vi").get_data(as_text=True)
    assert "chữ sáng trên nền tối (bản rập, đá khắc): đọc sau khi đảo màu" in _box(after)
    assert INVERTED in api.get(f"/api/v1/pages/{rubbing}").get_json()["warnings"]


# the engines' warnings, one of each form (digitize.pipeline, digitize.han_page)
SAID = ["blank page", "mostly margin: the text covers 7% of the page", "no text found: picture", "no text found",
        "little text found: 12 unreadable marks left out",
        "low confidence (mean 41 of 100): check the text against the page", "upside down: turned",
        "sideways: turned 90°", "mirrored: flipped", INVERTED, "grainy: read after a 3-pixel median filter",
        "worn ink: read with its faint strokes strengthened",
        "another script: the page reads as Hán (58 characters), which the item's languages do not include: "
        "declare lzh and read it again",
        "another script: the page reads as Latin letters (412), which lzh reads without Vietnamese diacritics: "
        "declare vie and read it again"]


def test_every_warning_the_engines_give_has_vietnamese_words():
    for warning in SAID:
        vi = reading_warning_words.say(warning, "vi")
        assert vi != warning and vi.isascii() is False, warning
        assert re.findall(r"\d+", vi) == re.findall(r"\d+", warning), (warning, vi)  # the figures kept
        assert re.findall(r"\d+", reading_warning_words.say(warning, "en")) == re.findall(r"\d+", warning)
    assert reading_warning_words.say("something new", "vi") == "something new"  # unknown: as the engine said it
    # every warning written in the engines' sources (``context.warn(...)``, read with ast) is one of the forms above
    written = set()
    for source in (Path(__file__).resolve().parents[2] / "digitize").glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "warn":
                written |= set(_examples(node.args[0]))
    assert len(written) >= len(SAID), written
    for example in written:
        assert reading_warning_words.say(example, "vi") != example, example


def _examples(node) -> list[str]:
    """The warnings an argument of ``warn`` can be, each placeholder given a figure (``{share:.0%}`` → 5%)."""
    if isinstance(node, ast.IfExp):
        return _examples(node.body) + _examples(node.orelse)
    if isinstance(node, ast.Constant):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        out = ""
        for part in node.values:
            if isinstance(part, ast.Constant):
                out += part.value
            else:
                spec = ast.unparse(part.format_spec) if part.format_spec else ""
                out += "5%" if "%" in spec else "5"
        return [out]
    raise AssertionError(f"a warning that is not a string: {ast.unparse(node)}")
