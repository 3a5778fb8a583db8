"""Guides to a monument for tourists: labelled points of interest on its 3D
models, guided tours that move the camera from point to point, and the
library items that speak of it.

Points and camera targets are in the model's own frame (metres, glTF axes,
y up), the frame ``<model-viewer>`` reads ``data-position`` and
``camera-target`` in. A camera orbit is an azimuth ``theta`` and a polar
angle ``phi`` in degrees around the target, and a distance in metres. A stop
may also have a place on the ground (``lat``, ``lon``, WGS 84 degrees, both
or neither): where the visitor stands for it, so that the tour can be walked.

The items that speak of a monument are the ones a curator linked (with the
page, and a note) and, found afresh on every visit, those whose text names
the monument, through the search service (with or without diacritics). When
the search engine is down the curator's links are still shown.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from library.access import Actor, require_permission
from library.errors import InputRejected, NotFound, SearchOffline
from library.catalogue.models import (
    Item,
    Monument,
    MonumentItem,
    MonumentModel,
    Page,
    PointOfInterest,
    Tour,
    TourStop,
)
from library.unit_of_work import UnitOfWork, Work

GUIDE_ACTION = "edit_monument_guides"  # library.access.PERMISSIONS: curators and admins (and the system)
# the guide's links to library items are also made when a stele's face is published from the model
LINK_ACTIONS = (GUIDE_ACTION, "publish_inscriptions")
MAX_COORDINATE_M = 10_000.0  # a point farther than 10 km from the model's origin is a typing error
MAX_RADIUS_M = 10_000.0
FIELD_OF_VIEW_DEG = (10.0, 90.0)
DWELL_S = (1.0, 120.0)
LABEL_CHARS, TITLE_CHARS, TEXT_CHARS, NOTE_CHARS = 200, 300, 5_000, 1_000
FOUND_ITEMS = 10  # items found by search, at most, on a monument's page
MIN_NAME_CHARS = 5  # a one-word part of a monument's name shorter than this is too common to search for
MAX_ID = 2**31 - 1  # row numbers are 32-bit integers (PostgreSQL refuses larger ones in a query)

Vec3 = tuple[float, float, float]


class FieldRejected(InputRejected):
    """One field of a guide's form cannot be accepted. ``code`` names the problem so an edge can say it
    in the user's language (``required``, ``number``, ``range``, ``normal``, ``text``, ``model``,
    ``item``, ``page``, ``pair``: one of two values that go together is missing); ``params`` carry the
    numbers the message needs."""

    def __init__(self, field_name: str, code: str, problem: str, **params):
        super().__init__(field_name, problem)
        self.field = field_name
        self.code = code
        self.params = params


# ------------------------------------------------------------------ views
@dataclass
class ModelGuide:
    """A model's points of interest and tours, for its page."""

    model_id: int
    points: list[PointOfInterest] = field(default_factory=list)
    tours: list[Tour] = field(default_factory=list)


@dataclass(frozen=True)
class RelatedItem:
    item_id: int
    title: str
    page_sequence: int | None  # the page where the monument is named (None: the item as a whole)
    note: str | None = None  # the curator's
    snippet: object | None = None  # search.Snippet around the name, for items found by search
    link_id: int | None = None  # set for a curator's link


@dataclass(frozen=True)
class RelatedItems:
    linked: list[RelatedItem]
    found: list[RelatedItem]
    search_offline: bool = False  # the search engine did not answer: only the curator's links are shown


# ------------------------------------------------------------------ service
class GuideService:
    def __init__(self, sessions: sessionmaker[Session], search, work: UnitOfWork):
        self.sessions = sessions
        self.search = search  # library.discovery.searching.SearchService
        self.work = work  # every change: an explicit actor, committed through the unit of work

    # ------------------------------------------------------------ look-ups
    def model(self, model_id: int) -> MonumentModel:
        with self.sessions() as s:
            return self._model(s, model_id)

    def stop(self, stop_id: int) -> TourStop:
        with self.sessions() as s:
            stop = s.get(TourStop, stop_id)
            if stop is None:
                raise NotFound(f"no tour stop {stop_id}")
            return stop

    def link(self, link_id: int) -> MonumentItem:
        with self.sessions() as s:
            link = s.get(MonumentItem, link_id)
            if link is None:
                raise NotFound(f"no link {link_id}")
            return link

    def monument_of(self, *, model_id: int | None = None, point_id: int | None = None, tour_id: int | None = None,
                    stop_id: int | None = None) -> int:
        """The monument a model, point, tour or stop belongs to (NotFound when there is no such thing)."""
        with self.sessions() as s:
            if stop_id is not None:
                tour_id = s.scalar(select(TourStop.tour_id).where(TourStop.id == stop_id))
                if tour_id is None:
                    raise NotFound(f"no tour stop {stop_id}")
            if tour_id is not None:
                model_id = s.scalar(select(Tour.model_id).where(Tour.id == tour_id))
                if model_id is None:
                    raise NotFound(f"no tour {tour_id}")
            if point_id is not None:
                model_id = s.scalar(select(PointOfInterest.model_id).where(PointOfInterest.id == point_id))
                if model_id is None:
                    raise NotFound(f"no point of interest {point_id}")
            return self._model(s, model_id).monument_id

    # ------------------------------------------------------ points of interest
    def points(self, model_id: int) -> list[PointOfInterest]:
        with self.sessions() as s:
            self._model(s, model_id)
            return list(s.scalars(select(PointOfInterest).where(PointOfInterest.model_id == model_id)
                                  .order_by(PointOfInterest.sequence, PointOfInterest.id)))

    def point(self, point_id: int) -> PointOfInterest:
        with self.sessions() as s:
            return self._point(s, point_id)

    def add_point(self, model_id: int, *, position: Iterable, normal: Iterable = (0.0, 1.0, 0.0), label_vi: str,
                  label_en: str | None = None, text_vi: str | None = None, text_en: str | None = None,
                  sequence: int | None = None, actor: Actor) -> PointOfInterest:
        require_permission(actor, GUIDE_ACTION)
        values = _point_values(position, normal, label_vi, label_en, text_vi, text_en)
        with self.work(actor) as work:
            work.audit("guide_edit", record_type="guide", detail={"op": "add_point", "model_id": model_id})
            s = work.session
            self._model(s, model_id)
            if sequence is None:
                sequence = (s.scalar(select(func.max(PointOfInterest.sequence))
                                     .where(PointOfInterest.model_id == model_id)) or 0) + 1
            poi = PointOfInterest(model_id=model_id, sequence=_order(sequence), created_by=_id(actor), **values)
            s.add(poi)
            s.flush()
            return poi

    def update_point(self, point_id: int, *, position: Iterable, normal: Iterable = (0.0, 1.0, 0.0),
                     label_vi: str, label_en: str | None = None, text_vi: str | None = None,
                     text_en: str | None = None, sequence: int | None = None,
                     actor: Actor) -> PointOfInterest:
        require_permission(actor, GUIDE_ACTION)
        values = _point_values(position, normal, label_vi, label_en, text_vi, text_en)
        with self.work(actor) as work:
            work.audit("guide_edit", record_type="guide", detail={"op": "update_point", "point_id": point_id})
            s = work.session
            poi = self._point(s, point_id)
            for key, value in values.items():
                setattr(poi, key, value)
            if sequence is not None:
                poi.sequence = _order(sequence)
            return poi

    def remove_point(self, point_id: int, *, actor: Actor) -> None:
        """The point goes; the tour stops that showed it keep their camera and caption."""
        require_permission(actor, GUIDE_ACTION)
        with self.work(actor) as work:
            work.audit("guide_edit", record_type="guide", detail={"op": "remove_point", "point_id": point_id})
            s = work.session
            poi = self._point(s, point_id)
            for stop in s.scalars(select(TourStop).where(TourStop.poi_id == point_id)):
                stop.poi_id = None
            s.flush()
            s.delete(poi)

    # ------------------------------------------------------------------ tours
    def tours(self, model_id: int) -> list[Tour]:
        with self.sessions() as s:
            self._model(s, model_id)
            return list(s.scalars(select(Tour).where(Tour.model_id == model_id).options(selectinload(Tour.stops))
                                  .order_by(Tour.id)))

    def tour(self, tour_id: int) -> Tour:
        with self.sessions() as s:
            tour = s.scalars(select(Tour).where(Tour.id == tour_id).options(selectinload(Tour.stops))).first()
            if tour is None:
                raise NotFound(f"no tour {tour_id}")
            return tour

    def add_tour(self, model_id: int, *, title_vi: str, title_en: str | None = None,
                 actor: Actor) -> Tour:
        require_permission(actor, GUIDE_ACTION)
        values = _tour_values(title_vi, title_en)
        with self.work(actor) as work:
            work.audit("guide_edit", record_type="guide", detail={"op": "add_tour", "model_id": model_id})
            s = work.session
            self._model(s, model_id)
            tour = Tour(model_id=model_id, created_by=_id(actor), **values)
            s.add(tour)
            s.flush()
            tour_id = tour.id
        return self.tour(tour_id)

    def update_tour(self, tour_id: int, *, title_vi: str, title_en: str | None = None,
                    actor: Actor) -> Tour:
        require_permission(actor, GUIDE_ACTION)
        values = _tour_values(title_vi, title_en)
        with self.work(actor) as work:
            work.audit("guide_edit", record_type="guide", detail={"op": "update_tour", "tour_id": tour_id})
            s = work.session
            tour = s.get(Tour, tour_id)
            if tour is None:
                raise NotFound(f"no tour {tour_id}")
            for key, value in values.items():
                setattr(tour, key, value)
        return self.tour(tour_id)

    def remove_tour(self, tour_id: int, *, actor: Actor) -> None:
        require_permission(actor, GUIDE_ACTION)
        with self.work(actor) as work:
            work.audit("guide_edit", record_type="guide", detail={"op": "remove_tour", "tour_id": tour_id})
            s = work.session
            tour = s.get(Tour, tour_id)
            if tour is None:
                raise NotFound(f"no tour {tour_id}")
            s.delete(tour)

    def add_stop(self, tour_id: int, *, orbit: Iterable, target: Iterable | None = None, poi_id: int | None = None,
                 field_of_view_deg: float = 30.0, caption_vi: str | None = None, caption_en: str | None = None,
                 dwell_s: float = 6.0, sequence: int | None = None, lat: float | None = None,
                 lon: float | None = None, actor: Actor) -> TourStop:
        """A stop looking at ``target`` (by default the point of interest's position) from ``orbit``
        (theta°, phi°, radius m); ``lat``/``lon`` (both or neither) where the visitor stands for it."""
        require_permission(actor, GUIDE_ACTION)
        with self.work(actor) as work:
            work.audit("guide_edit", record_type="guide", detail={"op": "add_stop", "tour_id": tour_id})
            s = work.session
            tour = s.get(Tour, tour_id)
            if tour is None:
                raise NotFound(f"no tour {tour_id}")
            values = _stop_values(s, tour, orbit, target, poi_id, field_of_view_deg, caption_vi, caption_en, dwell_s,
                                  lat, lon)
            if sequence is None:
                sequence = (s.scalar(select(func.max(TourStop.sequence)).where(TourStop.tour_id == tour_id)) or 0) + 1
            stop = TourStop(tour_id=tour_id, sequence=_order(sequence), **values)
            s.add(stop)
            s.flush()
            return stop

    def update_stop(self, stop_id: int, *, orbit: Iterable, target: Iterable | None = None,
                    poi_id: int | None = None, field_of_view_deg: float = 30.0, caption_vi: str | None = None,
                    caption_en: str | None = None, dwell_s: float = 6.0, sequence: int | None = None,
                    lat: float | None = None, lon: float | None = None, actor: Actor) -> TourStop:
        """The stop's every value replaced (as :meth:`add_stop` takes them: no place clears its place)."""
        require_permission(actor, GUIDE_ACTION)
        with self.work(actor) as work:
            work.audit("guide_edit", record_type="guide", detail={"op": "update_stop", "stop_id": stop_id})
            s = work.session
            stop = s.get(TourStop, stop_id)
            if stop is None:
                raise NotFound(f"no tour stop {stop_id}")
            values = _stop_values(s, stop.tour, orbit, target, poi_id, field_of_view_deg, caption_vi, caption_en,
                                  dwell_s, lat, lon)
            for key, value in values.items():
                setattr(stop, key, value)
            if sequence is not None:
                stop.sequence = _order(sequence)
            return stop

    def remove_stop(self, stop_id: int, *, actor: Actor) -> None:
        require_permission(actor, GUIDE_ACTION)
        with self.work(actor) as work:
            work.audit("guide_edit", record_type="guide", detail={"op": "remove_stop", "stop_id": stop_id})
            s = work.session
            stop = s.get(TourStop, stop_id)
            if stop is None:
                raise NotFound(f"no tour stop {stop_id}")
            s.delete(stop)

    def move_stop(self, stop_id: int, step: int, *, actor: Actor) -> Tour:
        """Move a stop ``step`` places earlier (negative) or later (positive); the stops are renumbered 1, 2, …"""
        require_permission(actor, GUIDE_ACTION)
        with self.work(actor) as work:
            work.audit("guide_edit", record_type="guide", detail={"op": "move_stop", "stop_id": stop_id})
            s = work.session
            stop = s.get(TourStop, stop_id)
            if stop is None:
                raise NotFound(f"no tour stop {stop_id}")
            stops = list(stop.tour.stops)
            here = stops.index(stop)
            stops.insert(max(0, min(len(stops) - 1, here + int(step))), stops.pop(here))
            for n, st in enumerate(stops, 1):
                st.sequence = n
            tour_id = stop.tour_id
        return self.tour(tour_id)

    # ------------------------------------------------------- the monument page
    def guides(self, model_ids: Iterable[int]) -> dict[int, ModelGuide]:
        """The points and tours of several models in two queries (for a monument's page)."""
        ids = list(model_ids)
        out = {mid: ModelGuide(mid) for mid in ids}
        if not ids:
            return out
        with self.sessions() as s:
            for poi in s.scalars(select(PointOfInterest).where(PointOfInterest.model_id.in_(ids))
                                 .order_by(PointOfInterest.sequence, PointOfInterest.id)):
                out[poi.model_id].points.append(poi)
            for tour in s.scalars(select(Tour).where(Tour.model_id.in_(ids)).options(selectinload(Tour.stops))
                                  .order_by(Tour.id)):
                out[tour.model_id].tours.append(tour)
        return out

    # ------------------------------------------------------------------ items
    def link_item(self, monument_id: int, item_id: int, *, page_sequence: int | None = None,
                  note: str | None = None, actor: Actor, action: str = GUIDE_ACTION) -> MonumentItem:
        """Say that an item (and, optionally, which of its pages) speaks of the monument. Linking the
        same item again replaces the page and the note. ``action``: the permission checked (one of
        :data:`LINK_ACTIONS`); checked in :meth:`link_within`."""
        with self.work(actor) as work:
            return self.link_within(work, monument_id, item_id, page_sequence=page_sequence, note=note, action=action)

    def link_within(self, work: Work, monument_id: int, item_id: int, *, page_sequence: int | None = None,
                    note: str | None = None, action: str = GUIDE_ACTION) -> MonumentItem:
        """:meth:`link_item` as part of a larger change (``work``, whose actor is checked here): an
        inscription published from a model is linked in the transaction that makes its item."""
        require_permission(work.actor, _link_action(action))
        note = _text(note, "note", NOTE_CHARS, multiline=True)
        work.audit("guide_edit", record_type="guide", detail={"op": "link_item", "monument_id": monument_id})
        s = work.session
        if s.get(Monument, monument_id) is None:
            raise NotFound(f"no monument {monument_id}")
        item_id = _existing_item(s, item_id)
        if page_sequence is not None:
            page_sequence = _order(page_sequence, "page")
            exists = s.scalar(select(func.count()).select_from(Page).where(Page.item_id == item_id,
                                                                          Page.sequence == page_sequence))
            if not exists:
                raise FieldRejected("page", "page", f"item {item_id} has no page {page_sequence}",
                                    item=item_id, page=page_sequence)
        link = s.scalars(select(MonumentItem).where(MonumentItem.monument_id == monument_id,
                                                    MonumentItem.item_id == item_id)).first()
        if link is None:
            link = MonumentItem(monument_id=monument_id, item_id=item_id, created_by=_id(work.actor))
            s.add(link)
        link.page_sequence, link.note = page_sequence, note
        s.flush()
        return link

    def attach_item(self, point_id: int, item_id: int | None, *, actor: Actor, action: str = GUIDE_ACTION
                    ) -> PointOfInterest:
        """Make point ``point_id`` open item ``item_id`` (None: no item), e.g. the inscription of the
        stele standing there. ``action``: the permission checked (one of :data:`LINK_ACTIONS`) in
        :meth:`attach_within`."""
        with self.work(actor) as work:
            return self.attach_within(work, point_id, item_id, action=action)

    def attach_within(self, work: Work, point_id: int, item_id: int | None, *, action: str = GUIDE_ACTION
                      ) -> PointOfInterest:
        """:meth:`attach_item` as part of a larger change (``work``, whose actor is checked here)."""
        require_permission(work.actor, _link_action(action))
        work.audit("guide_edit", record_type="guide", detail={"op": "attach_item", "point_id": point_id,
                                                              "item_id": item_id})
        s = work.session
        point = self._point(s, point_id)
        point.item_id = None if item_id is None else _existing_item(s, item_id)
        s.flush()
        return point

    def unlink_item(self, link_id: int, *, actor: Actor) -> None:
        require_permission(actor, GUIDE_ACTION)
        with self.work(actor) as work:
            work.audit("guide_edit", record_type="guide", detail={"op": "unlink_item", "link_id": link_id})
            s = work.session
            link = s.get(MonumentItem, link_id)
            if link is None:
                raise NotFound(f"no link {link_id}")
            s.delete(link)

    def linked_items(self, monument_id: int) -> list[RelatedItem]:
        with self.sessions() as s:
            rows = s.execute(select(MonumentItem, Item.title).join(Item, Item.id == MonumentItem.item_id)
                             .where(MonumentItem.monument_id == monument_id)
                             .order_by(Item.title, MonumentItem.id)).all()
        return [RelatedItem(link.item_id, title, link.page_sequence, link.note, None, link.id) for link, title in rows]

    def related_items(self, monument_id: int, *, actor: Actor, limit: int = FOUND_ITEMS) -> RelatedItems:
        """The curator's links, then the items whose text names the monument (best first, each with the
        page and the words around the name), unless the search engine is down. The items found by search
        are those ``actor`` may see (the curator's links are not filtered here)."""
        with self.sessions() as s:
            m = s.get(Monument, monument_id)
            if m is None:
                raise NotFound(f"no monument {monument_id}")
            names = [m.name_vi, m.name_en]
        linked = self.linked_items(monument_id)
        query = name_query(names)
        if not query:
            return RelatedItems(linked, [])
        try:
            page = self.search.search(query, actor=actor, kinds=("page",), per_page=50)
        except SearchOffline:
            return RelatedItems(linked, [], search_offline=True)
        except InputRejected:  # a name the query language cannot express: nothing to find by it
            return RelatedItems(linked, [])
        known = {r.item_id for r in linked}
        found: list[RelatedItem] = []
        for hit in page.hits:
            item_id = getattr(hit, "item_id", None)
            if item_id in known or not getattr(hit, "sequence", None):
                continue
            known.add(item_id)
            found.append(RelatedItem(item_id, hit.item_title, hit.sequence, None,
                                     hit.snippets[0] if hit.snippets else None))
            if len(found) >= limit:
                break
        return RelatedItems(linked, found)

    # ---------------------------------------------------------------- helpers
    @staticmethod
    def _model(s: Session, model_id: int) -> MonumentModel:
        model = s.get(MonumentModel, model_id)
        if model is None:
            raise NotFound(f"no model {model_id}")
        return model

    @staticmethod
    def _point(s: Session, point_id: int) -> PointOfInterest:
        poi = s.get(PointOfInterest, point_id)
        if poi is None:
            raise NotFound(f"no point of interest {point_id}")
        return poi


# ---------------------------------------------------------------- the name query
_NAME_SEPARATORS = re.compile(r"\s[–—-]\s|[,;:/()\[\]«»\"“”]")


def name_query(names: Iterable[str | None]) -> str:
    """A search query for any of a monument's names or their parts, each as a phrase:
    ``Văn Miếu – Quốc Tử Giám`` → ``"Văn Miếu Quốc Tử Giám" OR "Văn Miếu" OR "Quốc Tử Giám"``.
    A part of one short word is left out (it would match far too much)."""
    phrases: list[str] = []
    for name in names:
        if not name:
            continue
        parts = [name] + _NAME_SEPARATORS.split(name)
        for part in parts:
            part = " ".join(_NAME_SEPARATORS.sub(" ", part).split())
            if not part or (" " not in part and len(part) < MIN_NAME_CHARS):
                continue
            if part.casefold() not in (p.casefold() for p in phrases):
                phrases.append(part)
    return " OR ".join(f'"{p}"' for p in phrases[:8])


# ---------------------------------------------------------------- validation
def _existing_item(s: Session, item_id) -> int:
    """``item_id`` as a number of an item that exists; FieldRejected ("item") otherwise."""
    try:
        item_id = int(item_id)
    except (TypeError, ValueError):
        raise FieldRejected("item", "number", f"{str(item_id)[:40]!r} is not an item's number") from None
    if not 0 < item_id <= MAX_ID or s.get(Item, item_id) is None:
        raise FieldRejected("item", "item", f"there is no item {item_id}", item=item_id)
    return item_id


def _link_action(action: str) -> str:
    if action not in LINK_ACTIONS:
        raise ValueError(f"a guide's link is made under one of {', '.join(LINK_ACTIONS)}, not {action!r}")
    return action


def _id(actor: Actor) -> int | None:
    """The user to record as the author (none for the system)."""
    return actor.user.id if actor.user is not None else None


def _number(value, field_name: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise FieldRejected(field_name, "number", f"{str(value)[:40]!r} is not a number") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise FieldRejected(field_name, "range", f"{number:g} is outside {low:g} … {high:g}", low=low, high=high)
    return number


def _vector(values, field_name: str, limit: float) -> Vec3:
    try:
        x, y, z = values
    except (TypeError, ValueError):
        raise FieldRejected(field_name, "number", "three numbers (x, y, z) are needed") from None
    return (_number(x, f"{field_name}_x", -limit, limit), _number(y, f"{field_name}_y", -limit, limit),
            _number(z, f"{field_name}_z", -limit, limit))


def _order(value, field_name: str = "sequence") -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise FieldRejected(field_name, "number", f"{str(value)[:40]!r} is not a whole number") from None
    if not 1 <= number <= 10_000:
        raise FieldRejected(field_name, "range", f"{number} is outside 1 … 10000", low=1, high=10_000)
    return number


def _text(value, field_name: str, limit: int, *, required: bool = False, multiline: bool = False) -> str | None:
    """A label, title, caption or note: NFC, stripped, plain text (no markup, controls or formulas)."""
    from library.catalogue.text_values import validate_text_value

    try:
        clean = validate_text_value(value, field="description" if multiline else field_name, source=field_name,
                                    limit=limit)
    except InputRejected as exc:
        raise FieldRejected(field_name, "text", exc.problem.split(": ", 1)[-1]) from None
    if required and not clean:
        raise FieldRejected(field_name, "required", "a value is required")
    return clean


def _point_values(position, normal, label_vi, label_en, text_vi, text_en) -> dict:
    x, y, z = _vector(position, "position", MAX_COORDINATE_M)
    nx, ny, nz = _vector(normal, "normal", 1e6)
    length = math.sqrt(nx * nx + ny * ny + nz * nz)
    if length < 1e-9:
        raise FieldRejected("normal", "normal", "the normal (0, 0, 0) has no direction")
    return dict(x=x, y=y, z=z, normal_x=nx / length, normal_y=ny / length, normal_z=nz / length,
                label_vi=_text(label_vi, "label_vi", LABEL_CHARS, required=True),
                label_en=_text(label_en, "label_en", LABEL_CHARS),
                text_vi=_text(text_vi, "text_vi", TEXT_CHARS, multiline=True),
                text_en=_text(text_en, "text_en", TEXT_CHARS, multiline=True))


def _tour_values(title_vi, title_en) -> dict:
    return dict(title_vi=_text(title_vi, "title_vi", TITLE_CHARS, required=True),
                title_en=_text(title_en, "title_en", TITLE_CHARS))


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _place(lat, lon) -> dict:
    """A stop's place on the ground: both coordinates (WGS 84 degrees, finite, latitude −90 … 90, longitude
    −180 … 180) or neither (``lat`` and ``lon`` None)."""
    if _blank(lat) and _blank(lon):
        return dict(lat=None, lon=None)
    if _blank(lat) or _blank(lon):
        missing = "lat" if _blank(lat) else "lon"
        raise FieldRejected(missing, "pair", "give both the latitude and the longitude of the place, or neither")
    return dict(lat=_number(lat, "lat", -90.0, 90.0), lon=_number(lon, "lon", -180.0, 180.0))


def _stop_values(s: Session, tour: Tour, orbit, target, poi_id, fov, caption_vi, caption_en, dwell_s,
                 lat=None, lon=None) -> dict:
    try:
        theta, phi, radius = orbit
    except (TypeError, ValueError):
        raise FieldRejected("orbit", "number", "three numbers (theta°, phi°, radius m) are needed") from None
    values = dict(orbit_theta_deg=_number(theta, "orbit_theta_deg", -360.0, 360.0),
                  orbit_phi_deg=_number(phi, "orbit_phi_deg", 0.0, 180.0),
                  orbit_radius_m=_number(radius, "orbit_radius_m", 0.01, MAX_RADIUS_M),
                  field_of_view_deg=_number(fov, "field_of_view_deg", *FIELD_OF_VIEW_DEG),
                  dwell_s=_number(dwell_s, "dwell_s", *DWELL_S),
                  caption_vi=_text(caption_vi, "caption_vi", TEXT_CHARS, multiline=True),
                  caption_en=_text(caption_en, "caption_en", TEXT_CHARS, multiline=True), poi_id=None,
                  **_place(lat, lon))
    poi = None
    if poi_id is not None:
        try:
            poi = s.get(PointOfInterest, int(poi_id)) if 0 < int(poi_id) <= MAX_ID else None
        except (TypeError, ValueError):
            raise FieldRejected("poi", "number", f"{str(poi_id)[:40]!r} is not a point's number") from None
        if poi is None or poi.model_id != tour.model_id:
            raise FieldRejected("poi", "model", f"point {poi_id} is not on this tour's model", poi=poi_id)
        values["poi_id"] = poi.id
    if target is None:
        if poi is None:
            raise FieldRejected("target", "required", "give the point the camera looks at, or a point of interest")
        target = (poi.x, poi.y, poi.z)
    values["target_x"], values["target_y"], values["target_z"] = _vector(target, "target", MAX_COORDINATE_M)
    return values
