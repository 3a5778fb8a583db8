"""Readers' feedback: text error reports, comments and ratings on items and
monuments, held for moderation, answered by staff, published with the answer.

- A reader needs no account; a name and an e-mail address are optional, and the
  e-mail is for staff only (never in a public answer).
- What is sent is stored exactly as sent, normalised to NFC; anything that
  cannot be stored as sent (too long, control characters, a line that is not on
  the page) is refused with a reason, never cut or cleaned silently.
- Nothing is public before staff publish it. Librarians moderate feedback on
  items, curators feedback on monuments, admins both.
- A text error report may point at one word of the page (opened from that word): the report keeps
  the word's place and text, and staff see it in its context and boxed on the page image, found
  again by its text near its old place when the page has changed since.
- A suggested correction becomes a new transcription version through the
  :class:`~library.reading.corrections.CorrectionService` (so the version history
  shows it and search follows it), after a librarian has read and edited it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from library import audit
from library.access import PERMISSIONS, Actor, may, require_permission
from library.reading.corrections import MAX_LINE_CHARS, CorrectionService, EditableLine, ReviewLine
from library.errors import Conflict, InputRejected, NotFound
from library.ingest.filenames import describe_char, first_unsafe_char
from library.catalogue.models import (Feedback, FeedbackKind, FeedbackStatus, Item, Monument, Page, PageStatus, Role,
                            User, as_utc, utcnow)
from library.catalogue.page_layout import LayoutWord, stored, stored_many

MAX_BODY_CHARS = 4_000
MAX_ANSWER_CHARS = 4_000
MAX_NAME_CHARS = 100
MAX_EMAIL_CHARS = 254
MAX_BULK = 200
COUNT_CAP = 10_000  # the queue's counts stop here (a number above it means "more than COUNT_CAP")
MAX_OFFSET = 10_000  # how deep the queue pages (filters narrow it further)
CONTEXT_CHARS = 40  # of the page text on each side of a reported word, for staff
LANGUAGES = ("vi", "en")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")

# who moderates what is decided by library.access.PERMISSIONS alone; per target kind, the action asked
MODERATE = {"item": "moderate_feedback_on_items", "monument": "moderate_feedback_on_monuments"}
MODERATORS = {Role(r) for action in MODERATE.values() for r in PERMISSIONS[action]}  # roles the portal lets in

# what each kind may carry besides name, e-mail and language
FIELDS_OF = {
    FeedbackKind.text_error: {"page", "line", "word", "quoted", "suggestion", "body"},
    FeedbackKind.comment: {"body"},
    FeedbackKind.rating: {"rating", "body"},
}


class FeedbackRejected(InputRejected):
    """Feedback that cannot be stored as sent. ``field`` names the form field, ``reason`` is a short
    key the portal words in the reader's language, ``params`` fill in its message."""

    def __init__(self, field: str, reason: str, problem: str, **params):
        super().__init__(field, problem)
        self.field, self.reason, self.params = field, reason, params


@dataclass(frozen=True)
class Submission:
    """One reader's feedback as the edge received it (form or JSON); the service checks every value."""

    kind: str
    item_id: int | None = None
    monument_id: int | None = None
    page: int | str | None = None  # the page's sequence in the item (1-based)
    line: int | str | None = None  # the line on that page (1-based)
    word: int | str | None = None  # the word on that page the report was opened from (0-based, in reading order)
    quoted: str | None = None  # the words as the page reads them
    suggestion: str | None = None  # what they should read
    body: str | None = None
    rating: int | str | None = None
    name: str | None = None
    email: str | None = None
    language: str = "vi"


@dataclass(frozen=True)
class PublicEntry:
    """Published feedback as anyone may see it (no e-mail, no staff names)."""

    id: int
    kind: str
    created_at: datetime
    author: str | None
    page: int | None
    line: int | None
    quoted: str | None
    suggestion: str | None
    body: str | None
    rating: int | None
    answer: str | None
    answered_at: datetime | None
    applied_version: int | None

    def as_dict(self) -> dict:
        d = asdict(self)
        d["created_at"] = as_utc(self.created_at).isoformat()
        d["answered_at"] = as_utc(self.answered_at).isoformat() if self.answered_at else None
        return d


@dataclass(frozen=True)
class ReportedWord:
    """The word a report points at, as the page reads now: its context, its box and its line's box
    (pixels of the page image). ``moved`` when the page changed since and the word was found again
    by its text near its old place."""

    page_id: int
    sequence: int
    text: str
    before: str  # page text just before the word (to a line break, at most CONTEXT_CHARS)
    after: str
    x: int
    y: int
    w: int
    h: int
    line_x: int
    line_y: int
    line_w: int
    line_h: int
    moved: bool = False


@dataclass(frozen=True)
class QueueEntry(PublicEntry):
    """Feedback as staff see it in the moderation queue."""

    status: str = "pending"
    email: str | None = None
    language: str = "vi"
    item_id: int | None = None
    item_title: str | None = None
    page_id: int | None = None
    monument_id: int | None = None
    monument_name: str | None = None
    monument_slug: str | None = None
    answered_by: str | None = None
    moderated_by: str | None = None
    moderated_at: datetime | None = None
    word: dict | None = None  # {"sequence", "char_start", "char_end", "text"}: the word it was opened from

    def as_dict(self) -> dict:
        d = super().as_dict()
        d["moderated_at"] = as_utc(self.moderated_at).isoformat() if self.moderated_at else None
        return d


@dataclass(frozen=True)
class RatingSummary:
    count: int
    mean: float | None
    distribution: dict[int, int]  # stars -> number of ratings, 1..5

    def as_dict(self) -> dict:
        return {"count": self.count, "mean": self.mean, "distribution": {str(k): v for k, v in self.distribution.items()}}


@dataclass(frozen=True)
class Board:
    """What an item's or a monument's page shows: the rating summary and the published feedback."""

    ratings: RatingSummary
    entries: list[PublicEntry]
    total: int  # published entries, of which ``entries`` holds the newest


@dataclass(frozen=True)
class QueuePage:
    entries: list[QueueEntry]
    total: int  # matching the filters
    pending: dict[str, int] = field(default_factory=dict)  # waiting for moderation, per target kind the actor sees


@dataclass(frozen=True)
class CorrectionProposal:
    """A text error report beside the page it is about, with the line as the report suggests it should read."""

    feedback: QueueEntry
    page_id: int
    revision: int
    lines: list[EditableLine]
    line_number: int | None  # 1-based; the word's, the reader's, or the first line holding the quoted words
    proposed: str | None  # that line with the quoted words replaced by the suggestion
    word: ReportedWord | None = None  # the word the report points at, where the page has it now


class FeedbackService:
    def __init__(self, sessions: sessionmaker[Session], corrections: CorrectionService):
        self.sessions = sessions
        self.corrections = corrections

    # ------------------------------------------------------------ readers
    def submit(self, actor: Actor, sub: Submission) -> int:
        """Store a reader's feedback, held for moderation; returns its id. ``actor`` is who sends it
        (``Actor.anonymous(address)`` for a reader: anyone may send feedback)."""
        if not isinstance(actor, Actor):
            raise TypeError("feedback needs an explicit library.access.Actor (Actor.anonymous(address) for a reader)")
        try:
            kind = FeedbackKind(sub.kind)
        except ValueError:
            raise FeedbackRejected("kind", "bad_kind", f"{str(sub.kind)[:40]!r} is not one of "
                                   + ", ".join(k.value for k in FeedbackKind)) from None
        sent = {"page": sub.page, "line": sub.line, "word": sub.word, "quoted": sub.quoted,
                "suggestion": sub.suggestion, "body": sub.body, "rating": sub.rating}
        for name, value in sent.items():
            if name not in FIELDS_OF[kind] and value not in (None, ""):
                raise FeedbackRejected(name, "unexpected", f"a {kind.value} does not take a {name}", kind=kind.value)
        quoted = _text("quoted", sub.quoted, MAX_LINE_CHARS, multiline=False)
        suggestion = _text("suggestion", sub.suggestion, MAX_LINE_CHARS, multiline=False)
        body = _text("body", sub.body, MAX_BODY_CHARS, multiline=True)
        name = _text("name", sub.name, MAX_NAME_CHARS, multiline=False)
        email = _text("email", sub.email, MAX_EMAIL_CHARS, multiline=False)
        if email is not None and not EMAIL.match(email):
            raise FeedbackRejected("email", "bad_email", f"{email!r} is not an e-mail address")
        rating = _whole("rating", sub.rating, 1, 5)
        page_seq = _whole("page", sub.page, 1, 1_000_000)
        line = _whole("line", sub.line, 1, 1_000_000)
        word_seq = _whole("word", sub.word, 0, 10_000_000)
        if sub.language not in LANGUAGES:
            raise FeedbackRejected("language", "bad_language", f"{str(sub.language)[:10]!r} is not one of "
                                   + ", ".join(LANGUAGES))
        item_id = _whole("item", sub.item_id, 1, 2**31 - 1)
        monument_id = _whole("monument", sub.monument_id, 1, 2**31 - 1)
        if (item_id is None) == (monument_id is None):
            raise FeedbackRejected("target", "one_target", "feedback is about one item or one monument")

        if kind == FeedbackKind.comment and body is None:
            raise FeedbackRejected("body", "required", "write your comment")
        if kind == FeedbackKind.rating and rating is None:
            raise FeedbackRejected("rating", "required", "choose from 1 to 5 stars")

        with self.sessions.begin() as s:
            page_id, word = None, None
            if item_id is not None and s.get(Item, item_id) is None:
                raise NotFound(f"no item {item_id}")
            if monument_id is not None and s.get(Monument, monument_id) is None:
                raise NotFound(f"no monument {monument_id}")
            if kind == FeedbackKind.text_error:
                if item_id is None:
                    raise FeedbackRejected("kind", "text_error_on_item", "a text error is reported on a page of an item")
                if page_seq is None:
                    raise FeedbackRejected("page", "required", "say which page the error is on")
                page = s.scalars(select(Page).where(Page.item_id == item_id, Page.sequence == page_seq)).first()
                if page is None:
                    raise FeedbackRejected("page", "no_page", f"this item has no page {page_seq}", page=page_seq)
                if page.status != PageStatus.done or not page.text:
                    raise FeedbackRejected("page", "page_not_read", f"page {page_seq} has no text yet", page=page_seq)
                page_id = page.id
                _, lines = self.corrections.lines(page.id)
                haystack = page.text
                if word_seq is not None:
                    _, word_line = _pointed_word(self.corrections.review(page.id).lines, word_seq)
                    page_words = stored(s, page.id).words
                    word = page_words[word_seq] if 0 <= word_seq < len(page_words) else None
                    if word is None or word_line is None:
                        raise FeedbackRejected("word", "no_word", f"page {page_seq} has no word {word_seq}",
                                               word=word_seq, page=page_seq)
                    if line is not None and line != word_line:
                        raise FeedbackRejected("word", "word_not_on_line", f"{word.text!r} is on line {word_line}, "
                                               f"not {line}", word=word.text, line=line, word_line=word_line)
                    line = word_line
                    quoted = quoted if quoted is not None else word.text
                if line is not None:
                    if line > len(lines):
                        raise FeedbackRejected("line", "no_line", f"page {page_seq} has {len(lines)} lines, not {line}",
                                               line=line, count=len(lines))
                    haystack = lines[line - 1].text
                if quoted is not None and quoted.casefold() not in haystack.casefold():
                    where = f"line {line}" if line is not None else f"page {page_seq}"
                    raise FeedbackRejected("quoted", "quoted_not_found",
                                           f"{quoted!r} is not on {where}; copy the words as the page shows them",
                                           quoted=quoted)
                if suggestion is None and body is None:
                    raise FeedbackRejected("suggestion", "nothing_to_report",
                                           "write the correction or say what is wrong")
            fb = Feedback(kind=kind, status=FeedbackStatus.pending, item_id=item_id, page_id=page_id,
                          monument_id=monument_id, line_number=line, quoted=quoted, suggestion=suggestion, body=body,
                          rating=rating, author_name=name, author_email=email, language=sub.language)
            if word is not None:
                fb.word_sequence, fb.word_text = word.sequence, word.text
                fb.word_char_start, fb.word_char_end = word.char_start, word.char_end
            s.add(fb)
            s.flush()
            return fb.id

    def board(self, *, item_id: int | None = None, monument_id: int | None = None, limit: int = 50) -> Board:
        """The published feedback on one item or monument (newest first) and its rating summary.
        Ratings without a comment count in the summary only."""
        target = _target(item_id, monument_id)
        with self.sessions() as s:
            shown = (Feedback.status == FeedbackStatus.published, target,
                     or_(Feedback.kind != FeedbackKind.rating, Feedback.body.is_not(None)))
            total = s.scalar(select(func.count()).select_from(Feedback).where(*shown)) or 0
            rows = s.execute(select(Feedback, Page.sequence).outerjoin(Page, Page.id == Feedback.page_id)
                             .where(*shown).order_by(Feedback.created_at.desc(), Feedback.id.desc())
                             .limit(limit)).all()
            entries = [_public(fb, seq) for fb, seq in rows]
            return Board(self._ratings(s, target), entries, total)

    def rating_summary(self, *, item_id: int | None = None, monument_id: int | None = None) -> RatingSummary:
        with self.sessions() as s:
            return self._ratings(s, _target(item_id, monument_id))

    @staticmethod
    def _ratings(s: Session, target) -> RatingSummary:
        counts = dict(s.execute(select(Feedback.rating, func.count()).where(
            target, Feedback.kind == FeedbackKind.rating, Feedback.status == FeedbackStatus.published)
            .group_by(Feedback.rating)).all())
        distribution = {stars: int(counts.get(stars, 0)) for stars in range(1, 6)}
        n = sum(distribution.values())
        mean = round(sum(k * v for k, v in distribution.items()) / n, 2) if n else None
        return RatingSummary(n, mean, distribution)

    # -------------------------------------------------------------- staff
    def queue(self, actor: Actor, *, kind: str | None = None, status: str | None = None, target: str | None = None,
              item_id: int | None = None, monument_id: int | None = None, limit: int = 50,
              offset: int = 0) -> QueuePage:
        """The feedback the actor may moderate, newest first, filtered by kind, status and target
        (``item`` or ``monument``, or one item or monument)."""
        allowed = _targets_of(actor)
        if target not in (None, "", "item", "monument"):
            raise FeedbackRejected("target", "bad_target", f"{target[:20]!r} is not 'item' or 'monument'")
        if item_id is not None:
            target = "item"
        if monument_id is not None:
            target = "monument"
        if target and target not in allowed:
            require_permission(actor, MODERATE[target])
        conditions = []
        if kind:
            conditions.append(Feedback.kind == _enum_value(FeedbackKind, "kind", kind))
        if status:
            conditions.append(Feedback.status == _enum_value(FeedbackStatus, "status", status))
        scope = _scope(target, allowed)
        if item_id is not None:
            scope = Feedback.item_id == item_id
        if monument_id is not None:
            scope = Feedback.monument_id == monument_id
        with self.sessions() as s:  # counts stop at COUNT_CAP + 1 ("more than COUNT_CAP"); OFFSET is bounded
            total = _capped_count(s, scope, *conditions)
            rows = s.execute(_queue_select().where(scope, *conditions)
                             .order_by(Feedback.created_at.desc(), Feedback.id.desc())
                             .limit(max(1, min(limit, 200))).offset(min(max(0, offset), MAX_OFFSET))).all()
            pending = {t: _capped_count(s, _scope(t, allowed), Feedback.status == FeedbackStatus.pending)
                       for t in sorted(allowed)}
            return QueuePage([_queued(*row) for row in rows], total, pending)

    def get(self, actor: Actor, feedback_id: int) -> QueueEntry:
        with self.sessions() as s:
            row = s.execute(_queue_select().where(Feedback.id == feedback_id)).first()
            if row is None:
                raise NotFound(f"no feedback {feedback_id}")
            _authorise(actor, row[0])
            return _queued(*row)

    def answer(self, actor: Actor, feedback_id: int, text: str | None, *, publish: bool = False) -> None:
        """Write (or rewrite, or with an empty text remove) staff's answer; ``publish`` makes both public."""
        _targets_of(actor)  # refuse an actor without a moderation permission before reading the text
        answer = _text("answer", text, MAX_ANSWER_CHARS, multiline=True)
        with self.sessions.begin() as s:
            fb = self._load(s, feedback_id, actor)
            if answer != fb.answer:
                fb.answer = answer
                fb.answered_by, fb.answered_at = (_user_id(actor), utcnow()) if answer is not None else (None, None)
            if publish:
                _moderate(fb, FeedbackStatus.published, actor)
            audit.record(s, actor, "feedback_answer", record_id=feedback_id,
                         detail={"published": bool(publish), "answered": answer is not None})

    def set_status(self, actor: Actor, feedback_id: int, status: str) -> None:
        """Publish, hide or put back into the queue."""
        _targets_of(actor)
        new = _enum_value(FeedbackStatus, "status", status)
        with self.sessions.begin() as s:
            _moderate(self._load(s, feedback_id, actor), new, actor)
            audit.record(s, actor, "feedback_status", record_id=feedback_id, detail={"status": new.value})

    def set_status_many(self, actor: Actor, feedback_ids: list[int], status: str) -> int:
        """The same status for many at once (e.g. publishing a page of ratings); all or none."""
        _targets_of(actor)
        new = _enum_value(FeedbackStatus, "status", status)
        ids = sorted(set(feedback_ids))
        if not ids:
            raise FeedbackRejected("ids", "required", "choose at least one")
        if len(ids) > MAX_BULK:
            raise FeedbackRejected("ids", "too_many", f"at most {MAX_BULK} at once", max=MAX_BULK)
        with self.sessions.begin() as s:
            rows = s.scalars(select(Feedback).where(Feedback.id.in_(ids))).all()
            if len(rows) != len(ids):
                missing = sorted(set(ids) - {fb.id for fb in rows})
                raise NotFound(f"no feedback {missing[0]}")
            for fb in rows:
                _authorise(actor, fb)
            for fb in rows:
                _moderate(fb, new, actor)
                audit.record(s, actor, "feedback_status", record_id=fb.id, detail={"status": new.value})
            return len(rows)

    def correction_proposal(self, actor: Actor, feedback_id: int) -> CorrectionProposal:
        """The page's lines as they read now and the line the report points at, as the report would have it."""
        entry = self.get(actor, feedback_id)
        if entry.kind != FeedbackKind.text_error.value or entry.page_id is None:
            raise Conflict(f"feedback {feedback_id} is not a report on a page's text")
        review = self.corrections.review(entry.page_id)
        revision, lines = review.revision, review.lines
        word = self.reported_words([entry]).get(entry.id)
        n = entry.line if entry.line is not None and entry.line <= len(lines) else None
        near = None  # where in line n the reported word starts
        if word is not None:
            found = _pointed_word(lines, word.sequence)
            if found[0] is not None:
                n = found[1]
                near = next(w.start for w in lines[n - 1].words if w.sequence == word.sequence)
        if n is None and entry.quoted:
            n = next((k + 1 for k, ln in enumerate(lines) if entry.quoted.casefold() in ln.text.casefold()), None)
        proposed = None
        if n is not None:
            proposed = lines[n - 1].text
            if entry.suggestion:
                quoted = entry.quoted or (word.text if word is not None else None)
                if quoted:
                    proposed = _replace_near(proposed, quoted, entry.suggestion, near)
        return CorrectionProposal(entry, entry.page_id, revision, lines, n, proposed, word)

    def reported_words(self, entries: list[QueueEntry]) -> dict[int, ReportedWord]:
        """Where the words the given reports point at are on their pages now (by feedback id); a report
        whose word is no longer on its page is left out. Reads only those pages' matching words."""
        wanted = [e for e in entries if e.word and e.page_id is not None]
        if not wanted:
            return {}
        page_ids = sorted({e.page_id for e in wanted})
        with self.sessions() as s:
            texts = dict(s.execute(select(Page.id, Page.text).where(Page.id.in_(page_ids))).all())
            layouts = stored_many(s, page_ids)
        texts_wanted = {e.word["text"] for e in wanted}
        words = {pid: [w for w in layout.words if w.text in texts_wanted] for pid, layout in layouts.items()}
        out = {}
        for e in wanted:
            found = _locate(e.word, words.get(e.page_id, []))
            if found is None:
                continue
            w, moved = found
            text = texts.get(e.page_id) or ""
            line = next((r for r in layouts[e.page_id].lines if r.char_start <= w.char_start < r.char_end), None)
            lx, ly, lw, lh = (line.x, line.y, line.w, line.h) if line else (w.x, w.y, w.w, w.h)
            out[e.id] = ReportedWord(e.page_id, w.sequence, w.text, _before(text, w.char_start),
                                     _after(text, w.char_end), w.x, w.y, w.w, w.h, lx, ly, lw, lh, moved)
        return out

    def accept_correction(self, actor: Actor, feedback_id: int, *, line_number: int | str, line_text: str,
                          revision: int, note: str | None = None) -> int:
        """Make a new transcription version of the report's page with one line as staff settled it;
        returns the version number. ``revision`` is the page's, as the staff member saw it. The version is
        made by :meth:`CorrectionService.correct` (through the unit of work: search follows at once)."""
        require_permission(actor, "correct_text")
        with self.sessions() as s:
            fb = self._load(s, feedback_id, actor)
            if fb.kind != FeedbackKind.text_error or fb.page_id is None:
                raise Conflict(f"feedback {feedback_id} is not a report on a page's text")
            if fb.applied_version is not None:
                raise Conflict(f"feedback {feedback_id} is already in version {fb.applied_version} of the page's text")
            page_id = fb.page_id
        _, lines = self.corrections.lines(page_id)
        n = _whole("line", line_number, 1, 1_000_000)
        if n is None or n > len(lines):
            raise FeedbackRejected("line", "no_line", f"the page has {len(lines)} lines, not {line_number}",
                                   line=line_number, count=len(lines))
        text = _text("line_text", line_text, MAX_LINE_CHARS, multiline=False)
        if text is None:
            raise FeedbackRejected("line_text", "required", "write the line as it should read")
        if " ".join(text.split()) == lines[n - 1].text:
            raise FeedbackRejected("line_text", "unchanged", f"line {n} reads so already", line=n)
        version = self.corrections.correct(actor, page_id, {n - 1: text}, revision=int(revision),
                                           note=note or f"feedback #{feedback_id}")
        with self.sessions.begin() as s:
            fb = s.get(Feedback, feedback_id, with_for_update=True)
            fb.applied_version = version
            audit.record(s, actor, "feedback_accept", record_id=feedback_id,
                         detail={"page_id": page_id, "version": version})
        return version

    @staticmethod
    def _load(s: Session, feedback_id: int, actor: Actor) -> Feedback:
        fb = s.get(Feedback, feedback_id)
        if fb is None:
            raise NotFound(f"no feedback {feedback_id}")
        _authorise(actor, fb)
        return fb


# ------------------------------------------------------------------ helpers
def _text(field_name: str, value, max_chars: int, *, multiline: bool) -> str | None:
    """The value as sent, in NFC, or ``None`` when nothing was written; refused (never cut) when it cannot be kept."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise FeedbackRejected(field_name, "not_text", "must be text")
    value = unicodedata.normalize("NFC", value)
    if not value.strip():
        return None
    if len(value) > max_chars:
        raise FeedbackRejected(field_name, "too_long", f"{len(value)} characters; at most {max_chars}",
                               max=max_chars, length=len(value))
    bad = first_unsafe_char(value, allow="\r\n\t" if multiline else "")
    if bad is not None:
        raise FeedbackRejected(field_name, "control_char", f"contains a control character ({describe_char(bad)})",
                               char=describe_char(bad))
    return value


def _whole(field_name: str, value, lo: int, hi: int) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise FeedbackRejected(field_name, "not_number", "must be a whole number")
    if isinstance(value, str):
        if not value.strip().isascii() or not value.strip().isdigit():
            raise FeedbackRejected(field_name, "not_number", f"{value[:20]!r} is not a whole number")
        value = int(value.strip())
    if not lo <= value <= hi:
        raise FeedbackRejected(field_name, "out_of_range", f"{value} is not from {lo} to {hi}", lo=lo, hi=hi)
    return value


def _enum_value(cls, field_name: str, value: str):
    try:
        return cls(value)
    except ValueError:
        raise FeedbackRejected(field_name, f"bad_{field_name}", f"{str(value)[:30]!r} is not one of "
                               + ", ".join(v.value for v in cls)) from None


def _target(item_id: int | None, monument_id: int | None):
    if (item_id is None) == (monument_id is None):
        raise ValueError("give item_id or monument_id")
    return Feedback.item_id == item_id if item_id is not None else Feedback.monument_id == monument_id


def _targets_of(actor: Actor) -> set[str]:
    """The target kinds (``item``, ``monument``) whose feedback ``actor`` moderates; refused when none."""
    if not isinstance(actor, Actor):
        raise TypeError("moderating feedback needs an explicit library.access.Actor")
    allowed = {target for target, action in MODERATE.items() if may(actor, action)}
    if not allowed:
        require_permission(actor, MODERATE["item"])  # raises, naming the user
    return allowed


def _capped_count(s: Session, *where) -> int:
    """How many feedback rows match, counted up to COUNT_CAP + 1 (never a count over the whole table)."""
    some = select(Feedback.id).where(*where).limit(COUNT_CAP + 1).subquery()
    return int(s.scalar(select(func.count()).select_from(some)) or 0)


def _scope(target: str | None, allowed: set[str]):
    targets = {target} if target else allowed
    if targets == {"item", "monument"}:
        return Feedback.id.is_not(None)
    return Feedback.item_id.is_not(None) if targets == {"item"} else Feedback.monument_id.is_not(None)


def _authorise(actor: Actor, fb: Feedback) -> None:
    require_permission(actor, MODERATE["item" if fb.item_id is not None else "monument"])


def _user_id(actor: Actor) -> int | None:
    """The account recorded as having done it (``None`` for the system: the command line, a worker)."""
    return actor.user.id if actor.user is not None else None


def _moderate(fb: Feedback, status: FeedbackStatus, actor: Actor) -> None:
    if fb.status != status:
        fb.status = status
        fb.moderated_by, fb.moderated_at = _user_id(actor), utcnow()


def _replace_near(line: str, old: str, new: str, near: int | None) -> str:
    """``line`` with one ``old`` replaced by ``new``: the one that holds (or is closest to) the position
    ``near`` when given, else the first; case-insensitively when no exact match."""
    hay, needle = line, old
    if line.find(old) < 0 and len(line.casefold()) == len(line) and len(old.casefold()) == len(old):
        hay, needle = line.casefold(), old.casefold()
    starts, at = [], hay.find(needle)
    while at >= 0 and needle:
        starts.append(at)
        at = hay.find(needle, at + 1)
    if not starts:
        return line
    at = starts[0] if near is None else min(
        starts, key=lambda a: 0 if a <= near < a + len(needle) else min(abs(a - near), abs(a + len(needle) - near)))
    return line[:at] + new + line[at + len(old):]


def _pointed_word(lines: list[ReviewLine], sequence: int):
    """The page's word with this sequence and its line number (1-based), or ``(None, None)``."""
    for ln in lines:
        for w in ln.words:
            if w.sequence == sequence:
                return w, ln.number + 1
    return None, None


def _locate(pointer: dict, words: list[LayoutWord]):
    """The page word a report points at: the same word at the same place, else the word with its text
    nearest its old place (``moved``), else ``None``. ``words`` are the page's words with that text."""
    same = [w for w in words if w.text == pointer["text"]]
    if not same:
        return None
    exact = next((w for w in same if w.char_start == pointer["char_start"]), None)
    if exact is not None:
        return exact, False
    return min(same, key=lambda w: (abs(w.char_start - pointer["char_start"]), w.sequence)), True


def _before(text: str, start: int) -> str:
    piece = text[max(0, start - CONTEXT_CHARS):start]
    return piece.rsplit("\n", 1)[-1]


def _after(text: str, end: int) -> str:
    return text[end:end + CONTEXT_CHARS].split("\n", 1)[0]


def _public(fb: Feedback, page_sequence: int | None) -> PublicEntry:
    return PublicEntry(fb.id, fb.kind.value, fb.created_at, fb.author_name, page_sequence, fb.line_number, fb.quoted,
                       fb.suggestion, fb.body, fb.rating, fb.answer, fb.answered_at, fb.applied_version)


_Answerer, _Moderator = aliased(User), aliased(User)


def _queue_select():
    return (select(Feedback, Page.sequence, Item.title, Monument.name_vi, Monument.slug, _Answerer.username,
                   _Moderator.username)
            .outerjoin(Page, Page.id == Feedback.page_id)
            .outerjoin(Item, Item.id == Feedback.item_id)
            .outerjoin(Monument, Monument.id == Feedback.monument_id)
            .outerjoin(_Answerer, _Answerer.id == Feedback.answered_by)
            .outerjoin(_Moderator, _Moderator.id == Feedback.moderated_by))


def _queued(fb: Feedback, page_sequence, item_title, monument_name, monument_slug, answered_by, moderated_by):
    word = None
    if fb.word_text is not None:
        word = {"sequence": fb.word_sequence, "char_start": fb.word_char_start, "char_end": fb.word_char_end,
                "text": fb.word_text}
    return QueueEntry(**asdict(_public(fb, page_sequence)), status=fb.status.value, email=fb.author_email,
                      language=fb.language, item_id=fb.item_id, item_title=item_title, page_id=fb.page_id,
                      monument_id=fb.monument_id, monument_name=monument_name, monument_slug=monument_slug,
                      answered_by=answered_by, moderated_by=moderated_by, moderated_at=fb.moderated_at, word=word)
