"""Correcting a page's text line by line, beside its image.

Every version is kept (``Transcription`` rows: the machine's readings and each
correction). A corrected line keeps its place on the page: its words get the
boxes of the words the machine read there when the count of words is the
same, and otherwise share the line's box in proportion to their length, so
search hits on corrected text are still boxed on the image. A later machine
reading never replaces a correction by itself: it waits until staff accept it.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from library.errors import Conflict, InputRejected, NotFound, PermissionDenied
from library.filenames import describe_char, first_unsafe_char
from library.models import Page, PageStatus, Role, TextRegion, Transcription, User, Word
from library.ocr_jobs import replace_layout

CORRECTION_ROLES = {Role.librarian, Role.admin}
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
class Version:
    version: int
    source: str
    created_at: object
    created_by: int | None
    note: str | None
    pending: bool


class CorrectionService:
    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions

    def lines(self, page_id: int) -> tuple[int, list[EditableLine]]:
        """The page's revision (send it back with a correction) and its lines as they read now."""
        with self.sessions() as s:
            page = self._page(s, page_id)
            regions = _lines(s, page_id)
            text = page.text or ""
            return page.revision, [EditableLine(n, text[r.char_start:r.char_end], r.x, r.y, r.w, r.h)
                                   for n, r in enumerate(regions)]

    def correct(self, page_id: int, changes: dict[int, str], *, revision: int, actor: User | None = None,
                note: str | None = None) -> int:
        """Replace the text of some lines (``{line number: new text}``); returns the new version number.
        ``revision`` is the one the editor started from: if the page changed since, nothing is saved."""
        if actor is not None and actor.role not in CORRECTION_ROLES:
            raise PermissionDenied(f"user {actor.username!r} ({actor.role.value}) may not correct text")
        clean = {int(n): _check_line(n, t) for n, t in changes.items()}
        with self.sessions.begin() as s:
            page = self._page(s, page_id, lock=True)
            if page.revision != revision:
                raise Conflict("someone changed this page while you were editing it; reload it and correct again")
            regions = _lines(s, page_id)
            unknown = [n for n in clean if not 0 <= n < len(regions)]
            if unknown:
                raise InputRejected(f"page {page.sequence}", f"there is no line {unknown[0] + 1} on this page")
            words = list(s.scalars(select(Word).where(Word.page_id == page_id).order_by(Word.sequence)))
            text, layout = _splice(page.text or "", regions, words, clean)
            if text == page.text:
                return self._latest_version(s, page_id)
            replace_layout(s, page_id, layout)
            version = self._latest_version(s, page_id) + 1
            s.add(Transcription(page_id=page_id, version=version, source="manual", text=text, note=note,
                                created_by=actor.id if actor else None))
            page.text = text
            page.corrected = True
            page.needs_review = False
            page.revision += 1
            page.index_pending = True
            return version

    def accept_machine_reading(self, page_id: int, *, actor: User | None = None) -> int:
        """Use the waiting machine reading instead of the manual correction (which stays in the history)."""
        if actor is not None and actor.role not in CORRECTION_ROLES:
            raise PermissionDenied(f"user {actor.username!r} ({actor.role.value}) may not correct text")
        with self.sessions.begin() as s:
            page = self._page(s, page_id, lock=True)
            if page.pending_ocr_version is None:
                raise Conflict("no new machine reading is waiting for this page")
            t = s.scalars(select(Transcription).where(Transcription.page_id == page_id,
                                                      Transcription.version == page.pending_ocr_version)).one()
            replace_layout(s, page_id, json.loads(t.layout))
            page.text, page.mean_confidence = t.text, t.mean_confidence
            page.corrected, page.pending_ocr_version, page.status_reason = False, None, None
            page.revision += 1
            page.index_pending = True
            return t.version

    def history(self, page_id: int) -> list[Version]:
        with self.sessions() as s:
            page = self._page(s, page_id)
            rows = s.scalars(select(Transcription).where(Transcription.page_id == page_id)
                             .order_by(Transcription.version)).all()
            return [Version(t.version, t.source, t.created_at, t.created_by, t.note,
                            t.version == page.pending_ocr_version) for t in rows]

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


def _lines(s: Session, page_id: int) -> list[TextRegion]:
    return list(s.scalars(select(TextRegion).where(TextRegion.page_id == page_id, TextRegion.kind == "line")
                          .order_by(TextRegion.char_start)))


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


def _splice(text: str, regions: list[TextRegion], words: list[Word], changes: dict[int, str]):
    """The new page text and layout after replacing the given lines' text (offsets recomputed)."""
    out_text, out_words, out_lines = [], [], []
    pos = 0  # in the old text
    new_len = 0
    line_of = {(r.block, r.paragraph, r.line): n for n, r in enumerate(regions)}
    words_by_line: dict[int, list[Word]] = {}
    for w in words:
        n = line_of.get((w.block, w.paragraph, w.line))
        if n is not None:
            words_by_line.setdefault(n, []).append(w)
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
    block_rows = [[b, x0, y0, x1 - x0, y1 - y0, cs, ce] for b, x0, y0, x1, y1, cs, ce in blocks.values()]
    return new_text, {"words": out_words, "lines": out_lines, "blocks": block_rows}


def _boxes_for(tokens: list[str], old_words: list[Word], line: TextRegion):
    """Boxes for the corrected words of a line: the old words' boxes when the count matches,
    else the line's box shared in proportion to each word's length."""
    if len(tokens) == len(old_words):
        return [(w.x, w.y, w.w, w.h, 100.0) for w in old_words]
    total = sum(len(t) for t in tokens) + max(len(tokens) - 1, 0)
    boxes, x = [], line.x
    for t in tokens:
        width = max(1, round(line.w * len(t) / max(total, 1)))
        boxes.append((x, line.y, width, line.h, 100.0))
        x += width + round(line.w / max(total, 1))
    return boxes
