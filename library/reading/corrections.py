"""Correcting a page's text line by line, beside its image, doubtful words first.

Every version is kept (``Transcription`` rows: the machine's readings and each
correction). A corrected line keeps its place on the page: its words get the
boxes of the words the machine read there when the count of words is the
same, and otherwise share the line's box in proportion to their length, so
search hits on corrected text are still boxed on the image. A later machine
reading never replaces a correction by itself: it waits until staff accept it.

Words read with less confidence than the threshold (:mod:`library.reading.confidence`)
are doubtful: the correction page marks them, and the correction queue lists
read pages by how many they hold. A word staff corrected, or confirmed as read
right, is sure from then on, so a page leaves the queue as it is checked.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from library import audit
from library.access import Actor, require_permission
from library.reading.confidence import SURE, is_doubtful, layout_doubtful
from library.errors import Conflict, InputRejected, NotFound
from library.ingest.filenames import describe_char, first_unsafe_char
from library.catalogue.models import (Feedback, FeedbackKind, FeedbackStatus, Item, Page, PageStatus,
                            Transcription, User)
from library.catalogue.page_text import set_page_text
from library.catalogue.page_layout import LayoutRegion, LayoutWord, PageLayout, count_words, decode
from library.reading.ocr_jobs import POSTCORRECTION_SOURCE, replace_layout
from library.settings import Settings

if TYPE_CHECKING:
    from library.unit_of_work import UnitOfWork

MAX_LINE_CHARS = 2_000


@dataclass(frozen=True)
class EditableLine:
    number: int  # 0-based, in reading order
    text: str
    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class ReviewWord:
    """A word of a line as the correction page shows it: ``start``/``end`` in the line's text
    (``end`` exclusive), the box in the page image's pixels, the confidence 0–100."""

    sequence: int  # among the page's words
    text: str
    start: int
    end: int
    confidence: float
    doubtful: bool
    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class ReviewLine(EditableLine):
    words: tuple[ReviewWord, ...] = ()

    @property
    def doubtful(self) -> int:
        return sum(1 for w in self.words if w.doubtful)

    def pieces(self) -> list[tuple[str, ReviewWord | None]]:
        """The line's text cut at its words: ``(text, word)`` for a word, ``(text, None)`` between them."""
        out, pos = [], 0
        for w in self.words:
            if w.start < pos or w.end > len(self.text):
                continue  # a word the line's text no longer holds where the layout says
            if w.start > pos:
                out.append((self.text[pos:w.start], None))
            out.append((self.text[w.start:w.end], w))
            pos = w.end
        if pos < len(self.text):
            out.append((self.text[pos:], None))
        return out


@dataclass(frozen=True)
class PageReview:
    """A page as the correction page shows it: its revision (send it back), lines with their words,
    and how many words are doubtful under ``threshold``."""

    page_id: int
    revision: int
    lines: list[ReviewLine]
    threshold: float

    @property
    def doubtful(self) -> int:
        return sum(ln.doubtful for ln in self.lines)

    @property
    def words(self) -> int:
        return sum(len(ln.words) for ln in self.lines)


@dataclass(frozen=True)
class DoubtfulPage:
    """A read page in the correction queue."""

    page_id: int
    item_id: int
    item_title: str
    sequence: int
    doubtful: int  # words below the threshold
    words: int  # words on the page
    mean_confidence: float | None
    corrected: bool
    reports: int  # readers' text error reports waiting (not yet put into the text)

    @property
    def share(self) -> float:
        """Doubtful words as a share of the page's words, 0–1."""
        return self.doubtful / self.words if self.words else 0.0


@dataclass(frozen=True)
class CorrectionQueue:
    entries: list[DoubtfulPage]
    total: int  # read pages with at least one doubtful word (in the chosen item)
    threshold: float


@dataclass(frozen=True)
class Version:
    version: int
    source: str  # "ocr" | "auto" (post-correction) | "manual"
    created_at: object
    created_by: int | None
    note: str | None
    pending: bool
    author: str = ""  # who made it: a user name, or "machine" / "post-correction" for the machine's own
    warnings: tuple[str, ...] = ()  # a machine reading's: why it may be poor or partial


MACHINE_AUTHORS = {"ocr": "machine", POSTCORRECTION_SOURCE: "post-correction"}


class CorrectionService:
    def __init__(self, sessions: sessionmaker[Session], *, low_confidence: float = Settings.low_confidence,
                 work: "UnitOfWork | None" = None):
        self.sessions = sessions
        self.low_confidence = low_confidence  # HERITAGE_LOW_CONFIDENCE: below it a word is doubtful
        # corrections commit through the unit of work, so search finds the corrected text at once
        # (without it, e.g. in a bare service, the indexer's next flush sends them)
        self.work = work

    def _change(self, actor: Actor):
        """The transaction of one correction by ``actor``: the unit of work (commit, then search) when
        there is one."""
        import contextlib

        if self.work is None:
            @contextlib.contextmanager
            def plain():
                with self.sessions.begin() as s:
                    yield s
            return plain()

        @contextlib.contextmanager
        def unit():
            with self.work(actor) as work:
                yield work.session
                work.index()
        return unit()

    def lines(self, page_id: int) -> tuple[int, list[EditableLine]]:
        """The page's revision (send it back with a correction) and its lines as they read now."""
        with self.sessions() as s:
            page = self._page(s, page_id)
            regions = _lines(_layout(page))
            text = page.text or ""
            return page.revision, [EditableLine(n, text[r.char_start:r.char_end], r.x, r.y, r.w, r.h)
                                   for n, r in enumerate(regions)]

    def review(self, page_id: int) -> PageReview:
        """The page's lines with their words and confidences, doubtful words flagged."""
        with self.sessions() as s:
            page = self._page(s, page_id)
            layout = _layout(page)
            regions, words = _lines(layout), layout.words
            text = page.text or ""
            by_line = _words_by_line(regions, words)
            lines = []
            for n, r in enumerate(regions):
                found = tuple(ReviewWord(w.sequence, w.text, w.char_start - r.char_start, w.char_end - r.char_start,
                                         w.confidence, is_doubtful(w.confidence, self.low_confidence),
                                         w.x, w.y, w.w, w.h)
                              for w in by_line.get(n, []))
                lines.append(ReviewLine(n, text[r.char_start:r.char_end], r.x, r.y, r.w, r.h, words=found))
            return PageReview(page_id, page.revision, lines, self.low_confidence)

    def queue(self, *, limit: int = 30, offset: int = 0, item_id: int | None = None) -> CorrectionQueue:
        """Read pages with doubtful words, the most first (then the newest page): one page of the
        queue, read through ``ix_pages_review_queue`` (never every page)."""
        limit, offset = max(1, min(int(limit), 200)), max(0, int(offset))
        waiting = (Page.status == PageStatus.done, Page.low_confidence_words > 0)
        scope = (Page.item_id == item_id,) if item_id is not None else ()
        with self.sessions() as s:
            if item_id is not None and s.get(Item, item_id) is None:
                raise NotFound(f"no item {item_id}")
            total = s.scalar(select(func.count()).select_from(Page).where(*waiting, *scope)) or 0
            rows = s.execute(queue_select().where(*scope).limit(limit).offset(offset)).all()
            ids = [r.id for r in rows]
            words = {pid: count_words(blob) for pid, blob in s.execute(
                select(Page.id, Page.layout).where(Page.id.in_(ids))).all()} if ids else {}
            reports = dict(s.execute(select(Feedback.page_id, func.count()).where(
                Feedback.page_id.in_(ids), Feedback.kind == FeedbackKind.text_error,
                Feedback.status != FeedbackStatus.hidden, Feedback.applied_version.is_(None))
                .group_by(Feedback.page_id)).all()) if ids else {}
        entries = [DoubtfulPage(r.id, r.item_id, r.title, r.sequence, r.low_confidence_words, words.get(r.id, 0),
                                r.mean_confidence, r.corrected, reports.get(r.id, 0)) for r in rows]
        return CorrectionQueue(entries, total, self.low_confidence)

    def correct(self, actor: Actor, page_id: int, changes: dict[int, str], *, revision: int,
                note: str | None = None, confirmed: Iterable[int] = ()) -> int:
        """Replace the text of some lines (``{line number: new text}``); returns the new version number.
        ``revision`` is the one the editor started from: if the page changed since, nothing is saved.
        ``confirmed`` lines were checked and read right as they are: their words become sure
        (they leave the count of doubtful words) without a new version of the text. Only an actor who
        may ``correct_text`` (:data:`library.access.PERMISSIONS`)."""
        require_permission(actor, "correct_text")
        clean = {int(n): _check_line(n, t) for n, t in changes.items()}
        sure = {int(n) for n in confirmed} - set(clean)
        with self._change(actor) as s:
            page = self._page(s, page_id, lock=True)
            if page.revision != revision:
                raise Conflict("someone changed this page while you were editing it; reload it and correct again")
            layout = _layout(page)
            regions = _lines(layout)
            unknown = [n for n in (*clean, *sure) if not 0 <= n < len(regions)]
            if unknown:
                raise InputRejected(f"page {page.sequence}", f"there is no line {unknown[0] + 1} on this page")
            words = layout.words
            current = page.text or ""
            text, layout = _splice(current, regions, words,
                                   {**{n: current[regions[n].char_start:regions[n].char_end] for n in sure}, **clean},
                                   roles={b.block: (b.role, b.article) for b in layout.blocks})
            if text == page.text:
                if sure:
                    replace_layout(s, page_id, layout, text)
                    page.low_confidence_words = layout_doubtful(layout, self.low_confidence)
                    page.revision += 1
                return self._latest_version(s, page_id)
            replace_layout(s, page_id, layout, text)
            page.low_confidence_words = layout_doubtful(layout, self.low_confidence)
            version = self._latest_version(s, page_id) + 1
            manual = Transcription(page_id=page_id, version=version, source="manual", text=text, note=note,
                                   created_by=actor.user.id if actor.user is not None else None)
            s.add(manual)
            set_page_text(s, page, text, manual)
            page.corrected = True
            page.needs_review = False
            page.revision += 1
            page.index_pending = True
            audit.record(s, actor, "correction", record_id=page_id,
                         detail={"item_id": page.item_id, "page": page.sequence, "version": version,
                                 "lines": sorted(n + 1 for n in clean)})
            return version

    def accept_machine_reading(self, actor: Actor, page_id: int) -> int:
        """Use the waiting machine reading instead of the manual correction (which stays in the history)."""
        require_permission(actor, "correct_text")
        with self._change(actor) as s:
            page = self._page(s, page_id, lock=True)
            if page.pending_ocr_version is None:
                raise Conflict("no new machine reading is waiting for this page")
            t = s.scalars(select(Transcription).where(Transcription.page_id == page_id,
                                                      Transcription.version == page.pending_ocr_version)).one()
            layout = decode(t.layout_blob, t.text).as_dict()
            replace_layout(s, page_id, layout, t.text)
            page.low_confidence_words = layout_doubtful(layout, self.low_confidence)
            set_page_text(s, page, t.text, t)
            page.mean_confidence = t.mean_confidence
            page.corrected, page.pending_ocr_version, page.status_reason = False, None, None
            page.revision += 1
            page.index_pending = True
            audit.record(s, actor, "reading_accept", record_id=page_id,
                         detail={"item_id": page.item_id, "page": page.sequence, "version": t.version})
            return t.version

    def reject_machine_reading(self, actor: Actor, page_id: int) -> int:
        """Keep the manual correction: the waiting machine reading is no longer waiting (it stays in the
        history as a version); the page's text, words and revision are unchanged. Returns its version."""
        require_permission(actor, "correct_text")
        with self._change(actor) as s:
            page = self._page(s, page_id, lock=True)
            if page.pending_ocr_version is None:
                raise Conflict("no new machine reading is waiting for this page")
            version = page.pending_ocr_version
            page.pending_ocr_version, page.status_reason = None, None
            audit.record(s, actor, "reading_reject", record_id=page_id,
                         detail={"item_id": page.item_id, "page": page.sequence, "version": version})
            return version

    def history(self, page_id: int) -> list[Version]:
        with self.sessions() as s:
            page = self._page(s, page_id)
            rows = s.execute(select(Transcription, User.username).outerjoin(User, User.id == Transcription.created_by)
                             .where(Transcription.page_id == page_id).order_by(Transcription.version)).all()
            return [Version(t.version, t.source, t.created_at, t.created_by, t.note,
                            t.version == page.pending_ocr_version, name or MACHINE_AUTHORS.get(t.source, ""),
                            t.warning_list)
                    for t, name in rows]

    def text_of(self, page_id: int, version: int) -> str:
        with self.sessions() as s:
            t = s.scalars(select(Transcription).where(Transcription.page_id == page_id,
                                                      Transcription.version == version)).first()
            if t is None:
                raise NotFound(f"page {page_id} has no version {version}")
            return t.text

    @staticmethod
    def _latest_version(s: Session, page_id: int) -> int:
        return s.scalar(select(func.max(Transcription.version)).where(Transcription.page_id == page_id)) or 0

    @staticmethod
    def _page(s: Session, page_id: int, lock: bool = False) -> Page:
        page = s.get(Page, page_id, with_for_update=lock)
        if page is None:
            raise NotFound(f"no page {page_id}")
        if page.status != PageStatus.done:
            raise Conflict(f"page {page.sequence} has not been read yet ({page.status.value})")
        return page


def queue_select():
    """Read pages with doubtful words, the most first: the correction queue's order, which
    ``ix_pages_review_queue`` (status, low_confidence_words, id) holds (scanned backwards)."""
    return (select(Page.id, Page.item_id, Page.sequence, Page.low_confidence_words, Page.mean_confidence,
                   Page.corrected, Item.title)
            .join(Item, Item.id == Page.item_id)
            .where(Page.status == PageStatus.done, Page.low_confidence_words > 0)
            .order_by(Page.low_confidence_words.desc(), Page.id.desc()))


def _words_by_line(regions: list[LayoutRegion], words) -> dict[int, list[LayoutWord]]:
    """The words of each line (by its number in ``regions``), in reading order."""
    line_of = {(r.block, r.paragraph, r.line): n for n, r in enumerate(regions)}
    out: dict[int, list[LayoutWord]] = {}
    for w in words:
        n = line_of.get((w.block, w.paragraph, w.line))
        if n is not None:
            out.setdefault(n, []).append(w)
    return out


def _layout(page: Page) -> PageLayout:
    return decode(page.layout, page.text)


def _lines(layout: PageLayout) -> list[LayoutRegion]:
    """The page's lines in the order of their text."""
    return sorted(layout.lines, key=lambda r: r.char_start)


def _check_line(n, text) -> str:
    if not isinstance(text, str):
        raise InputRejected(f"line {int(n) + 1}", "the text must be a string")
    text = unicodedata.normalize("NFC", text).strip()
    if len(text) > MAX_LINE_CHARS:
        raise InputRejected(f"line {int(n) + 1}", f"longer than {MAX_LINE_CHARS} characters")
    bad = first_unsafe_char(text)
    if bad is not None:
        raise InputRejected(f"line {int(n) + 1}", f"contains a control character ({describe_char(bad)}); "
                                                  "a line cannot hold a line break")
    return " ".join(text.split())


def _splice(text: str, regions: list[LayoutRegion], words: list[LayoutWord], changes: dict[int, str],
            roles: dict | None = None):
    """The new page text and layout after replacing the given lines' text (offsets recomputed); ``roles``
    (block → (role, article) of the layout analysis) stay with their blocks."""
    out_text, out_words, out_lines = [], [], []
    pos = 0  # in the old text
    new_len = 0
    words_by_line = _words_by_line(regions, words)
    for n, r in enumerate(regions):
        between = text[pos:r.char_start]
        out_text.append(between)
        new_len += len(between)
        old_words = words_by_line.get(n, [])
        if n in changes:
            line_text = changes[n]
            tokens = line_text.split(" ") if line_text else []
            boxes = _boxes_for(tokens, old_words, r)
            offset = 0
            for token, (x, y, w, h, conf) in zip(tokens, boxes):
                start = new_len + offset
                out_words.append([token, start, start + len(token), x, y, w, h, conf, r.block, r.paragraph, r.line])
                offset += len(token) + 1
        else:
            line_text = text[r.char_start:r.char_end]
            for w in old_words:
                delta = new_len - r.char_start
                out_words.append([w.text, w.char_start + delta, w.char_end + delta, w.x, w.y, w.w, w.h,
                                  w.confidence, w.block, w.paragraph, w.line])
        out_lines.append([r.block, r.paragraph, r.line, r.x, r.y, r.w, r.h, new_len, new_len + len(line_text)])
        out_text.append(line_text)
        new_len += len(line_text)
        pos = r.char_end
    out_text.append(text[pos:])
    new_text = "".join(out_text)
    blocks = {}
    for b, p, ln, x, y, w, h, cs, ce in out_lines:
        if b not in blocks:
            blocks[b] = [b, x, y, x + w, y + h, cs, ce]
        else:
            e = blocks[b]
            e[1], e[2], e[3], e[4] = min(e[1], x), min(e[2], y), max(e[3], x + w), max(e[4], y + h)
            e[5], e[6] = min(e[5], cs), max(e[6], ce)
    roles = roles or {}
    block_rows = [[b, x0, y0, x1 - x0, y1 - y0, cs, ce] + (list(roles[b]) if roles.get(b, (None, None)) != (None, None)
                                                           else [])
                  for b, x0, y0, x1, y1, cs, ce in blocks.values()]
    return new_text, {"words": out_words, "lines": out_lines, "blocks": block_rows}


def _boxes_for(tokens: list[str], old_words: list[LayoutWord], line: LayoutRegion):
    """Boxes for the corrected words of a line: the old words' boxes when the count matches,
    else the line's box shared in proportion to each word's length."""
    if len(tokens) == len(old_words):
        return [(w.x, w.y, w.w, w.h, SURE) for w in old_words]
    total = sum(len(t) for t in tokens) + max(len(tokens) - 1, 0)
    boxes, x = [], line.x
    for t in tokens:
        width = max(1, round(line.w * len(t) / max(total, 1)))
        boxes.append((x, line.y, width, line.h, SURE))
        x += width + round(line.w / max(total, 1))
    return boxes
