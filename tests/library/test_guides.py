"""Monument guides in the catalogue (SQLite and PostgreSQL): points of interest on a model, guided
tours with their camera stops, the items that speak of a monument (a curator's links, and the
pages search finds by the monument's names), and who may edit them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from library.access import Actor
from library.container import build_platform
from library.errors import InputRejected, NotFound, PermissionDenied
from library.monuments.guides import FieldRejected, name_query
from library.catalogue.models import (Item, ItemType, MonumentModel, Page, PageStatus, StoredFile, TourStop)
from tests.conftest import free_port, make_settings

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)


@pytest.fixture
def model(platform):
    """Văn Miếu with one (not yet built) 3D model: points and tours need only the model's row."""
    m = platform.monuments.create_monument(name_vi="Văn Miếu – Quốc Tử Giám", name_en="Temple of Literature",
                                           lat=21.0285, lon=105.8355, actor=SYSTEM)
    with platform.sessions.begin() as s:
        model = MonumentModel(monument_id=m.id, title="Khuê Văn Các")
        other = MonumentModel(monument_id=m.id, title="Giếng Thiên Quang")
        s.add_all([model, other])
        s.flush()
        return {"monument": m, "model_id": model.id, "other_model_id": other.id}


def add_item(platform, title: str, texts: list[str]) -> int:
    """An item whose pages were read (their text stored as OCR would), waiting to be indexed."""
    with platform.sessions.begin() as s:
        s.merge(StoredFile(sha256="c" * 64, size_bytes=1, media_type="image/png", original_name="scan.png"))
        item = Item(title=title, languages="vie", item_type=ItemType.book)
        for n, text in enumerate(texts, 1):
            item.pages.append(Page(sequence=n, source_sha256="c" * 64, source_name="scan.png",
                                   status=PageStatus.done, text=text, index_pending=True))
        s.add(item)
        s.flush()
        return item.id


def test_points_of_interest_are_ordered_checked_and_removed(platform, model):
    g = platform.guides
    gate = g.add_point(model["model_id"], position=(0, 1.2, 0.5), normal=(0, 2, 0), label_vi="Cửa sổ tròn",
                       label_en="Round window", text_vi="Bốn cửa sổ tròn\ntượng trưng cho sao Khuê.", actor=SYSTEM)
    roof = g.add_point(model["model_id"], position=("0.1", "2.5", "-0.2"), label_vi="Mái ngói", actor=SYSTEM)
    first = g.add_point(model["model_id"], position=(1, 0, 0), normal=(1, 0, 0), label_vi="Chân cột", sequence=1, actor=SYSTEM)
    assert (gate.sequence, roof.sequence) == (1, 2) and gate.normal_y == 1.0  # the normal is made a unit vector
    assert gate.text_vi == "Bốn cửa sổ tròn\ntượng trưng cho sao Khuê."
    assert [p.label_vi for p in g.points(model["model_id"])] == ["Cửa sổ tròn", "Chân cột", "Mái ngói"]
    assert (roof.x, roof.y, roof.z) == (0.1, 2.5, -0.2) and roof.label_en is None
    assert g.points(model["other_model_id"]) == []

    bad = [
        (dict(position=(0, float("nan"), 0)), "position_y", "range"),
        (dict(position=(0, 0, 20_000)), "position_z", "range"),
        (dict(position=(0, "một", 0)), "position_y", "number"),
        (dict(position=(0, 0)), "position", "number"),
        (dict(position=(0, 0, 0), normal=(0, 0, 0)), "normal", "normal"),
        (dict(position=(0, 0, 0), label_vi="   "), "label_vi", "required"),
        (dict(position=(0, 0, 0), label_vi="<script>alert(1)</script>"), "label_vi", "text"),
        (dict(position=(0, 0, 0), label_vi="Cửa", label_en="x" * 201), "label_en", "text"),
        (dict(position=(0, 0, 0), sequence=0), "sequence", "range"),
    ]
    for kwargs, field, code in bad:
        kwargs.setdefault("label_vi", "Cửa")
        with pytest.raises(FieldRejected) as caught:
            g.add_point(model["model_id"], **kwargs, actor=SYSTEM)
        assert (caught.value.field, caught.value.code) == (field, code), kwargs
        assert isinstance(caught.value, InputRejected) and str(caught.value).startswith(field)
    assert len(g.points(model["model_id"])) == 3  # nothing half-made
    with pytest.raises(NotFound):
        g.add_point(999_999, position=(0, 0, 0), label_vi="Cửa", actor=SYSTEM)

    moved = g.update_point(roof.id, position=(0, 3, 0), normal=(0, 0, -5), label_vi="Mái cong", label_en="Curved roof",
                           sequence=9, actor=SYSTEM)
    assert (moved.y, moved.normal_z, moved.label_en, moved.sequence) == (3.0, -1.0, "Curved roof", 9)
    assert g.point(roof.id).label_vi == "Mái cong"

    tour = g.add_tour(model["model_id"], title_vi="Dạo quanh gác", actor=SYSTEM)
    stop = g.add_stop(tour.id, poi_id=first.id, orbit=(30, 60, 4), actor=SYSTEM)
    g.remove_point(first.id, actor=SYSTEM)
    with pytest.raises(NotFound):
        g.point(first.id)
    kept = g.tour(tour.id).stops[0]
    assert kept.id == stop.id and kept.poi_id is None and (kept.target_x, kept.target_y) == (1.0, 0.0)


def test_tours_move_the_camera_from_stop_to_stop_in_order(platform, model):
    g = platform.guides
    window = g.add_point(model["model_id"], position=(0, 1.5, 1), normal=(0, 0, 1), label_vi="Cửa sổ tròn", actor=SYSTEM)
    elsewhere = g.add_point(model["other_model_id"], position=(0, 0, 0), label_vi="Giếng", actor=SYSTEM)
    tour = g.add_tour(model["model_id"], title_vi="Khuê Văn Các từ bốn phía", title_en="Around the pavilion", actor=SYSTEM)
    a = g.add_stop(tour.id, poi_id=window.id, orbit=(0, 75, 4), caption_vi="Mặt trước", caption_en="The front",
                   dwell_s=3, actor=SYSTEM)
    b = g.add_stop(tour.id, orbit=("90", "60", "3.5"), target=(0, 2, 0), field_of_view_deg=40,
                   caption_vi="Mái gác", actor=SYSTEM)
    c = g.add_stop(tour.id, orbit=(-90, 80, 5), target=(0.5, 0, 0), actor=SYSTEM)
    assert (a.target_x, a.target_y, a.target_z) == (0.0, 1.5, 1.0)  # the point's position by default
    assert (b.orbit_theta_deg, b.orbit_phi_deg, b.orbit_radius_m, b.field_of_view_deg) == (90, 60, 3.5, 40)
    assert a.dwell_s == 3 and b.dwell_s == 6 and a.field_of_view_deg == 30
    assert [s.id for s in g.tour(tour.id).stops] == [a.id, b.id, c.id]
    assert [s.id for s in g.move_stop(c.id, -2, actor=SYSTEM).stops] == [c.id, a.id, b.id]
    assert [s.sequence for s in g.tour(tour.id).stops] == [1, 2, 3]
    assert [s.id for s in g.move_stop(c.id, 10, actor=SYSTEM).stops] == [a.id, b.id, c.id]

    for kwargs, field, code in [
        (dict(orbit=(0, 75, 4)), "target", "required"),
        (dict(orbit=(0, 75, 4), poi_id=elsewhere.id), "poi", "model"),
        (dict(orbit=(0, 190, 4), target=(0, 0, 0)), "orbit_phi_deg", "range"),
        (dict(orbit=(0, 90, 0), target=(0, 0, 0)), "orbit_radius_m", "range"),
        (dict(orbit=(0, 90), target=(0, 0, 0)), "orbit", "number"),
        (dict(orbit=(0, 90, 3), target=(0, 0, 0), field_of_view_deg=179), "field_of_view_deg", "range"),
        (dict(orbit=(0, 90, 3), target=(0, 0, 0), dwell_s=float("inf")), "dwell_s", "range"),
        (dict(orbit=(0, 90, 3), target=(0, 0, 0), caption_en="<img src=x onerror=alert(1)>"), "caption_en", "text"),
    ]:
        with pytest.raises(FieldRejected) as caught:
            g.add_stop(tour.id, **kwargs, actor=SYSTEM)
        assert (caught.value.field, caught.value.code) == (field, code), kwargs
    assert len(g.tour(tour.id).stops) == 3

    changed = g.update_stop(b.id, orbit=(45, 70, 3), target=(0, 2.2, 0), caption_vi="Mái gác", caption_en="The roof", actor=SYSTEM)
    assert (changed.orbit_theta_deg, changed.target_y, changed.caption_en) == (45, 2.2, "The roof")
    assert g.update_tour(tour.id, title_vi="Quanh gác", actor=SYSTEM).title_vi == "Quanh gác"
    with pytest.raises(FieldRejected, match="title_vi"):
        g.update_tour(tour.id, title_vi="", actor=SYSTEM)
    guides = g.guides([model["model_id"], model["other_model_id"]])
    assert [p.label_vi for p in guides[model["model_id"]].points] == ["Cửa sổ tròn"]
    assert [t.id for t in guides[model["model_id"]].tours] == [tour.id]
    assert [len(t.stops) for t in guides[model["model_id"]].tours] == [3]
    assert guides[model["other_model_id"]].tours == []
    g.remove_stop(a.id, actor=SYSTEM)
    assert [s.id for s in g.tour(tour.id).stops] == [b.id, c.id]
    g.remove_tour(tour.id, actor=SYSTEM)
    with platform.sessions() as s:
        assert s.scalar(select(func.count()).select_from(TourStop)) == 0  # the stops went with their tour
    with pytest.raises(NotFound):
        g.tour(tour.id)


def test_only_curators_and_admins_edit_guides(platform, model):
    users = {role: platform.users.create(Actor.system("tests"), f"{role}.a", "mat-khau-dai-lam", role)
             for role in ("librarian", "archivist", "curator", "admin")}
    g = platform.guides
    item_id = add_item(platform, "Sách", ["Văn Miếu"])
    for role, user in users.items():
        allowed = role in ("curator", "admin")
        actions = [
            lambda: g.add_point(model["model_id"], position=(0, 0, 0), label_vi=f"Điểm của {role}", actor=Actor.for_user(user)),
            lambda: g.add_tour(model["model_id"], title_vi=f"Tour của {role}", actor=Actor.for_user(user)),
            lambda: g.link_item(model["monument"].id, item_id, actor=Actor.for_user(user)),
            lambda: platform.monuments.update_monument(model["monument"].id, name_vi="Văn Miếu – Quốc Tử Giám",
                                                       actor=Actor.for_user(user)),
        ]
        for action in actions:
            if allowed:
                action()
            else:
                with pytest.raises(PermissionDenied, match=rf"'{role}.a' \({role}\) may not"):
                    action()
    assert sorted(p.label_vi for p in g.points(model["model_id"])) == ["Điểm của admin", "Điểm của curator"]


def test_every_guide_change_needs_an_explicit_actor(platform, model):
    g = platform.guides
    point = g.add_point(model["model_id"], position=(0, 0, 0), label_vi="Cửa", actor=SYSTEM)
    tour = g.add_tour(model["model_id"], title_vi="Dạo", actor=SYSTEM)
    stop = g.add_stop(tour.id, poi_id=point.id, orbit=(30, 60, 4), actor=SYSTEM)
    item_id = add_item(platform, "Sách", ["Văn Miếu"])
    link = g.link_item(model["monument"].id, item_id, actor=SYSTEM)
    assert link.created_by is None and point.created_by is None  # the system is no user
    curator = platform.users.create(SYSTEM, "bao.tang", "mat-khau-dai-lam", "curator")
    changes = [
        lambda **kw: g.add_point(model["model_id"], position=(0, 0, 0), label_vi="Mái", **kw),
        lambda **kw: g.update_point(point.id, position=(0, 0, 0), label_vi="Mái", **kw),
        lambda **kw: g.remove_point(point.id, **kw),
        lambda **kw: g.add_tour(model["model_id"], title_vi="Tour", **kw),
        lambda **kw: g.update_tour(tour.id, title_vi="Tour", **kw),
        lambda **kw: g.remove_tour(tour.id, **kw),
        lambda **kw: g.add_stop(tour.id, orbit=(0, 60, 4), target=(0, 0, 0), **kw),
        lambda **kw: g.update_stop(stop.id, orbit=(0, 60, 4), target=(0, 0, 0), **kw),
        lambda **kw: g.remove_stop(stop.id, **kw),
        lambda **kw: g.move_stop(stop.id, 1, **kw),
        lambda **kw: g.link_item(model["monument"].id, item_id, **kw),
        lambda **kw: g.unlink_item(link.id, **kw),
    ]
    for change in changes:
        for bad in ({}, {"actor": None}, {"actor": curator}):  # no actor, None, a bare user: never trusted
            with pytest.raises(TypeError):
                change(**bad)
    assert [p.label_vi for p in g.points(model["model_id"])] == ["Cửa"]  # nothing changed
    assert [s.id for s in g.tour(tour.id).stops] == [stop.id]
    assert [ln.link_id for ln in g.linked_items(model["monument"].id)] == [link.id]
    added = g.add_point(model["model_id"], position=(0, 0, 0), label_vi="Mái", actor=Actor.for_user(curator))
    assert added.created_by == curator.id


def test_the_items_that_speak_of_a_monument(platform, model):
    g = platform.guides
    monument = model["monument"]
    book = add_item(platform, "Hà Nội xưa", ["Phố cổ.", "Người Hà Nội gọi nơi ấy là Van Mieu, có giếng."])
    paper = add_item(platform, "Báo Trung Bắc", ["QUỐC TỬ GIÁM mở năm 1076.", "Văn Miếu"])
    english = add_item(platform, "Hanoi guide", ["The Temple of Literature is in Hanoi."])
    unrelated = add_item(platform, "Chùa Một Cột", ["Chùa dựng trên một cột đá."])
    assert platform.indexer.flush().pages == 6

    related = g.related_items(monument.id, actor=Actor.system("tests"))
    assert not related.search_offline and related.linked == []
    found = {r.item_id: r for r in related.found}
    assert set(found) == {book, paper, english}  # with or without diacritics, in either language, not the others
    assert found[book].page_sequence == 2 and found[english].page_sequence == 1
    assert "Van Mieu" in found[book].snippet.text and found[book].snippet.highlights

    link = g.link_item(monument.id, unrelated, page_sequence=1, note="Nói về kiến trúc cùng thời", actor=SYSTEM)
    g.link_item(monument.id, paper, note="Bài về Quốc Tử Giám", actor=SYSTEM)
    related = g.related_items(monument.id, actor=Actor.system("tests"))
    assert [(r.item_id, r.page_sequence, r.note) for r in related.linked] == [
        (paper, None, "Bài về Quốc Tử Giám"), (unrelated, 1, "Nói về kiến trúc cùng thời")]
    assert {r.item_id for r in related.found} == {book, english}  # a linked item is not listed twice
    again = g.link_item(monument.id, unrelated, page_sequence=None, note=None, actor=SYSTEM)  # linking again replaces
    assert again.id == link.id and g.linked_items(monument.id)[1].note is None

    with pytest.raises(FieldRejected) as caught:
        g.link_item(monument.id, 987_654, actor=SYSTEM)
    assert caught.value.code == "item"
    with pytest.raises(FieldRejected) as caught:
        g.link_item(monument.id, book, page_sequence=3, actor=SYSTEM)
    assert caught.value.code == "page" and "no page 3" in str(caught.value)
    with pytest.raises(FieldRejected, match="note"):
        g.link_item(monument.id, book, note="<a href='javascript:x'>x</a>", actor=SYSTEM)
    g.unlink_item(link.id, actor=SYSTEM)
    assert [r.item_id for r in g.linked_items(monument.id)] == [paper]
    with pytest.raises(NotFound):
        g.unlink_item(link.id, actor=SYSTEM)


def test_the_curators_links_are_shown_when_the_search_engine_is_down(tmp_path, database_url):
    settings = make_settings(tmp_path / "data", database_url=database_url,
                             search_url=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    p = build_platform(settings)
    try:
        m = p.monuments.create_monument(name_vi="Chùa Trấn Quốc", actor=SYSTEM)
        item_id = add_item(p, "Chùa Hà Nội", ["Chùa Trấn Quốc bên Hồ Tây."])
        p.guides.link_item(m.id, item_id, page_sequence=1, actor=SYSTEM)
        related = p.guides.related_items(m.id, actor=Actor.system("tests"))
        assert related.search_offline and related.found == []
        assert [(r.item_id, r.title, r.page_sequence) for r in related.linked] == [(item_id, "Chùa Hà Nội", 1)]
    finally:
        p.close()


def test_a_monument_is_edited_and_found_by_its_new_name(platform, model):
    m = model["monument"]
    platform.indexer.flush()
    edited = platform.monuments.update_monument(
        m.id, name_vi="Văn Miếu – Quốc Tử Giám", name_en="Temple of Confucius", description_vi="Trường đại học đầu tiên.",
        lat=21.0293, lon=105.8355, period="nhà Lý", year_start=1070, heritage_rank="special_national", actor=SYSTEM)
    assert edited.slug == m.slug and edited.revision == m.revision + 1 and edited.heritage_rank.value == "special_national"
    assert platform.monuments.by_slug(m.slug).name_en == "Temple of Confucius"
    assert platform.indexer.flush().monuments == 0  # sent to search when the edit committed
    from search import SearchRequest

    res = platform.indexer.engine.search(SearchRequest(access_levels=("public",), query="Confucius", kinds=["monument"]))
    assert [h.id for h in res.hits] == [f"monument:{m.id}"]
    for kwargs, problem in [(dict(lat=21.0), "both"), (dict(lat=float("nan"), lon=105.0), "WGS 84"),
                            (dict(year_start=1800, year_end=1700), "before"), (dict(name_vi=""), "name_vi"),
                            (dict(heritage_rank="world"), "heritage_rank")]:
        kwargs.setdefault("name_vi", "Văn Miếu")
        with pytest.raises(InputRejected, match=problem):
            platform.monuments.update_monument(m.id, **kwargs, actor=SYSTEM)
    with pytest.raises(NotFound):
        platform.monuments.update_monument(999_999, name_vi="X", actor=SYSTEM)
    assert platform.monuments.monument(m.id).name_en == "Temple of Confucius"  # nothing changed by refusals


def test_the_name_query_searches_each_part_of_a_name_as_a_phrase():
    assert name_query(["Văn Miếu – Quốc Tử Giám", "Temple of Literature"]) == \
        '"Văn Miếu Quốc Tử Giám" OR "Văn Miếu" OR "Quốc Tử Giám" OR "Temple of Literature"'
    assert name_query(["Chùa Một Cột (Diên Hựu tự)", None]) == \
        '"Chùa Một Cột Diên Hựu tự" OR "Chùa Một Cột" OR "Diên Hựu tự"'
    assert name_query(["Đền", ""]) == ""  # one short word would match far too much
    assert name_query(["Cổng Văn Miếu", "cổng văn miếu"]) == '"Cổng Văn Miếu"'  # each phrase once
