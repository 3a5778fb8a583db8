"""Setting who may see what: an item's or a collection's access level, an item's embargo (until a day,
then another level), its "do not OCR / do not index" flags, withdrawing an item (with a reason) and
restoring it; and lifting the embargoes whose day has come (the sweeper).

Only librarians, admins and the system (the command line, the sweeper) may; every input is checked
before anything changes (:class:`InputRejected` names the field). Each change bumps the item's
``revision`` and marks it and its pages ``index_pending`` in the same transaction, then the unit of
work sends them to the search index right after the commit, so search follows at once. What an access
state *means* is decided in :mod:`library.access` alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from library.access import Access, Actor, parse_level, require_permission
from library.errors import Conflict, InputRejected, NotFound
from library.catalogue.models import AccessLevel, Collection, Item, Page, utcnow
from library.unit_of_work import UnitOfWork

MAX_REASON_CHARS = 2000


@dataclass(frozen=True)
class AccessChange:
    """What a change did: the items it touched and the state it left them in."""

    item_ids: list[int]
    level: AccessLevel | None = None
    embargo_until: date | None = None
    embargo_then: AccessLevel | None = None
    withdrawn: bool | None = None
    flags: dict[str, bool] = field(default_factory=dict)

    def describe(self) -> str:
        parts = []
        if self.level is not None:
            parts.append(f"access {self.level.value}")
        if self.embargo_until is not None:
            parts.append(f"embargoed until {self.embargo_until.isoformat()}, then {self.embargo_then.value}")
        if self.withdrawn is True:
            parts.append("withdrawn")
        elif self.withdrawn is False:
            parts.append("restored")
        parts += [f"{name.replace('_', '-')} {'on' if on else 'off'}" for name, on in self.flags.items()]
        return ", ".join(parts) or "unchanged"


def parse_day(value: str | date | None, field_name: str) -> date | None:
    """``YYYY-MM-DD`` (or a date) → the date; ``None`` or empty stays ``None``."""
    if value is None or isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputRejected(field_name, f"{text[:40]!r} is not a date: use YYYY-MM-DD") from None


class AccessAdmin:
    def __init__(self, sessions: sessionmaker[Session], access: Access, work: UnitOfWork):
        self.sessions = sessions
        self.access = access
        self.work = work

    # ------------------------------------------------------------ items
    def set_item_access(self, actor: Actor, item_id: int, level: str | AccessLevel, *,
                        embargo_until: str | date | None = None, then: str | AccessLevel | None = None,
                        do_not_ocr: bool | None = None, do_not_index: bool | None = None) -> AccessChange:
        """Set the item's level; with ``embargo_until`` (a day after today) ``then`` is the level from that
        day on. Without an embargo any earlier embargo is cleared. Flags left ``None`` stay as they are."""
        require_permission(actor, "set_access")
        new_level = parse_level(level, "level")
        until = parse_day(embargo_until, "embargo_until")
        after = parse_level(then, "then") if then not in (None, "") else None
        if until is not None:
            if until <= self.access.today():
                raise InputRejected("embargo_until", f"{until.isoformat()} is not after today "
                                                     f"({self.access.today().isoformat()}): an embargo ends later")
            if after is None:
                raise InputRejected("then", "an embargo needs the level that applies after it (--then LEVEL)")
        elif after is not None:
            raise InputRejected("embargo_until", "--then needs an embargo date (--embargo-until YYYY-MM-DD)")
        flags = {k: bool(v) for k, v in (("do_not_ocr", do_not_ocr), ("do_not_index", do_not_index))
                 if v is not None}
        with self.work(actor) as work:
            item = self._item(work.session, item_id)
            before = _access_of(item)
            item.access_level = new_level
            item.embargo_until, item.embargo_then = until, after
            item.record_changed_at = self.access.clock()  # OAI-PMH: harvesters see it again (or as deleted)
            for name, on in flags.items():
                setattr(item, name, on)
            _mark_for_index(work.session, [item])
            work.index()
            work.audit("item_access", record_id=item_id, detail=_changes(before, _access_of(item)))
        return AccessChange([item_id], new_level, until, after, flags=flags)

    def set_flags(self, actor: Actor, item_id: int, *, do_not_ocr: bool | None = None,
                  do_not_index: bool | None = None) -> AccessChange:
        """The "do not OCR" and "do not index" flags of sensitive material (``None``: unchanged)."""
        require_permission(actor, "set_access")
        flags = {k: bool(v) for k, v in (("do_not_ocr", do_not_ocr), ("do_not_index", do_not_index))
                 if v is not None}
        if not flags:
            raise InputRejected("flags", "nothing to change: give do_not_ocr or do_not_index")
        with self.work(actor) as work:
            item = self._item(work.session, item_id)
            before = _access_of(item)
            for name, on in flags.items():
                setattr(item, name, on)
            _mark_for_index(work.session, [item])
            work.index()
            work.audit("item_flags", record_id=item_id, detail=_changes(before, _access_of(item)))
        return AccessChange([item_id], flags=flags)

    def withdraw(self, actor: Actor, item_id: int, reason: str | None) -> AccessChange:
        """Withdraw the item: readers get 410 with ``reason``; staff still see it; :meth:`restore` undoes."""
        require_permission(actor, "withdraw")
        text = " ".join((reason or "").split())
        if not text:
            raise InputRejected("reason", "say why the item is withdrawn (readers see the reason)")
        if len(text) > MAX_REASON_CHARS:
            raise InputRejected("reason", f"{len(text)} characters long; at most {MAX_REASON_CHARS}")
        with self.work(actor) as work:
            item = self._item(work.session, item_id)
            if item.withdrawn_at is not None:
                raise Conflict(f"item {item_id} is already withdrawn ({item.withdrawn_reason}); restore it first")
            item.withdrawn_at, item.withdrawn_reason = utcnow(), text
            item.record_changed_at = self.access.clock()
            _mark_for_index(work.session, [item])
            work.index()
            work.audit("withdraw", record_id=item_id, detail={"reason": text})
        return AccessChange([item_id], withdrawn=True)

    def restore(self, actor: Actor, item_id: int) -> AccessChange:
        require_permission(actor, "withdraw")
        with self.work(actor) as work:
            item = self._item(work.session, item_id)
            if item.withdrawn_at is None:
                raise Conflict(f"item {item_id} is not withdrawn: nothing to restore")
            reason = item.withdrawn_reason
            item.withdrawn_at, item.withdrawn_reason = None, None
            item.record_changed_at = self.access.clock()
            _mark_for_index(work.session, [item])
            work.index()
            work.audit("restore", record_id=item_id, detail={"withdrawn_reason": reason})
        return AccessChange([item_id], withdrawn=False)

    # ------------------------------------------------------------ collections
    def set_collection_access(self, actor: Actor, collection: int | str, level: str | AccessLevel) -> AccessChange:
        """Set a collection's level (its id, slug or name); every item of it is at least this restricted."""
        require_permission(actor, "set_access")
        new_level = parse_level(level, "level")
        with self.work(actor) as work:
            coll = self._collection(work.session, collection)
            work.audit("collection_access", record_id=coll.id,
                       detail={"access_level": [coll.access_level.value, new_level.value]})
            coll.access_level = new_level
            items = list(work.session.scalars(select(Item).where(Item.collection_id == coll.id)))
            now = self.access.clock()
            for item in items:
                item.record_changed_at = now
            _mark_for_index(work.session, items)
            work.index()
        return AccessChange([i.id for i in items], new_level)

    # ------------------------------------------------------------ the sweeper
    def lift_embargoes(self, actor: Actor) -> list[int]:
        """Items whose embargo day has come take the level set to follow it; the embargo is cleared and
        search told. Returns their ids (none most days). Safe to run at any time, from any process."""
        require_permission(actor, "set_access")
        today = self.access.today()
        with self.work(actor) as work:
            items = list(work.session.scalars(select(Item).where(
                Item.embargo_until.is_not(None), Item.embargo_until <= today).with_for_update()))
            for item in items:
                work.audit("embargo_lifted", record_id=item.id,
                           detail={"access_level": [item.access_level.value,
                                                    (item.embargo_then or item.access_level).value],
                                   "embargo_until": item.embargo_until.isoformat()})
                if item.embargo_then is not None:
                    item.access_level = item.embargo_then
                item.embargo_until, item.embargo_then = None, None
                item.record_changed_at = self.access.clock()
            _mark_for_index(work.session, items)
            if items:
                work.index()
        return [i.id for i in items]

    # ------------------------------------------------------------ look-ups
    @staticmethod
    def _item(s: Session, item_id: int) -> Item:
        item = s.get(Item, int(item_id)) if 0 < int(item_id) <= 2**31 - 1 else None
        if item is None:
            raise NotFound(f"no item {item_id}")
        return item

    @staticmethod
    def _collection(s: Session, ref: int | str) -> Collection:
        text = str(ref).strip()
        coll = None
        if text.isdigit() and 0 < int(text) <= 2**31 - 1:
            coll = s.get(Collection, int(text))
        if coll is None:
            coll = s.scalars(select(Collection).where((Collection.slug == text) | (Collection.name == text))).first()
        if coll is None:
            raise NotFound(f"no collection {text!r} (give its id, slug or name)")
        return coll


def _mark_for_index(s: Session, items: list[Item]) -> None:
    """The items (and their pages, whose search documents carry the item's access) go to the index again."""
    for item in items:
        item.revision = (item.revision or 0) + 1
        item.index_pending = True
    ids = [i.id for i in items]
    if ids:
        s.execute(update(Page).where(Page.item_id.in_(ids)).values(index_pending=True))


def _access_of(item: Item) -> dict:
    return {"access_level": item.access_level.value if item.access_level else None,
            "embargo_until": item.embargo_until.isoformat() if item.embargo_until else None,
            "embargo_then": item.embargo_then.value if item.embargo_then else None,
            "do_not_ocr": bool(item.do_not_ocr), "do_not_index": bool(item.do_not_index)}


def _changes(before: dict, after: dict) -> dict:
    """``{field: [before, after]}`` for the fields that changed."""
    return {k: [before[k], after[k]] for k in before if before[k] != after[k]}
