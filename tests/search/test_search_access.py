"""Access levels in search, on every engine: each document carries its item's level, and every search,
count, facet, snippet, notice and suggestion keeps only the levels the asker may see.

Three items, one per level, each with a page and a word of its own (``longbien``, ``thanhtri``,
``tayho``) and the shared word ``chung``; an anonymous reader sees the public one, the reading room
the public and reading-room ones, staff all three."""

from __future__ import annotations

import pytest

from search import ItemDoc, MonumentDoc, PageDoc, SearchRequest
from search.errors import QueryError
from tests.search.conftest import ENGINES, make_engine

ANONYMOUS = ("public",)
READING_ROOM = ("public", "reading-room")
STAFF = ("public", "reading-room", "staff")

# level: (item id, title, collection, its own word)
ITEMS = {
    "public": (1, "Sách Mở Cửa", "Kho Mở", "longbien"),
    "reading-room": (2, "Sách Phòng Đọc", "Kho Phòng Đọc", "thanhtri"),
    "staff": (3, "Sách Mật Nội Bộ", "Kho Mật", "tayho"),
}
SEES = {ANONYMOUS: {"public"}, READING_ROOM: {"public", "reading-room"}, STAFF: set(ITEMS)}


def docs_at(levels_by_key: dict[str, str]):
    """A page and an item document for each item, at the given level."""
    out = []
    for key, (item_id, title, collection, word) in ITEMS.items():
        text = f"Trang chung của {title}: chữ {word} ở đây."
        meta = dict(item_id=item_id, title=title, collections=(collection,), type="book", date="1930",
                    access=levels_by_key[key])
        out.append(PageDoc(page_id=10 + item_id, page_number=1, text=text, **meta))
        out.append(ItemDoc(text=text, **meta))
    out.append(MonumentDoc(monument_id=1, name_vi="Sách Đá Văn Miếu"))  # monuments are public
    return out


AS_CATALOGUED = {key: key for key in ITEMS}


@pytest.fixture(scope="module", params=ENGINES)
def engine(request, tmp_path_factory):
    e = make_engine(request, request.param, tmp_path_factory.mktemp("access"))
    e.index(docs_at(AS_CATALOGUED))
    e.refresh()
    yield e
    e.drop()
    e.close()


def ask(engine, query, levels, **kw):
    return engine.search(SearchRequest(query=query, access_levels=levels, **kw))


def items_of(result) -> set[str]:
    return {h.item_id for h in result.hits}


def expected_ids(levels) -> set[str]:
    return {str(ITEMS[k][0]) for k in SEES[levels]}


@pytest.mark.parametrize("levels", [ANONYMOUS, READING_ROOM, STAFF])
def test_results_counts_facets_and_snippets_follow_the_levels(engine, levels):
    pages = ask(engine, "chung", levels, kinds=["page"], facets=("collection", "type"))
    assert items_of(pages) == expected_ids(levels)
    assert pages.total == len(SEES[levels])
    assert {f.value: f.count for f in pages.facets["collection"]} == {ITEMS[k][2]: 1 for k in SEES[levels]}
    assert {f.value: f.count for f in pages.facets["type"]} == {"book": len(SEES[levels])}
    snippet_text = " ".join(sn.text for h in pages.hits for sn in h.snippets)
    for key, (_, _, _, word) in ITEMS.items():
        assert (word in snippet_text) == (key in SEES[levels]), (key, snippet_text)
    items = ask(engine, "chung", levels, kinds=["item"])
    assert items_of(items) == expected_ids(levels) and items.total == len(SEES[levels])
    for key, (item_id, title, _, word) in ITEMS.items():
        own = ask(engine, word, levels)
        assert own.total == (2 if key in SEES[levels] else 0), (key, levels)
        by_title = ask(engine, title, levels, kinds=["item"])
        assert (str(item_id) in items_of(by_title)) == (key in SEES[levels])
        within = engine.search_within(item_id, word, access_levels=levels)
        assert within.total == (1 if key in SEES[levels] else 0)


def test_every_hit_says_its_level(engine):
    found = ask(engine, "chung", STAFF, kinds=["page", "item"])
    assert {(h.item_id, h.fields["access"]) for h in found.hits} == {
        (str(item_id), key) for key, (item_id, *_rest) in ITEMS.items()}


@pytest.mark.parametrize("levels", [ANONYMOUS, READING_ROOM, STAFF])
def test_suggestions_come_only_from_what_may_be_seen(engine, levels):
    texts = {s.text for s in engine.suggest("sách", access_levels=levels, limit=20)}
    assert texts == {ITEMS[k][1] for k in SEES[levels]} | {"Sách Đá Văn Miếu"}
    assert bool(engine.suggest("kho mật", access_levels=levels)) == ("staff" in SEES[levels])
    assert bool(engine.suggest("mật nội", access_levels=levels)) == ("staff" in SEES[levels])


def test_a_restricted_value_is_not_told_apart_from_a_missing_one(engine):
    """The notice "no document has collection X" reads the same for a hidden collection as for none."""
    def notices(collection, levels):
        return [n.code for n in ask(engine, "chung", levels, filters={"collection": [collection]}).notices]

    assert notices("Kho Mật", ANONYMOUS) == notices("Kho Không Có", ANONYMOUS) == ["unknown_value"]
    assert notices("Kho Mật", STAFF) == []


def test_a_cursor_of_one_asker_is_refused_to_another(engine):
    first = ask(engine, "chung", STAFF, kinds=["page"], per_page=1)
    assert first.next_cursor
    with pytest.raises(QueryError):
        ask(engine, "chung", ANONYMOUS, kinds=["page"], per_page=1, cursor=first.next_cursor)


@pytest.mark.parametrize("bad", [(), [], "public", ("everyone",), ("public", "secret"), None, 5])
def test_a_request_without_levels_is_refused(engine, bad):
    with pytest.raises(ValueError):
        ask(engine, "chung", bad)
    with pytest.raises(ValueError):
        engine.suggest("sách", access_levels=bad)
    with pytest.raises(ValueError):
        engine.suggest("", access_levels=bad)  # even with nothing typed yet
    with pytest.raises(ValueError):
        engine.search_within(1, "chung", access_levels=bad)


def test_levels_cannot_be_forgotten(engine):
    with pytest.raises(TypeError):
        SearchRequest(query="chung")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        engine.suggest("sách")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        engine.search_within(1, "chung")  # type: ignore[call-arg]


def test_documents_without_a_level_are_refused(tmp_path):
    with pytest.raises(TypeError):
        PageDoc(page_id=1, item_id=1, page_number=1, text="x")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        ItemDoc(item_id=1, title="x")  # type: ignore[call-arg]
    from search import open_engine

    e = open_engine(tmp_path / "index")
    try:
        for bad in ({"id": "page:1", "kind": "page", "text": "x"},
                    {"id": "page:1", "kind": "page", "text": "x", "access": "everyone"}):
            with pytest.raises(ValueError):
                e.index([bad])
        with pytest.raises(ValueError):
            e.index([PageDoc(page_id=1, item_id=1, page_number=1, text="x", access="hidden")])
        assert e.count() == 0
    finally:
        e.drop()


def test_a_level_change_reaches_search_at_once(empty_engine):
    e = empty_engine
    e.index(docs_at(AS_CATALOGUED))
    e.refresh()
    assert ask(e, "tayho", ANONYMOUS).total == 0
    opened = dict(AS_CATALOGUED, staff="public", public="staff")
    e.index(docs_at(opened))  # the indexer re-sends an item's documents with its new level
    e.refresh()
    assert ask(e, "tayho", ANONYMOUS).total == 2
    assert ask(e, "longbien", ANONYMOUS).total == 0
    assert {s.text for s in e.suggest("sách", access_levels=ANONYMOUS, limit=20)} == {
        "Sách Mật Nội Bộ", "Sách Đá Văn Miếu"}
    e.delete_item(3)  # withdrawn: its item and pages leave the index
    e.refresh()
    assert ask(e, "tayho", STAFF).total == 0
    assert {h.item_id for h in ask(e, "chung", STAFF).hits} == {"1", "2"}
