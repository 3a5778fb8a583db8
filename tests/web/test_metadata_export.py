"""Metadata exports of a collection and of a search (CSV and Dublin Core XML), and the METS download,
for three requesters: an anonymous reader outside, a reader in the reading room, a librarian.

The world is the access tests' (:func:`tests.web.test_access_routes.build_world`): real one-line
Vietnamese scans read by the real tesseract, set public, reading room, staff only, withdrawn (all in
"Báo cũ") and public in the staff-only collection "Kho mật". Each export lists exactly the items the
requester may see, Vietnamese intact (NFC); a hidden collection or item answers 404."""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile

import pytest
from defusedxml import ElementTree

from tests.library.test_cli import heritage
from tests.web.test_access_routes import ITEMS, Answer, build_world, requester

pytestmark = pytest.mark.slow

DC = "{http://purl.org/dc/elements/1.1/}"
OAI_DC = "{http://www.openarchives.org/OAI/2.0/oai_dc/}"
SEES = {  # who sees which items of "Báo cũ"
    "anonymous": {"public"},
    "reading-room": {"public", "reading-room"},
    "staff": {"public", "reading-room", "staff", "withdrawn"},
}
KEYS = ("public", "reading-room", "staff", "withdrawn", "in-staff-collection")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base = tmp_path_factory.mktemp("metadata-world")
    app, _clock, items = build_world(base / "data", base, keys=KEYS)
    p = app.extensions["heritage"]
    colls = {name: p.collections.get(name).id for name in ("Báo cũ", "Kho mật")}
    yield {"app": app, "items": items, "collections": colls,
           "clients": {who: requester(app, who) for who in SEES}}
    p.close()


def titles(keys) -> set[str]:
    return {ITEMS[k][0] for k in keys}


def csv_rows(data: bytes) -> list[dict]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the file as UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def dc_records(data: bytes) -> list[dict[str, list[str]]]:
    root = ElementTree.fromstring(data)
    assert root.tag == "records"
    out = []
    for dc in root.findall(f"{OAI_DC}dc"):
        fields: dict[str, list[str]] = {}
        for el in dc:
            fields.setdefault(el.tag.removeprefix(DC), []).append(el.text)
        out.append(fields)
    return out


@pytest.mark.parametrize("who", list(SEES))
def test_a_collection_exports_exactly_the_items_the_requester_may_see(world, who):
    client, cid = world["clients"][who], world["collections"]["Báo cũ"]
    ids = sorted(world["items"][k][0] for k in SEES[who])

    r = Answer(client, f"/collections/{cid}/export.csv")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"] and "no-store" in r.headers["Cache-Control"]
    rows = csv_rows(r.data)
    assert [int(row["item_id"]) for row in rows] == ids  # id order
    assert {row["title"] for row in rows} == titles(SEES[who])
    for row in rows:
        assert unicodedata.is_normalized("NFC", row["title"]) and row["collection"] == "Báo cũ"
        assert row["url"] == f"http://localhost/items/{row['item_id']}" and row["language"] == "vi"
        assert row["pages"] == "1"

    r = Answer(client, f"/collections/{cid}/export-dc.xml")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/xml")
    records = dc_records(r.data)
    assert {rec["title"][0] for rec in records} == titles(SEES[who])
    for rec in records:
        assert rec["language"] == ["vi"] and "Báo cũ" in rec["relation"] and "Text" in rec["type"]
        assert any(i.startswith("http://localhost/items/") for i in rec["identifier"])


def test_a_hidden_collection_answers_as_a_missing_one(world):
    cid = world["collections"]["Kho mật"]
    for who in ("anonymous", "reading-room"):
        for url in (f"/collections/{cid}/export.csv", f"/collections/{cid}/export-dc.xml", "/collections/999999/export.csv"):
            assert Answer(world["clients"][who], url).status_code == 404, (who, url)
    rows = csv_rows(Answer(world["clients"]["staff"], f"/collections/{cid}/export.csv").data)
    assert [row["title"] for row in rows] == ["Tài liệu trong kho mật"]


def test_a_search_exports_the_dublin_core_of_the_items_it_found(world):
    r = Answer(world["clients"]["anonymous"], "/search.dc.xml?q=Văn+Miếu")
    assert r.status_code == 200
    assert [rec["title"] for rec in dc_records(r.data)] == [["Tài liệu công khai"]]
    staff = dc_records(Answer(world["clients"]["staff"], "/search.dc.xml?q=Khuê+Văn").data)
    assert [rec["title"] for rec in staff] == [["Tài liệu nội bộ"]]
    assert dc_records(Answer(world["clients"]["anonymous"], "/search.dc.xml?q=Khuê+Văn").data) == []


def test_the_mets_download_is_guarded_like_the_alto_zip(world):
    items, clients = world["items"], world["clients"]
    public_id = items["public"][0]
    html = Answer(clients["anonymous"], f"/items/{public_id}").get_data(as_text=True)
    assert f'href="/items/{public_id}/download-mets.zip"' in html
    for who, keys in SEES.items():
        for key in ("public", "reading-room", "staff"):
            url = f"/items/{items[key][0]}/download-mets.zip"
            r = Answer(clients[who], url)
            alto = Answer(clients[who], url.replace("download-mets.zip", "download-alto.zip"))
            assert r.status_code == alto.status_code == (200 if key in keys else 404), (who, key)
            if r.status_code == 200:
                with zipfile.ZipFile(io.BytesIO(r.data)) as zf:
                    assert "mets.xml" in zf.namelist() and "alto/page-00001.xml" in zf.namelist()
                    rights = [e.text for e in ElementTree.fromstring(zf.read("mets.xml")).iter(f"{DC}rights")]
                    assert f"access: {key}" in rights
    assert Answer(clients["anonymous"], f"/items/{items['withdrawn'][0]}/download-mets.zip").status_code == 410


def test_the_command_line_writes_a_collections_csv_and_dublin_core(world, tmp_path):
    settings = world["app"].extensions["heritage"].settings
    out = tmp_path / "bao-cu.csv"
    done = heritage(settings, "collection", "export", "Báo cũ", "--format", "csv", "--out", out)
    assert done.returncode == 0, done.stderr
    assert "4 item(s) of Báo cũ" in done.stdout
    assert {row["title"] for row in csv_rows(out.read_bytes())} == titles(SEES["staff"])
    out = tmp_path / "bao-cu.xml"
    done = heritage(settings, "collection", "export", "Báo cũ", "--format", "dc", "--public", "--out", out)
    assert done.returncode == 0, done.stderr
    assert [rec["title"] for rec in dc_records(out.read_bytes())] == [["Tài liệu công khai"]]
    missing = heritage(settings, "collection", "export", "Không có", "--out", tmp_path / "x.csv")
    assert missing.returncode != 0 and "no collection" in missing.stderr


def test_a_collection_is_read_in_keyset_pages_in_id_order(world):
    from library.access import Actor
    from library.discovery.metadata_export import MetadataExporter

    p = world["app"].extensions["heritage"]
    exporter = MetadataExporter(p.sessions, p.access)
    cid = world["collections"]["Báo cũ"]
    whole = [r.item_id for r in exporter.collection_records(Actor.system("tests"), cid)]
    assert whole == sorted(world["items"][k][0] for k in SEES["staff"])
    for batch_size in (1, 2, 3):
        assert [r.item_id for r in exporter.collection_records(Actor.system("tests"), cid,
                                                               batch_size=batch_size)] == whole
    assert [r.title for r in exporter.records_of(Actor.anonymous(), reversed(whole))] == ["Tài liệu công khai"]
