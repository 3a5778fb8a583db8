"""The audit trail: who did what to which record, when, from which address — append-only.

Every staff action is recorded once, inside the transaction that makes the change (``work.audit(…)``
in :mod:`library.unit_of_work`): a change that commits always has its record, one that rolls back has
none. Refused sign-ins, which change nothing, are recorded on their own (:meth:`AuditTrail.sign_in_refused`).
Reads are never recorded. The table refuses UPDATE and DELETE (triggers, migration 0013), so nothing in
the portal — nor a stray SQL statement — can edit the trail.

Lists page by id (newest first, ``before`` an id) with the indexes of migration 0013; the CSV export
streams in pages of :data:`PAGE_ROWS`, never the whole trail in memory.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from library.access import Actor
from library.catalogue.models import AuditEvent, User
from library.errors import InputRejected

PAGE_ROWS = 500
MAX_DETAIL_CHARS = 20_000

# every action the trail knows, by the kind of record it concerns (the portal names them in vi and en)
ACTIONS: dict[str, str] = {
    "sign_in": "user", "sign_in_refused": "user", "sign_out": "user",
    "user_create": "user", "user_role": "user", "user_deactivate": "user", "user_reactivate": "user",
    "user_password": "user",
    "ingest": "item", "item_edit": "item", "reread": "item", "item_access": "item", "item_flags": "item",
    "withdraw": "item", "restore": "item", "delete": "item",
    "page_order": "item", "page_rotate": "page", "page_replace": "page", "page_remove": "page", "page_add": "item",
    "correction": "page", "reading_accept": "page", "reading_reject": "page",
    "ocr_retry": "item", "ocr_cancel": "item",
    "collection_create": "collection", "collection_rename": "collection", "collection_describe": "collection",
    "collection_order": "collection", "collection_move": "collection", "collection_access": "collection",
    "monument_create": "monument", "monument_edit": "monument", "build_start": "build", "build_retry": "build",
    "build_cancel": "build", "build_publish": "build", "guide_edit": "monument",
    "feedback_answer": "feedback", "feedback_status": "feedback", "feedback_accept": "feedback",
    "embargo_lifted": "item",
}


def record(session: Session, actor: Actor, action: str, *, record_type: str | None = None,
           record_id: int | None = None, detail: dict | None = None, at: datetime | None = None) -> AuditEvent:
    """Add one event to ``session`` (its transaction commits or rolls back with the change)."""
    if not isinstance(actor, Actor):
        raise TypeError("an audit event needs an explicit library.access.Actor")
    if action not in ACTIONS:
        raise KeyError(f"unknown audit action {action!r}: add it to library.audit.ACTIONS")
    text = json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True) if detail else None
    if text and len(text) > MAX_DETAIL_CHARS:
        text = json.dumps({"truncated": text[:MAX_DETAIL_CHARS]}, ensure_ascii=False)
    event = AuditEvent(
        at=at or datetime.now(timezone.utc), actor=actor.label[:200],
        user_id=actor.user.id if actor.user is not None else None,
        role=(actor.user.role.value if actor.user is not None else ("system" if actor.system_name else None)),
        address=(actor.address or None) and actor.address[:64], action=action,
        record_type=record_type or ACTIONS[action], record_id=record_id, detail=text)
    session.add(event)
    return event


@dataclass(frozen=True)
class Filters:
    """What the trail is narrowed to; every field optional."""

    user: str | None = None  # a user name (as typed: normalised like sign-in)
    action: str | None = None
    record_type: str | None = None
    record_id: int | None = None
    since: date | None = None  # from this day on (UTC)
    until: date | None = None  # up to and including this day

    @classmethod
    def parse(cls, *, user: str | None = None, action: str | None = None, record: str | None = None,
              since: str | date | None = None, until: str | date | None = None) -> "Filters":
        """From what a person types: ``record`` as ``item:12`` (or ``item``), dates as YYYY-MM-DD."""
        action = (action or "").strip() or None
        if action is not None and action not in ACTIONS:
            raise InputRejected("action", f"{action!r} is not an action of the trail")
        record_type = record_id = None
        if record and record.strip():
            kind, _, number = record.strip().partition(":")
            if kind not in set(ACTIONS.values()):
                raise InputRejected("record", f"{record!r}: use item:12, page:3, collection:2, user:1 …")
            record_type = kind
            if number:
                if not number.isdigit() or len(number) > 12:
                    raise InputRejected("record", f"{record!r}: the number after ':' must be a record id")
                record_id = int(number)
        return cls(user=(user or "").strip() or None, action=action, record_type=record_type,
                   record_id=record_id, since=_day(since, "since"), until=_day(until, "until"))


def _day(value: str | date | None, field: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        day = date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputRejected(field, f"{value!r} is not a date (YYYY-MM-DD)") from None
    if not 1900 <= day.year <= 2200:
        raise InputRejected(field, f"{value!r} is out of range")
    return day


@dataclass(frozen=True)
class Event:
    id: int
    at: datetime
    actor: str
    role: str | None
    address: str | None
    action: str
    record_type: str | None
    record_id: int | None
    detail: dict | None

    def as_dict(self) -> dict:
        return {"id": self.id, "at": self.at.isoformat(), "actor": self.actor, "role": self.role,
                "address": self.address, "action": self.action, "record_type": self.record_type,
                "record_id": self.record_id, "detail": self.detail}


def _event(row: AuditEvent) -> Event:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=timezone.utc)
    return Event(row.id, at, row.actor, row.role, row.address, row.action, row.record_type, row.record_id,
                 json.loads(row.detail) if row.detail else None)


class AuditTrail:
    """Reading the trail (admins, ``heritage audit``) and the events that change nothing else."""

    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions

    def sign_in_refused(self, actor: Actor, username: str) -> None:
        """A refused sign-in (wrong name or password): nothing else changes, so it commits on its own."""
        with self.sessions.begin() as s:
            record(s, actor, "sign_in_refused", detail={"username": username[:100]})

    def sign_in(self, actor: Actor) -> None:
        with self.sessions.begin() as s:
            record(s, actor, "sign_in", record_id=actor.user.id if actor.user is not None else None)

    def sign_out(self, actor: Actor) -> None:
        with self.sessions.begin() as s:
            record(s, actor, "sign_out", record_id=actor.user.id if actor.user is not None else None)

    def events(self, filters: Filters = Filters(), *, before: int | None = None,
               limit: int = 100) -> list[Event]:
        """Newest first; the next page starts ``before`` the last id returned."""
        limit = max(1, min(int(limit), 1000))
        with self.sessions() as s:
            q = self._query(s, filters)
            if q is None:
                return []
            if before is not None:
                q = q.where(AuditEvent.id < before)
            return [_event(r) for r in s.scalars(q.order_by(AuditEvent.id.desc()).limit(limit))]

    def for_record(self, record_type: str, record_id: int, limit: int = 50) -> list[Event]:
        return self.events(Filters(record_type=record_type, record_id=record_id), limit=limit)

    def iter_events(self, filters: Filters = Filters()) -> Iterator[Event]:
        """Every matching event, oldest first, read :data:`PAGE_ROWS` at a time by id."""
        after = 0
        while True:
            with self.sessions() as s:
                q = self._query(s, filters)
                if q is None:
                    return
                rows = [_event(r) for r in s.scalars(q.where(AuditEvent.id > after)
                                                     .order_by(AuditEvent.id).limit(PAGE_ROWS))]
            yield from rows
            if len(rows) < PAGE_ROWS:
                return
            after = rows[-1].id

    def csv_lines(self, filters: Filters = Filters()) -> Iterator[str]:
        """The CSV export (UTF-8; the first line names the columns), one line at a time."""
        buf = io.StringIO()
        out = csv.writer(buf)
        columns = ["id", "at", "actor", "role", "address", "action", "record_type", "record_id", "detail"]
        out.writerow(columns)
        for e in self.iter_events(filters):
            d = e.as_dict()
            d["detail"] = json.dumps(e.detail, ensure_ascii=False, sort_keys=True) if e.detail else ""
            out.writerow([_cell(d[c]) for c in columns])
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
        if buf.getvalue():
            yield buf.getvalue()

    def _query(self, s: Session, f: Filters):
        q = select(AuditEvent)
        if f.user:
            from library.access.users import normalised_username

            name = normalised_username(f.user)
            user_id = s.scalar(select(User.id).where(User.username == name))
            if user_id is None:
                return None
            q = q.where(AuditEvent.user_id == user_id)
        if f.action:
            q = q.where(AuditEvent.action == f.action)
        if f.record_type:
            q = q.where(AuditEvent.record_type == f.record_type)
        if f.record_id is not None:
            q = q.where(AuditEvent.record_id == f.record_id)
        if f.since:
            q = q.where(AuditEvent.at >= datetime.combine(f.since, time(), timezone.utc))
        if f.until:
            q = q.where(AuditEvent.at < datetime.combine(f.until + timedelta(days=1), time(), timezone.utc))
        return q


def _cell(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
