"""Who may see what: the one place that decides access to items and their content.

Every route, service and export that shows an item's record, images or text asks :func:`decide`
(or :func:`require_item`) with an explicit :class:`Actor`; search asks :func:`levels_seen_by` for the
levels it may return. No code elsewhere compares access levels, embargo dates or withdrawal.

Levels are ordered: ``public`` < ``reading-room`` < ``staff``. An item's effective level is the
narrowest of its own level (or, once its embargo date has come, the level set to follow the embargo)
and its collection's level. Who sees a level:

- ``public``: everyone;
- ``reading-room``: requests from the configured address ranges (``HERITAGE_READING_ROOM``) and staff;
- ``staff``: signed-in staff (every role) and the system (workers, the sweeper, the command line).

A withdrawn item answers 410 to everyone but staff. What is refused answers 404, as if the item did
not exist, unless the ``restricted_metadata`` setting is ``shown``: then its catalogue record is shown
and its content answers 403.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Callable, Iterable

from sqlalchemy import and_, false, not_, or_, select, true
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import ColumnElement

from library.errors import InputRejected
from library.catalogue.models import AccessLevel, Collection, Item, Page, Role, User

RANK = {AccessLevel.public: 0, AccessLevel.reading_room: 1, AccessLevel.staff: 2}

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


def parse_level(value: str | AccessLevel, field: str = "access") -> AccessLevel:
    """``public``, ``reading-room`` (or ``reading_room``), ``staff`` → the level; anything else is refused."""
    if isinstance(value, AccessLevel):
        return value
    text = str(value).strip().lower().replace("_", "-")
    try:
        return AccessLevel(text)
    except ValueError:
        raise InputRejected(field, f"{value!r} is not an access level: use one of "
                                   f"{', '.join(level.value for level in AccessLevel)}") from None


def narrowest(*levels: AccessLevel | None) -> AccessLevel:
    present = [level for level in levels if level is not None]
    return max(present, key=RANK.__getitem__) if present else AccessLevel.public


# ---------------------------------------------------------------- who asks

@dataclass(frozen=True)
class Actor:
    """Who asks, explicitly: a signed-in user, an anonymous reader (with the address the request came
    from, which decides the reading room), or the system itself (a worker, the sweeper, the command line
    run by the machine's operator), named for the audit trail.

    Build one with :meth:`anonymous`, :meth:`for_user` or :meth:`system`; never pass ``None``."""

    user: User | None = None
    address: str | None = None
    in_reading_room: bool = False
    system_name: str | None = None

    @classmethod
    def anonymous(cls, address: str | None = None, *, reading_room: "ReadingRoom | None" = None) -> "Actor":
        return cls(address=address, in_reading_room=bool(reading_room and reading_room.contains(address)))

    @classmethod
    def for_user(cls, user: User | None, address: str | None = None, *,
                 reading_room: "ReadingRoom | None" = None) -> "Actor":
        """A signed-in user (an inactive account counts as anonymous); ``None`` gives an anonymous actor."""
        if user is None or not user.active:
            return cls.anonymous(address, reading_room=reading_room)
        return cls(user=user, address=address,
                   in_reading_room=bool(reading_room and reading_room.contains(address)))

    @classmethod
    def system(cls, name: str) -> "Actor":
        if not name:
            raise ValueError("a system actor needs a name (worker, sweeper, cli…)")
        return cls(system_name=name)

    @property
    def is_staff(self) -> bool:
        return self.system_name is not None or self.user is not None

    @property
    def label(self) -> str:
        if self.system_name:
            return f"system:{self.system_name}"
        if self.user is not None:
            return f"user:{self.user.username}"
        return f"anonymous:{self.address or '?'}"


class ReadingRoom:
    """The reading room's address ranges (``HERITAGE_READING_ROOM``: CIDRs or addresses, comma-separated)."""

    def __init__(self, ranges: str | Iterable[str] = ""):
        items = [r.strip() for r in (ranges.split(",") if isinstance(ranges, str) else ranges) if r.strip()]
        self.networks = []
        for r in items:
            try:
                self.networks.append(ipaddress.ip_network(r, strict=False))
            except ValueError:
                raise InputRejected("reading_room", f"{r!r} is not an address or an address range "
                                                    "(e.g. 10.12.0.0/16)") from None

    def contains(self, address: str | None) -> bool:
        if not address or not self.networks:
            return False
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip.version == net.version and ip in net for net in self.networks)


def levels_seen_by(actor: Actor) -> frozenset[AccessLevel]:
    """The levels whose items ``actor`` may read (search filters its results by these)."""
    if actor.is_staff:
        return frozenset(AccessLevel)
    if actor.in_reading_room:
        return frozenset({AccessLevel.public, AccessLevel.reading_room})
    return frozenset({AccessLevel.public})


# ---------------------------------------------------------------- what is asked for

def effective_level(item: Item, collection: Collection | None = None, *, today: date) -> AccessLevel:
    """The level that applies to ``item`` on ``today``: its own (or, from its embargo date on, the level
    set to follow the embargo), never wider than its collection's."""
    own = item.access_level or AccessLevel.public
    if item.embargo_until is not None and item.embargo_then is not None and today >= item.embargo_until:
        own = item.embargo_then
    if collection is None and item.collection_id is not None:
        collection = item.collection  # loaded with the item, or lazily in its session
    return narrowest(own, collection.access_level if collection is not None else None)


def visible_condition(actor: Actor, today: date) -> ColumnElement[bool]:
    """The SQL condition on :class:`Item` (and its collection) that :func:`decide` grants content for:
    lists (browse, the API, IIIF collections, monuments' items) filter with it, so the rule above is
    the only one. Staff see every item; others never see withdrawn ones. Deleted items are in no list,
    not even an admin's (an admin still opens one by its id: :func:`decide`)."""
    if actor.is_staff:
        return Item.deleted_at.is_(None)
    levels = sorted(levels_seen_by(actor), key=RANK.__getitem__)
    embargo_over = and_(Item.embargo_until.is_not(None), Item.embargo_then.is_not(None), Item.embargo_until <= today)
    own = or_(and_(embargo_over, Item.embargo_then.in_(levels)),
              and_(not_(embargo_over), Item.access_level.in_(levels)))
    collection = or_(Item.collection_id.is_(None),
                     Item.collection_id.in_(select(Collection.id).where(Collection.access_level.in_(levels))))
    return and_(Item.deleted_at.is_(None), Item.withdrawn_at.is_(None), own, collection)


def collection_visible_condition(actor: Actor) -> ColumnElement[bool]:
    """The SQL condition on :class:`Collection`: its own level is one ``actor`` sees (its items are then
    filtered one by one with :func:`visible_condition`)."""
    if actor.is_staff:
        return true()
    return Collection.access_level.in_(sorted(levels_seen_by(actor), key=RANK.__getitem__))


def load_item(session: Session, *, item_id: int | None = None, page_id: int | None = None) -> Item | None:
    """The item (with its collection) to decide on, by its id or by one of its pages' ids; ``None`` if
    there is no such item or page."""
    q = select(Item).options(selectinload(Item.collection))
    if page_id is not None:
        q = q.join(Page, Page.item_id == Item.id).where(Page.id == page_id)
    elif item_id is not None:
        q = q.where(Item.id == item_id)
    else:
        q = q.where(false())
    return session.scalars(q).first()


@dataclass(frozen=True)
class Decision:
    """What ``actor`` may do with one item: ``record`` (see its catalogue record), ``content`` (its
    images, text, downloads). ``status`` is the HTTP answer for what is refused (404, 403 or 410)."""

    record: bool
    content: bool
    status: int
    reason: str
    level: AccessLevel

    @property
    def refused(self) -> bool:
        return not self.content


def decide(actor: Actor, item: Item | None, *, collection: Collection | None = None, today: date,
           restricted_metadata: str = "hidden") -> Decision:
    """May ``actor`` see ``item``? The one decision every route and service follows."""
    if item is None:
        return Decision(False, False, 404, "no such item", AccessLevel.public)
    level = effective_level(item, collection, today=today)
    if item.deleted_at is not None and not may(actor, "delete_item"):  # deleted: gone, but for admins
        return Decision(False, False, 404, "no such item", level)
    if actor.is_staff:
        return Decision(True, True, 200, "staff", level)
    if item.withdrawn_at is not None:
        return Decision(False, False, 410, item.withdrawn_reason or "withdrawn", level)
    if level in levels_seen_by(actor):
        return Decision(True, True, 200, level.value, level)
    shown = restricted_metadata == "shown"
    reason = ("only in the reading room" if level == AccessLevel.reading_room else "staff only")
    if item.embargo_until is not None and today < item.embargo_until:
        reason += f" until {item.embargo_until.isoformat()}"
    return Decision(shown, False, 403 if shown else 404, reason, level)


class Refused(Exception):
    """An actor asked for what it may not see; ``status`` says how to answer (404, 403, 410)."""

    def __init__(self, decision: Decision):
        super().__init__(decision.reason)
        self.decision = decision
        self.status = decision.status


class Access:
    """The platform's access rules with its settings and clock (a settable clock in tests)."""

    def __init__(self, reading_room: str = "", restricted_metadata: str = "hidden", clock: Clock = system_clock):
        if restricted_metadata not in ("hidden", "shown"):
            raise InputRejected("restricted_metadata", f"{restricted_metadata!r}: use hidden or shown")
        self.reading_room = ReadingRoom(reading_room)
        self.restricted_metadata = restricted_metadata
        self.clock = clock

    @classmethod
    def from_settings(cls, settings, clock: Clock = system_clock) -> "Access":
        return cls(getattr(settings, "reading_room", ""), getattr(settings, "restricted_metadata", "hidden"), clock)

    def today(self) -> date:
        return self.clock().date()

    def actor(self, user: User | None, address: str | None) -> Actor:
        """The actor of a web request: its signed-in user (or none) and its client address."""
        return Actor.for_user(user, address, reading_room=self.reading_room)

    def decide(self, actor: Actor, item: Item | None, collection: Collection | None = None) -> Decision:
        return decide(actor, item, collection=collection, today=self.today(),
                      restricted_metadata=self.restricted_metadata)

    def require_record(self, actor: Actor, item: Item | None, collection: Collection | None = None) -> Decision:
        """The decision when ``actor`` may see the item's record; :class:`Refused` otherwise."""
        d = self.decide(actor, item, collection)
        if not d.record:
            raise Refused(d)
        return d

    def require_content(self, actor: Actor, item: Item | None, collection: Collection | None = None) -> Decision:
        """The decision when ``actor`` may read the item's images and text; :class:`Refused` otherwise."""
        d = self.decide(actor, item, collection)
        if not d.content:
            raise Refused(d)
        return d

    def levels(self, actor: Actor) -> frozenset[AccessLevel]:
        return levels_seen_by(actor)

    def visible(self, actor: Actor) -> ColumnElement[bool]:
        """:func:`visible_condition` for today (lists of items filter with it)."""
        return visible_condition(actor, self.today())

    def visible_collections(self, actor: Actor) -> ColumnElement[bool]:
        return collection_visible_condition(actor)

    def visible_level_of(self, item: Item, collection: Collection | None = None) -> AccessLevel:
        """The level to store with the item in the search index (withdrawn items are not indexed).

        The index keeps this level until the item is sent again, and an embargo's day may come between
        two sweeps: so while an embargo is set, the narrower of today's level and the level after it is
        stored. An item that opens on its day stays hidden from search until the sweeper lifts the
        embargo; one that closes is hidden already."""
        now = effective_level(item, collection, today=self.today())
        if item.embargo_until is not None and item.embargo_then is not None:
            return narrowest(now, item.embargo_then)
        return now


# ---------------------------------------------------------------- what staff may do

# Who may do what to the catalogue: one table, asked through :func:`require_permission` by every
# service with its explicit actor (system actors — the command line run by the machine's operator,
# workers, the sweeper — may do everything; anonymous readers nothing here).
PERMISSIONS: dict[str, frozenset[str]] = {
    "edit_item": frozenset({"librarian", "admin"}),
    "reread": frozenset({"librarian", "admin"}),
    "set_access": frozenset({"librarian", "admin"}),
    "withdraw": frozenset({"librarian", "admin"}),
    "delete_item": frozenset({"admin"}),
    "edit_collection": frozenset({"librarian", "admin"}),
    # ingest, OCR work, monuments and their 3D builds and guides (the message names the action)
    "upload_scans": frozenset({"librarian", "admin"}),
    "retry_ocr_work": frozenset({"librarian", "admin"}),
    "cancel_ocr_work": frozenset({"librarian", "admin"}),
    "manage_monuments": frozenset({"curator", "admin"}),
    "manage_3d_builds": frozenset({"curator", "admin"}),
    "edit_monument_guides": frozenset({"curator", "admin"}),
    # a stele's face on a monument's model published as a library item linked to the monument (#14)
    "publish_inscriptions": frozenset({"curator", "admin"}),
    # corrections, readers' feedback and accounts
    "correct_text": frozenset({"librarian", "admin"}),
    "moderate_feedback_on_items": frozenset({"librarian", "admin"}),
    "moderate_feedback_on_monuments": frozenset({"curator", "admin"}),
    "manage_accounts": frozenset({"admin"}),
    "view_audit": frozenset({"admin"}),  # the audit trail: read and export, never edit
}


def roles_for(action: str) -> frozenset[Role]:
    """The staff roles that may do ``action`` (for the portal's menus and route guards)."""
    if action not in PERMISSIONS:
        raise KeyError(f"unknown action {action!r}")
    return frozenset(Role(r) for r in PERMISSIONS[action])


def may(actor: Actor, action: str) -> bool:
    if action not in PERMISSIONS:
        raise KeyError(f"unknown action {action!r}")
    if actor.system_name is not None:
        return True
    return actor.user is not None and actor.user.active and actor.user.role.value in PERMISSIONS[action]


def require_permission(actor: Actor, action: str) -> None:
    """Raise :class:`library.errors.PermissionDenied` unless ``actor`` may do ``action``."""
    from library.errors import PermissionDenied

    if not isinstance(actor, Actor):
        raise TypeError("a permission check needs an explicit library.access.Actor")
    if not may(actor, action):
        who = (f"user {actor.user.username!r} ({actor.user.role.value})" if actor.user is not None
               else "an anonymous reader")
        raise PermissionDenied(f"{who} may not {action.replace('_', ' ')}")
