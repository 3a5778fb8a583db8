"""OAI-PMH at /oai, through real HTTP (werkzeug's server in a thread) with a real harvester from PyPI
(Sickle): a few thousand items harvested in pages, every record once; a second harvest ``from`` a
moment after edits, withdrawals, a deletion, an access change and collection moves brings back exactly
those (withdrawn, deleted and hidden ones as deleted headers); tokens survive a restart, forged ones
are refused; every error code; restricted items never leave as records.

No OAI-PMH XML schema ships in a PyPI or Debian package installed here, so each response is checked
against the protocol's rules in :func:`check_protocol` (root and namespace, responseDate, the request
element echoing the arguments — or only the base URL after badVerb/badArgument —, exactly one verb
element or errors, datestamps at the declared granularity, resumption tokens)."""

from __future__ import annotations

import functools
from pathlib import Path

import re
import threading
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree
from sickle import Sickle
from sqlalchemy import insert, select

from library.access import Actor
from library.catalogue.models import AccessLevel, Collection, Item, ItemType
from library.discovery.oai import MODS_NS, OAI_NS, OaiProvider, clean_text, datestamp
from tests.conftest import _new_pg_database, free_port, make_settings

NS = {"o": OAI_NS, "dc": "http://purl.org/dc/elements/1.1/", "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
      "m": MODS_NS}
REPO_ID = "thuvien.example.vn"
N_ITEMS = 2400
PAGE = 100
BASE_TIME = datetime(2026, 1, 1, tzinfo=timezone.utc)
SYSTEM = Actor.system("tests")
_DATESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


# ------------------------------------------------------------------ the protocol's rules, checked
@functools.cache
def oai_schema() -> etree.XMLSchema:
    """OAI-PMH.xsd as the pyoai source package on PyPI ships it (scripts/setup.sh takes it out once)."""
    path = Path(__file__).resolve().parents[2] / ".cache" / "xsd" / "OAI-PMH.xsd"
    assert path.is_file(), f"{path} is missing: run scripts/setup.sh (it takes the schema out of pyoai 2.5.0)"
    return etree.XMLSchema(etree.parse(str(path), etree.XMLParser(no_network=True)))


def check_protocol(body: bytes, args: dict[str, str], base_url: str) -> etree._Element:
    """The rules of OAI-PMH 2.0 §3.2 and §4 every answer must follow, and its XML schema; returns the
    parsed root."""
    root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    schema = oai_schema()
    assert schema.validate(root), schema.error_log.last_error
    assert root.tag == f"{{{OAI_NS}}}OAI-PMH"
    assert root.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation").split() == [
        OAI_NS, "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"]
    children = list(root)
    assert children[0].tag == f"{{{OAI_NS}}}responseDate" and _DATESTAMP.match(children[0].text)
    request = children[1]
    assert request.tag == f"{{{OAI_NS}}}request" and request.text == base_url
    errors = root.findall("o:error", NS)
    codes = {e.get("code") for e in errors}
    if codes & {"badVerb", "badArgument"}:
        assert dict(request.attrib) == {}  # only the base URL after these two
    else:
        assert dict(request.attrib) == {k: clean_text(v) for k, v in args.items()}  # as XML may hold it
    if errors:
        assert len(children) == 2 + len(errors)
        assert codes <= {"badVerb", "badArgument", "badResumptionToken", "cannotDisseminateFormat",
                         "idDoesNotExist", "noRecordsMatch", "noMetadataFormats", "noSetHierarchy"}
    else:
        assert len(children) == 3 and children[2].tag == f"{{{OAI_NS}}}{args['verb']}"
        for stamp in root.iter(f"{{{OAI_NS}}}datestamp"):
            assert _DATESTAMP.match(stamp.text)
        for header in root.iter(f"{{{OAI_NS}}}header"):
            assert header.get("status") in (None, "deleted")
            if header.get("status") == "deleted":
                assert header.getparent().find("o:metadata", NS) is None
        tokens = children[2].findall("o:resumptionToken", NS)
        assert len(tokens) <= 1 and (not tokens or children[2][-1] is tokens[0])
    return root


class CheckedSickle(Sickle):
    """Sickle, checking every response it receives against the protocol's rules."""

    def __init__(self, endpoint, **kwargs):
        super().__init__(endpoint, max_retries=0, **kwargs)
        self.requests = 0

    def harvest(self, **kwargs):
        response = super().harvest(**kwargs)
        self.requests += 1
        assert response.http_response.headers["Content-Type"].startswith("text/xml")
        check_protocol(response.http_response.content, kwargs, self.endpoint)
        return response


def oai_get(url: str, method: str = "GET", **args: str) -> tuple[etree._Element, dict[str, str]]:
    data = urllib.parse.urlencode(args)
    if method == "GET":
        req = urllib.request.Request(f"{url}?{data}")
    else:
        req = urllib.request.Request(url, data=data.encode(), method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 200
        root = check_protocol(r.read(), args, url)
    return root, {e.get("code"): e.text for e in root.findall("o:error", NS)}


# ------------------------------------------------------------------ the catalogue and the server
def fill_catalogue(platform) -> dict:
    """``N_ITEMS`` rows by bulk insert: three share each second (ties broken by id), a mix of types,
    two public collections and a staff-only one, some items restricted, one withdrawn, one deleted."""
    with platform.sessions.begin() as s:
        colls = {}
        for slug, level in (("bao-chi", AccessLevel.public), ("sach-co", AccessLevel.public),
                            ("noi-bo", AccessLevel.staff)):
            c = Collection(slug=slug, name=slug.replace("-", " ").title(), access_level=level,
                           description=f"Bộ sưu tập {slug}")
            s.add(c)
            s.flush()
            colls[slug] = c.id
        types = list(ItemType)
        rows = []
        for i in range(N_ITEMS):
            kind = types[i % len(types)]
            level = AccessLevel.staff if i % 10 == 3 else AccessLevel.reading_room if i % 10 == 7 else AccessLevel.public
            coll = [colls["bao-chi"], colls["sach-co"], None, colls["noi-bo"] if i % 40 == 5 else None][i % 4]
            at = BASE_TIME + timedelta(seconds=i // 3)
            rows.append(dict(title=f"Tài liệu số {i} — Hà Nội", languages="vie+fra" if i % 2 else "vie",
                             item_type=kind, access_level=level, collection_id=coll, creator="Nguyễn Du; Phan Bội Châu",
                             subject="Lịch sử; Văn học", rights="Public domain", date_text="1930", date_iso="1930",
                             year_start=1930, year_end=1930,
                             serial_title="Nam Phong" if kind == ItemType.magazine else None,
                             issue_number=str(i) if kind == ItemType.magazine else None,
                             withdrawn_at=at if i == 11 else None, withdrawn_reason="bản quyền" if i == 11 else None,
                             deleted_at=at if i == 12 else None, record_changed_at=at, created_at=at, updated_at=at))
        s.execute(insert(Item), rows)
    with platform.sessions() as s:
        items = list(s.scalars(select(Item).order_by(Item.id)))
        anon = Actor.anonymous(None)
        public = {i.id for i in items if platform.access.decide(anon, i).record}
        return {"ids": [i.id for i in items], "public": public, "hidden": {i.id for i in items} - public,
                "collections": colls}


def oai_id(item_id: int) -> str:
    return f"oai:{REPO_ID}:item/{item_id}"


class Served:
    def __init__(self, settings):
        from werkzeug.serving import make_server

        from web import create_app

        self.app = create_app({"TESTING": True}, settings=settings)
        self.platform = self.app.extensions["heritage"]
        self.server = make_server("127.0.0.1", free_port(), self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/oai"

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.platform.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def oai_settings(request, tmp_path_factory):
    """The same harvests on a SQLite file and on a real PostgreSQL database (keyset paging on both)."""
    data = tmp_path_factory.mktemp("oai") / "data"
    url = "" if request.param == "sqlite" else _new_pg_database(request.getfixturevalue("postgres_server"))
    return make_settings(data, database_url=url, oai_repository_id=REPO_ID, oai_page_size=PAGE,
                         oai_admin_email="oai@example.vn")


@pytest.fixture(scope="module")
def served(oai_settings):
    s = Served(oai_settings)
    s.catalogue = fill_catalogue(s.platform)
    yield s
    s.stop()


# ------------------------------------------------------------------ the harvests
def test_a_real_harvester_takes_every_record_once_in_pages_and_restricted_items_never_as_records(served):
    sickle = CheckedSickle(served.url)
    seen: dict[str, object] = {}
    for record in sickle.ListRecords(metadataPrefix="oai_dc", ignore_deleted=False):
        assert record.header.identifier not in seen, "a record came twice"
        seen[record.header.identifier] = record
    cat = served.catalogue
    assert set(seen) == {oai_id(i) for i in cat["ids"]}
    assert sickle.requests == -(-N_ITEMS // PAGE)
    deleted = {k for k, r in seen.items() if r.header.deleted}
    assert deleted == {oai_id(i) for i in cat["hidden"]}  # restricted, withdrawn, deleted, staff-only collection
    assert len(cat["hidden"]) > N_ITEMS // 5 and len(cat["public"]) > N_ITEMS // 2
    for i in cat["hidden"]:
        assert seen[oai_id(i)].xml.find("o:metadata", NS) is None and not getattr(seen[oai_id(i)], "metadata", None)
    first_public = min(cat["public"])
    md = seen[oai_id(first_public)].metadata
    assert md["title"] == [f"Tài liệu số {first_public - cat['ids'][0]} — Hà Nội"]
    assert md["creator"] == ["Nguyễn Du", "Phan Bội Châu"] and md["rights"] == ["Public domain"]
    assert f"http://127.0.0.1:{served.server.server_port}/items/{first_public}" in md["identifier"]
    # the same list of identifiers, and sets
    ids = [h.identifier for h in sickle.ListIdentifiers(metadataPrefix="mods", ignore_deleted=True)]
    assert sorted(ids) == sorted(oai_id(i) for i in cat["public"])
    in_set = [h.identifier for h in sickle.ListIdentifiers(metadataPrefix="oai_dc", set="collection:bao-chi",
                                                           ignore_deleted=True)]
    with served.platform.sessions() as s:
        expected = set(s.scalars(select(Item.id).where(Item.collection_id == cat["collections"]["bao-chi"])))
    assert set(in_set) == {oai_id(i) for i in expected & cat["public"]} and in_set
    books = list(sickle.ListIdentifiers(metadataPrefix="oai_dc", set="type:newspaper", ignore_deleted=True))
    assert books and all("type:newspaper" in h.setSpecs for h in books)
    specs = {s.setSpec for s in sickle.ListSets()}
    assert {"collection:bao-chi", "collection:sach-co", "type:book", "type:newspaper"} <= specs
    assert "collection:noi-bo" not in specs  # a staff-only collection is no public set
    _, errors = oai_get(served.url, verb="ListIdentifiers", metadataPrefix="oai_dc", set="collection:noi-bo")
    assert "noRecordsMatch" in errors


def test_a_harvest_from_a_date_brings_back_exactly_what_changed(served):
    p, cat = served.platform, served.catalogue
    public = sorted(cat["public"])
    mark = datetime.now(timezone.utc).replace(microsecond=0)
    edited, withdrawn, deleted, hidden, moved = public[0], public[1], public[2], public[3], public[4]
    p.items.edit(SYSTEM, edited, {"title": "Nam Phong tạp chí — số mới"})
    p.access_admin.withdraw(SYSTEM, withdrawn, "bản quyền chưa rõ")
    p.pages.delete_item(SYSTEM, deleted, "trùng lặp")
    p.access_admin.set_item_access(SYSTEM, hidden, "staff")
    p.collections.move(SYSTEM, [moved], "sach-co" if moved not in _members(p, "sach-co") else "bao-chi")
    renamed_members = _members(p, "bao-chi")
    p.collections.rename(SYSTEM, "bao-chi", "Báo chí xưa")
    sickle = CheckedSickle(served.url)
    got = {r.header.identifier: r for r in sickle.ListRecords(metadataPrefix="mods", ignore_deleted=False,
                                                             **{"from": datestamp(mark)})}
    assert set(got) == {oai_id(i) for i in {edited, withdrawn, deleted, hidden, moved} | renamed_members}
    assert {k for k, r in got.items() if r.header.deleted} == (
        {oai_id(withdrawn), oai_id(deleted), oai_id(hidden)} | {oai_id(i) for i in renamed_members - cat["public"]})
    mods = got[oai_id(edited)].xml.find(".//m:mods", NS)
    title = mods.find("m:titleInfo", NS)
    assert title.findtext("m:title", namespaces=NS) == "Nam Phong tạp chí — số mới"
    assert title.get("{http://www.w3.org/XML/1998/namespace}lang") == "vi"
    renamed = [got[oai_id(i)] for i in renamed_members & cat["public"] if not got[oai_id(i)].header.deleted]
    assert renamed and all("collection:bao-chi-xua" in r.header.setSpecs for r in renamed)
    # until before the changes: none of them
    before = [h.identifier for h in sickle.ListIdentifiers(metadataPrefix="oai_dc", ignore_deleted=False,
                                                           until=datestamp(mark - timedelta(seconds=1)))]
    assert oai_id(edited) not in before and len(before) == N_ITEMS - len(got)
    # restore: back as a record
    p.access_admin.restore(SYSTEM, withdrawn)
    again = sickle.GetRecord(identifier=oai_id(withdrawn), metadataPrefix="oai_dc")
    assert not again.header.deleted and again.metadata["title"]


def _members(p, slug: str) -> set[int]:
    with p.sessions() as s:
        return set(s.scalars(select(Item.id).join(Collection).where(Collection.slug == slug)))


def test_tokens_survive_a_restart_stay_valid_while_records_change_and_forged_ones_are_refused(served, oai_settings):
    root, _ = oai_get(served.url, verb="ListIdentifiers", metadataPrefix="oai_dc")
    first = [e.text for e in root.iterfind(".//o:header/o:identifier", NS)]
    token = root.find(".//o:resumptionToken", NS)
    assert len(first) == PAGE and token.text and token.get("cursor") == "0"
    # a record of the next page changes meanwhile: it leaves this harvest (it comes in the next one)
    with served.platform.sessions() as s:
        next_ids = list(s.scalars(select(Item.id).order_by(Item.record_changed_at, Item.id).offset(PAGE).limit(3)))
    served.platform.items.edit(SYSTEM, next_ids[1], {"description": "Đã sửa trong lúc thu hoạch"})
    other = Served(oai_settings)  # a new app instance: the same data folder and secret key
    try:
        root2, errors = oai_get(other.url, verb="ListIdentifiers", resumptionToken=token.text)
        assert not errors
        second = [e.text for e in root2.iterfind(".//o:header/o:identifier", NS)]
        assert second[0] == oai_id(next_ids[0]) and oai_id(next_ids[1]) not in second
        assert not set(first) & set(second)
        assert root2.find(".//o:resumptionToken", NS).get("cursor") == str(PAGE)
        body, mac = token.text.split(".")
        for forged in (body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + mac, body + "." + mac[::-1],
                       "bm90IGEgdG9rZW4", token.text + "x"):
            _, errors = oai_get(other.url, verb="ListIdentifiers", resumptionToken=forged)
            assert "badResumptionToken" in errors
        _, errors = oai_get(other.url, verb="ListRecords", resumptionToken=token.text)
        assert "badResumptionToken" in errors  # a token continues the verb it was issued for
    finally:
        other.stop()


def test_every_error_code_by_get_and_post(served):
    url, hidden = served.url, min(served.catalogue["hidden"])
    cases = [
        ({}, "badVerb"),
        ({"verb": "Harvest"}, "badVerb"),
        ({"verb": "ListRecords"}, "badArgument"),
        ({"verb": "Identify", "metadataPrefix": "oai_dc"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-13-01"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-01-01T00:00Z"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-02-01", "until": "2026-01-01"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-01-01", "until": "2026-02-01T00:00:00Z"},
         "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "resumptionToken": "x"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "collection:<b>"}, "badArgument"),
        ({"verb": "ListRecords", "resumptionToken": "x.y"}, "badResumptionToken"),
        ({"verb": "ListSets", "resumptionToken": "x.y"}, "badResumptionToken"),
        ({"verb": "ListRecords", "metadataPrefix": "marcxml"}, "cannotDisseminateFormat"),
        ({"verb": "GetRecord", "identifier": oai_id(1), "metadataPrefix": "marcxml"}, "cannotDisseminateFormat"),
        ({"verb": "GetRecord", "identifier": oai_id(10**6), "metadataPrefix": "oai_dc"}, "idDoesNotExist"),
        ({"verb": "GetRecord", "identifier": "oai:other.example:item/1", "metadataPrefix": "oai_dc"}, "idDoesNotExist"),
        ({"verb": "GetRecord", "identifier": f"oai:{REPO_ID}:item/0{hidden}", "metadataPrefix": "oai_dc"},
         "idDoesNotExist"),
        ({"verb": "ListMetadataFormats", "identifier": oai_id(10**12)}, "idDoesNotExist"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2099-01-01"}, "noRecordsMatch"),
        ({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "until": "1999-01-01T00:00:00Z"}, "noRecordsMatch"),
        ({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "type:map"}, "noRecordsMatch"),
    ]
    for method in ("GET", "POST"):
        for args, code in cases:
            _, errors = oai_get(url, method, **args)
            assert code in errors, (method, args, errors)
    # repeated arguments (urlencode of a list of pairs)
    for query, code in (("verb=Identify&verb=Identify", "badVerb"),
                        ("verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=mods", "badArgument")):
        with urllib.request.urlopen(f"{url}?{query}", timeout=30) as r:
            root = etree.fromstring(r.read())
        assert root.find("o:error", NS).get("code") == code and not root.find("o:request", NS).attrib
    # a hidden item is a deleted header, never its metadata; user text cannot break the XML
    record = CheckedSickle(url).GetRecord(identifier=oai_id(hidden), metadataPrefix="mods")
    assert record.header.deleted and record.xml.find("o:metadata", NS) is None
    root, errors = oai_get(url, verb="GetRecord", identifier="<x>&\x01\u200b]]>", metadataPrefix="oai_dc")
    assert "badArgument" in errors  # not a URI: the schema's identifierType could not echo it
    with urllib.request.urlopen(f"{url}?verb=GetRecord&metadataPrefix=oai_dc&identifier=%ED%A0%80%FF%00", timeout=30) as r:
        root = etree.fromstring(r.read())
    assert root.find("o:error", NS).get("code") == "badArgument"


def test_identify_formats_and_a_serial_issue_in_mods(served):
    sickle = CheckedSickle(served.url)
    ident = sickle.Identify()
    assert ident.granularity == "YYYY-MM-DDThh:mm:ssZ" and ident.deletedRecord == "persistent"
    with served.platform.sessions() as s:
        earliest = s.scalar(select(Item.record_changed_at).order_by(Item.record_changed_at).limit(1))
    assert ident.earliestDatestamp == datestamp(earliest) and ident.protocolVersion == "2.0"
    assert ident.earliestDatestamp.startswith("2026-01-01T00:00:")
    assert ident.adminEmail == "oai@example.vn" and ident.baseURL == served.url
    assert ident.xml.findtext(".//{http://www.openarchives.org/OAI/2.0/oai-identifier}repositoryIdentifier") == REPO_ID
    assert {f.metadataPrefix for f in sickle.ListMetadataFormats()} == {"oai_dc", "mods"}
    magazine = max(i for i in served.catalogue["public"] if (i - served.catalogue["ids"][0]) % 5 == 2)
    with served.platform.sessions() as s:
        issue = s.get(Item, magazine).issue_number
    record = sickle.GetRecord(identifier=oai_id(magazine), metadataPrefix="mods")
    mods = record.xml.find(".//m:mods", NS)
    host = mods.find("m:relatedItem[@type='host']", NS)
    assert host.findtext("m:titleInfo/m:title", namespaces=NS) == "Nam Phong"
    assert host.findtext("m:part/m:detail[@type='issue']/m:number", namespaces=NS) == issue
    assert mods.findtext("m:genre", namespaces=NS) == "periodical"
    assert [n.findtext("m:namePart", namespaces=NS) for n in mods.findall("m:name", NS)] == ["Nguyễn Du", "Phan Bội Châu"]
    assert mods.findtext("m:accessCondition[@type='use and reproduction']", namespaces=NS) == "Public domain"


# ------------------------------------------------------------------ the datestamp, set by the services
def test_services_set_the_record_datestamp_from_the_platforms_clock(tmp_path):
    from library.container import build_platform

    now = [datetime(2031, 3, 1, 8, 0, tzinfo=timezone.utc)]
    p = build_platform(make_settings(tmp_path / "data"), clock=lambda: now[0])
    try:
        with p.sessions.begin() as s:
            s.execute(insert(Item), [dict(title="Hịch tướng sĩ", languages="vie", item_type=ItemType.book,
                                          record_changed_at=BASE_TIME) for _ in range(2)])
            a, b = s.scalars(select(Item.id).order_by(Item.id))

        def stamp(item_id):
            with p.sessions() as s:
                value = s.get(Item, item_id).record_changed_at
            return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value

        p.access_admin.set_item_access(SYSTEM, a, "staff", embargo_until="2031-04-01", then="public")
        assert stamp(a) == now[0] and stamp(b) == BASE_TIME
        now[0] = datetime(2031, 4, 2, 9, 30, tzinfo=timezone.utc)
        assert p.access_admin.lift_embargoes(Actor.system("sweeper")) == [a]
        assert stamp(a) == now[0]
        now[0] += timedelta(hours=1)
        p.access_admin.withdraw(SYSTEM, b, "bản quyền")
        assert stamp(b) == now[0]
        now[0] += timedelta(hours=1)
        p.access_admin.restore(SYSTEM, b)
        assert stamp(b) == now[0]
        now[0] += timedelta(hours=1)
        p.pages.delete_item(SYSTEM, b, "trùng")
        assert stamp(b) == now[0]
        coll = p.collections.create(SYSTEM, "Văn học cổ")
        now[0] += timedelta(hours=1)
        p.collections.move(SYSTEM, [a], coll.id)
        assert stamp(a) == now[0]
        now[0] += timedelta(hours=1)
        p.access_admin.set_collection_access(SYSTEM, coll.id, "reading-room")
        assert stamp(a) == now[0]
        now[0] += timedelta(hours=1)
        p.collections.rename(SYSTEM, coll.id, "Văn học Hán Nôm")
        assert stamp(a) == now[0]
        before = datetime.now(timezone.utc)
        p.items.edit(SYSTEM, a, {"title": "Hịch tướng sĩ văn"})  # the editor keeps the wall clock
        assert stamp(a) >= before
        # a provider built directly: a withdrawn item is a deleted header, on its own datestamp
        provider = OaiProvider(p.sessions, p.access, secret_key="k", repository_id=REPO_ID, page_size=1)
        xml = etree.fromstring(provider.respond([("verb", "GetRecord"), ("identifier", oai_id(b)),
                                                 ("metadataPrefix", "oai_dc")], base_url="http://x/oai",
                                                portal_url="http://x"))
        header = xml.find(".//o:header", NS)
        assert header.get("status") == "deleted" and header.findtext("o:datestamp", namespaces=NS) == "2031-04-02T12:30:00Z"
    finally:
        p.close()


def test_restricted_records_follow_the_restricted_metadata_setting(tmp_path):
    """With ``restricted_metadata = shown`` the public sees a restricted item's catalogue record, so
    OAI-PMH gives it too; ``hidden`` (the default) gives a deleted header. Withdrawn stays deleted."""
    from library.container import build_platform

    for setting, restricted_shown in (("shown", True), ("hidden", False)):
        p = build_platform(make_settings(tmp_path / setting, restricted_metadata=setting))
        try:
            with p.sessions.begin() as s:
                s.execute(insert(Item), [
                    dict(title="Mật", languages="vie", item_type=ItemType.manuscript, access_level=AccessLevel.staff),
                    dict(title="Rút", languages="vie", item_type=ItemType.book, withdrawn_at=BASE_TIME)])
                restricted, withdrawn = s.scalars(select(Item.id).order_by(Item.id))
            provider = OaiProvider(p.sessions, p.access, secret_key="k", repository_id=REPO_ID)
            root = etree.fromstring(provider.respond([("verb", "ListRecords"), ("metadataPrefix", "oai_dc")],
                                                     base_url="http://x/oai", portal_url="http://x"))
            records = {r.findtext("o:header/o:identifier", namespaces=NS): r for r in root.iterfind(".//o:record", NS)}
            shown = records[oai_id(restricted)]
            assert (shown.find("o:header", NS).get("status") is None) == restricted_shown
            assert (shown.findtext(".//dc:title", namespaces=NS) == "Mật") == restricted_shown
            assert records[oai_id(withdrawn)].find("o:header", NS).get("status") == "deleted"
        finally:
            p.close()
