"""A tour stop's place on the ground (SQLite and PostgreSQL): optional latitude and longitude (WGS 84,
both or neither) where the visitor stands for the stop, checked like every other guide field, and
migration 0020 that adds them (down and up again, the stops kept)."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from library.access import Actor
from library.catalogue import db
from library.errors import InputRejected
from library.monuments.guides import FieldRejected
from library.catalogue.models import MonumentModel
from tests.library.test_compact_layouts_migration import _downgrade

SYSTEM = Actor.system("tests")

GATE = (21.02857, 105.83547)  # Văn Miếu's main gate, roughly
PAVILION = (21.02812, 105.83553)


@pytest.fixture
def tour(platform):
    m = platform.monuments.create_monument(name_vi="Văn Miếu – Quốc Tử Giám", lat=21.0285, lon=105.8355,
                                           actor=SYSTEM)
    with platform.sessions.begin() as s:
        model = MonumentModel(monument_id=m.id, title="Khuê Văn Các")
        s.add(model)
        s.flush()
        model_id = model.id
    return platform.guides.add_tour(model_id, title_vi="Đi bộ qua Văn Miếu", actor=SYSTEM)


def test_stops_with_and_without_a_place(platform, tour):
    g = platform.guides
    gate = g.add_stop(tour.id, orbit=(0, 75, 4), target=(0, 1, 0), caption_vi="Cổng", lat=GATE[0], lon=GATE[1],
                      actor=SYSTEM)
    inside = g.add_stop(tour.id, orbit=(90, 60, 3), target=(0, 2, 0), caption_vi="Trong gác", actor=SYSTEM)
    typed = g.add_stop(tour.id, orbit=(0, 75, 4), target=(0, 1, 0), lat=" 21.02812 ", lon="105.83553", actor=SYSTEM)
    blank = g.add_stop(tour.id, orbit=(0, 75, 4), target=(0, 1, 0), lat="", lon="  ", actor=SYSTEM)
    edge = g.add_stop(tour.id, orbit=(0, 75, 4), target=(0, 1, 0), lat=-90, lon=180, actor=SYSTEM)
    assert (gate.lat, gate.lon) == GATE and (typed.lat, typed.lon) == PAVILION
    assert (inside.lat, inside.lon) == (None, None) and (blank.lat, blank.lon) == (None, None)
    assert (edge.lat, edge.lon) == (-90.0, 180.0)
    stops = g.tour(tour.id).stops
    assert [(s.lat, s.lon) for s in stops] == [GATE, (None, None), PAVILION, (None, None), (-90.0, 180.0)]

    # an edit replaces the place, and a stop edited without one has none any more
    moved = g.update_stop(inside.id, orbit=(90, 60, 3), target=(0, 2, 0), lat=PAVILION[0], lon=PAVILION[1],
                          actor=SYSTEM)
    assert (moved.lat, moved.lon) == PAVILION
    cleared = g.update_stop(gate.id, orbit=(0, 75, 4), target=(0, 1, 0), caption_vi="Cổng", actor=SYSTEM)
    assert (cleared.lat, cleared.lon) == (None, None) and cleared.caption_vi == "Cổng"
    guide = g.guides([tour.model_id])[tour.model_id]
    assert [(s.lat, s.lon) for s in guide.tours[0].stops][:2] == [(None, None), PAVILION]


@pytest.mark.parametrize("lat, lon, field, code", [
    (21.03, None, "lon", "pair"),
    (None, 105.83, "lat", "pair"),
    ("", "105.83", "lat", "pair"),
    (90.5, 105.83, "lat", "range"),
    (-91, 105.83, "lat", "range"),
    (21.03, 180.01, "lon", "range"),
    (21.03, -200, "lon", "range"),
    (float("nan"), 105.83, "lat", "range"),
    (21.03, float("inf"), "lon", "range"),
    ("hai mốt", 105.83, "lat", "number"),
    (21.03, [105.83], "lon", "number"),
])
def test_a_place_is_both_coordinates_in_range_or_none(platform, tour, lat, lon, field, code):
    g = platform.guides
    with pytest.raises(FieldRejected) as caught:
        g.add_stop(tour.id, orbit=(0, 75, 4), target=(0, 1, 0), lat=lat, lon=lon, actor=SYSTEM)
    assert (caught.value.field, caught.value.code) == (field, code)
    assert isinstance(caught.value, InputRejected) and str(caught.value).startswith(field)
    assert g.tour(tour.id).stops == []  # nothing half-made
    stop = g.add_stop(tour.id, orbit=(0, 75, 4), target=(0, 1, 0), lat=GATE[0], lon=GATE[1], actor=SYSTEM)
    with pytest.raises(FieldRejected) as caught:
        g.update_stop(stop.id, orbit=(0, 75, 4), target=(0, 1, 0), lat=lat, lon=lon, actor=SYSTEM)
    assert (caught.value.field, caught.value.code) == (field, code)
    kept = g.stop(stop.id)
    assert (kept.lat, kept.lon) == GATE  # the refused edit changed nothing


def _columns(engine) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns("tour_stops")}


def test_migration_0020_adds_the_place_and_takes_it_away(platform, tour):
    g = platform.guides
    placed = g.add_stop(tour.id, orbit=(0, 75, 4), target=(0, 1, 0), caption_vi="Cổng", lat=GATE[0], lon=GATE[1],
                        actor=SYSTEM)
    plain = g.add_stop(tour.id, orbit=(90, 60, 3), target=(0, 2, 0), caption_vi="Trong gác", actor=SYSTEM)
    assert {"lat", "lon"} <= _columns(platform.engine)

    _downgrade(platform, "0019")
    assert db.current_revision(platform.engine) == "0019"
    assert not {"lat", "lon"} & _columns(platform.engine)
    with platform.engine.connect() as conn:  # the stops themselves are kept, with everything else they had
        rows = conn.execute(text("SELECT id, caption_vi, orbit_theta_deg FROM tour_stops ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(placed.id, "Cổng", 0.0), (plain.id, "Trong gác", 90.0)]

    db.upgrade(platform.engine)
    assert db.current_revision(platform.engine) == db.head_revision() >= "0020"
    assert {"lat", "lon"} <= _columns(platform.engine)
    with platform.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, lat, lon FROM tour_stops ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(placed.id, None, None), (plain.id, None, None)]  # the place went down
    again = g.update_stop(placed.id, orbit=(0, 75, 4), target=(0, 1, 0), lat=GATE[0], lon=GATE[1], actor=SYSTEM)
    assert (again.lat, again.lon) == GATE
