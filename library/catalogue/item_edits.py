"""Items after ingest: edit the record (every previous value kept), read pages again with other OCR
settings (never overwriting a manual correction without the corrector's consent).

Each change goes through the unit of work (commit, then search, then tasks) with an explicit actor,
and through :func:`library.access.require_permission`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from library.catalogue.item_metadata import _FIELD_BY_HEADER, ItemMetadata, validate_metadata
from library.catalogue.vocabularies import _fold, parse_languages
from library.access import Actor, require_permission
from library.errors import Conflict, InputRejected, NotFound
from library.catalogue.models import Collection, Item, ItemChange, ItemStatus, ItemType, Page, PageStatus, utcnow
from library.queue import OCR_PAGE
from library.settings import Settings
from library.unit_of_work import UnitOfWork, Work

# the record's fields a librarian edits, as validate_metadata names them, and how each is read back
EDITABLE = ("title", "creator", "date", "publisher", "languages", "item_type", "subject", "identifier", "rights",
            "serial_title", "issue_date", "issue_number", "description")
# the catalogue columns an edit may change (what is compared and kept in the history)
COLUMNS = ("title", "creator", "date_text", "date_iso", "year_start", "year_end", "date_approximate", "publisher",
           "languages", "item_type", "subject", "identifier", "rights", "description", "serial_title",
           "issue_date_text", "issue_date", "issue_number")
# OCR settings a re-read may change (digitize.OcrOptions fields kept with the item)
MAX_WAITING_SHOWN = 100  # waiting machine readings listed on the staff item page
REREAD_OPTIONS = ("psm", "stages_off", "binarize", "target_dpi", "detect_orientation")


def current_fields(item: Item) -> dict[str, str]:
    """The item's record as the fields a form shows (what validate_metadata reads)."""
    return {
        "title": item.title, "creator": item.creator or "", "date": item.date_text or "",
        "publisher": item.publisher or "", "languages": item.languages or "",
        "item_type": item.item_type.value if item.item_type else "", "subject": item.subject or "",
        "identifier": item.identifier or "", "rights": item.rights or "", "serial_title": item.serial_title or "",
        "issue_date": item.issue_date_text or "", "issue_number": item.issue_number or "",
        "description": item.description or "",
    }


def columns_of(meta: ItemMetadata) -> dict[str, object]:
    """The catalogue columns for checked metadata (the same as ingest writes)."""
    d, issue = meta.date, meta.issue_date
    return {
        "title": meta.title, "creator": meta.creator, "publisher": meta.publisher, "languages": meta.languages,
        "item_type": ItemType(meta.item_type), "subject": meta.subject, "identifier": meta.identifier,
        "rights": meta.rights, "description": meta.description, "serial_title": meta.serial_title,
        "issue_number": meta.issue_number,
        "date_text": d.text if d else None, "date_iso": d.iso if d else None,
        "year_start": d.year_start if d else None, "year_end": d.year_end if d else None,
        "date_approximate": bool(d and d.approximate),
        "issue_date_text": issue.text if issue else None,
        "issue_date": date.fromisoformat(issue.iso) if issue and issue.iso and len(issue.iso) == 10 else None,
    }


def _plain(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, ItemType):
        return value.value
    return value


@dataclass(frozen=True)
class Change:
    metadata_revision: int
    kind: str
    changes: dict[str, list]
    actor: str
    changed_at: datetime


class ItemEditor:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session], work: UnitOfWork):
        self.settings, self.sessions, self.work = settings, sessions, work

    # ------------------------------------------------------------ the record
    def edit(self, actor: Actor, item_id: int, fields: dict[str, str], *, expected_revision: int | None = None
             ) -> Item:
        """Change some fields of the record (``{"title": …, "date": "1930"}``; ``""`` clears a field).

        The whole record is checked again as at ingest; a field that breaks a rule is refused naming it
        and nothing changes. ``expected_revision`` is the metadata revision the editor started from:
        if someone else edited the item since, the edit is refused (never silently lost)."""
        require_permission(actor, "edit_item")
        unknown = [k for k in fields if _FIELD_BY_HEADER.get(_fold(str(k))) not in EDITABLE]
        if unknown:
            raise InputRejected(str(unknown[0]), f"{unknown[0]!r} is not a field that can be edited here; "
                                                 f"fields: {', '.join(EDITABLE)}")
        with self.work(actor) as work:
            s = work.session
            item = s.get(Item, item_id, with_for_update=True)
            if item is None:
                raise NotFound(f"no item {item_id}")
            if expected_revision is not None and item.metadata_revision != expected_revision:
                raise Conflict(f"item {item_id} was edited by someone else since you opened it (revision "
                               f"{item.metadata_revision}, yours {expected_revision}); reload it and edit again")
            merged = current_fields(item)
            for key, value in fields.items():
                merged[_FIELD_BY_HEADER[_fold(str(key))]] = "" if value is None else str(value)
            merged = {k: v for k, v in merged.items() if v != ""}
            meta, problems = validate_metadata(merged, source=f"item {item_id}", limits=self.settings.limits,
                                               default_languages=self.settings.default_languages)
            if problems:
                raise problems[0]
            new = columns_of(meta)
            diff = {c: [_plain(getattr(item, c)), _plain(v)] for c, v in new.items() if getattr(item, c) != v}
            if not diff:
                return item
            for column in diff:
                setattr(item, column, new[column])
            item.record_changed_at = utcnow()  # the OAI-PMH datestamp: harvesters fetch the record again
            self._record(work, item, "metadata", diff, "item_edit")
            # page documents carry the item's record: they follow it to the index
            s.execute(update(Page).where(Page.item_id == item_id, Page.status == PageStatus.done)
                      .values(index_pending=True, revision=Page.revision + 1))
            work.index()
        return self.item(item_id)

    def history(self, item_id: int) -> list[Change]:
        with self.sessions() as s:
            rows = s.scalars(select(ItemChange).where(ItemChange.item_id == item_id).order_by(ItemChange.id))
            return [Change(r.metadata_revision, r.kind, json.loads(r.changes), r.actor, r.changed_at) for r in rows]

    def waiting_readings(self, item_id: int) -> list[tuple[int, int]]:
        """``(page id, sequence)`` of the item's pages whose new machine reading waits for a corrector
        (the page has manual corrections), in page order: the first ``MAX_WAITING_SHOWN``."""
        with self.sessions() as s:
            return [tuple(row) for row in s.execute(
                select(Page.id, Page.sequence).where(Page.item_id == item_id, Page.pending_ocr_version.is_not(None))
                .order_by(Page.sequence).limit(MAX_WAITING_SHOWN))]

    def item(self, item_id: int) -> Item:
        from sqlalchemy.orm import selectinload

        with self.sessions() as s:
            item = s.scalars(select(Item).where(Item.id == item_id).options(selectinload(Item.collection))).first()
            if item is None:
                raise NotFound(f"no item {item_id}")
            return item

    @staticmethod
    def _record(work: Work, item: Item, kind: str, changes: dict, action: str) -> None:
        """Keep the change in the item's history (``kind``) and in the audit trail (``action``)."""
        s, actor = work.session, work.actor
        item.metadata_revision = (item.metadata_revision or 1) + 1
        item.revision = (item.revision or 0) + 1
        item.index_pending = True
        s.add(ItemChange(item_id=item.id, metadata_revision=item.metadata_revision, kind=kind,
                         changes=json.dumps(changes, ensure_ascii=False, sort_keys=True), actor=actor.label,
                         changed_by=actor.user.id if actor.user is not None else None, changed_at=utcnow()))
        work.audit(action, record_type="item", record_id=item.id, detail=changes)

    # ------------------------------------------------------------ reading again
    def reread(self, actor: Actor, *, item_id: int | None = None, collection_id: int | None = None,
               pages: list[int] | None = None, languages: str | None = None, **ocr: object) -> list[int]:
        """Read an item's pages (``pages``: their sequence numbers; all by default), or every item of a
        collection, again — with other languages and OCR settings (``psm``, ``stages_off``, ``binarize``,
        ``target_dpi``, ``detect_orientation``) kept with the item for good. Pages being read now are
        left alone. A page with manual corrections keeps them: its new machine reading waits on the
        correction page until the corrector accepts it. Returns the ids of the pages queued."""
        from library.ingest.service import _check_ocr_options, _missing_language_model

        require_permission(actor, "reread")
        if (item_id is None) == (collection_id is None):
            raise InputRejected("reread", "name one item or one collection to read again")
        if pages and collection_id is not None:
            raise InputRejected("page", "pages are numbered within one item: name the item")
        unknown = sorted(set(ocr) - set(REREAD_OPTIONS))
        if unknown:
            raise InputRejected(unknown[0], f"unknown OCR setting; settings: {', '.join(REREAD_OPTIONS)}")
        if languages is not None:
            try:
                languages = parse_languages(languages)
            except ValueError as exc:
                raise InputRejected("language", str(exc)) from None
            problem = _missing_language_model(languages)
            if problem:
                raise InputRejected("language", problem)
        options = _check_ocr_options({k: v for k, v in ocr.items() if v is not None}, "OCR settings")
        with self.work(actor) as work:
            s = work.session
            if collection_id is not None:
                if s.get(Collection, collection_id) is None:
                    raise NotFound(f"no collection {collection_id}")
                item_ids = list(s.scalars(select(Item.id).where(Item.collection_id == collection_id)
                                          .order_by(Item.id)))
            else:
                if s.get(Item, item_id) is None:
                    raise NotFound(f"no item {item_id}")
                item_ids = [item_id]
            queued: list[int] = []
            for iid in item_ids:
                item = s.get(Item, iid, with_for_update=True)
                q = select(Page).where(Page.item_id == iid).order_by(Page.sequence)
                chosen = list(s.scalars(q))
                if pages:
                    have = {p.sequence for p in chosen}
                    missing = sorted(set(pages) - have)
                    if missing:
                        raise InputRejected("page", f"item {iid} has no page {missing[0]} "
                                                    f"(it has pages 1–{max(have) if have else 0})")
                    chosen = [p for p in chosen if p.sequence in set(pages)]
                chosen = [p for p in chosen if p.status != PageStatus.running]
                before = {"languages": item.languages, "ocr_options": item.ocr_options}
                if languages is not None:
                    item.languages = languages
                if options:
                    kept = json.loads(item.ocr_options) if item.ocr_options else {}
                    kept.update(options)
                    item.ocr_options = json.dumps(kept, sort_keys=True)
                after = {"languages": item.languages, "ocr_options": item.ocr_options}
                changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
                changes["pages"] = [None, [p.sequence for p in chosen]]
                if "languages" in changes:  # part of the public record (OAI-PMH datestamp)
                    item.record_changed_at = utcnow()
                self._record(work, item, "reread", changes, "reread")
                for p in chosen:
                    p.status, p.status_reason, p.lease_token, p.queued_at = (
                        PageStatus.queued, "read again with new settings", None, None)
                    work.send(OCR_PAGE, p.id)
                    queued.append(p.id)
                if chosen:
                    item.status, item.status_reason, item.finished_at = ItemStatus.processing, None, None
        sent = work.accepted_ids(OCR_PAGE)  # a task the broker did not take is sent again by the sweeper
        if sent:
            with self.sessions.begin() as s:
                s.execute(update(Page).where(Page.id.in_(sent), Page.status == PageStatus.queued)
                          .values(queued_at=utcnow()))
        return queued
