"""The catalogue records of many items, for spreadsheets and for other catalogues: CSV and Dublin Core XML.

What is exported is chosen by the caller (every item of a collection, or the items a search found),
and only the items the actor may see are ever read (:func:`library.access.visible_condition`):

- :meth:`MetadataExporter.collection_records` walks a collection's items in id order by keyset pages
  of ``batch_size`` rows (``WHERE id > last ORDER BY id LIMIT n``), one short session per page, so a
  collection of any size streams in constant memory;
- :meth:`MetadataExporter.records_of` reads the records of a short list of ids (a search's results).

The writers turn records into text chunks, lazily, for a streamed HTTP answer or a file:

- :func:`csv_chunks`: UTF-8 with a byte order mark (Excel otherwise reads UTF-8 as the ANSI code page
  and breaks every Vietnamese letter; LibreOffice accepts the mark), one row per item, NFC text,
  cells that a spreadsheet would take for a formula prefixed with an apostrophe;
- :func:`dc_xml_chunks`: a ``<records>`` element holding one ``<oai_dc:dc>`` per item, as an
  OAI-PMH ``oai_dc`` record reads.

:func:`dublin_core` is the one mapping from an :class:`ItemRecord` to the fifteen Dublin Core
elements; the METS export (:mod:`library.discovery.mets`) uses it too.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from library.access import Access, Actor
from library.catalogue.models import Collection, Item, Page
from library.errors import NotFound

BATCH_SIZE = 500  # items per keyset page
BOM = "\ufeff"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
OAI_DC_XSD = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
# tesseract language codes → BCP 47 (RFC 5646), the form Dublin Core and MODS (authority rfc5646) take
BCP47 = {"vie": "vi", "eng": "en", "fra": "fr", "deu": "de", "chi_tra": "zh-Hant", "chi_sim": "zh-Hans",
         "lat": "la", "jpn": "ja", "rus": "ru", "lzh": "lzh"}
DCMI_TYPE = "Text"  # every item here is a scanned text (books, issues, manuscripts)
CSV_COLUMNS = ("item_id", "url", "title", "creator", "date", "publisher", "subject", "description", "language",
               "type", "identifier", "rights", "collection", "serial_title", "issue_date", "issue_number", "pages")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot carry


@dataclass(frozen=True)
class ItemRecord:
    """An item's catalogue record as exported: plain values, NFC text, no ORM object."""

    item_id: int
    title: str
    creator: str | None = None
    date_text: str | None = None
    date_iso: str | None = None
    date_approximate: bool = False
    publisher: str | None = None
    languages: str = "vie"  # tesseract codes joined by "+"
    item_type: str = "book"
    subject: str | None = None
    identifier: str | None = None
    rights: str | None = None
    description: str | None = None
    serial_title: str | None = None
    issue_date_text: str | None = None
    issue_date: str | None = None  # ISO 8601 day
    issue_number: str | None = None
    collection: str | None = None  # the collection's name
    access_level: str = "public"  # the item's own level (its collection may narrow it)
    pages: int = 0

    @property
    def date(self) -> str | None:
        """The date as catalogued (the issue's date for an issue of a serial)."""
        return self.date_text or self.date_iso or self.issue_date_text or self.issue_date

    @property
    def language_tags(self) -> list[str]:
        """BCP 47 tags of the item's languages (``vie+fra`` → ``["vi", "fr"]``); an unknown code as is."""
        return [BCP47.get(code, code) for code in (self.languages or "").split("+") if code]

    @property
    def subjects(self) -> list[str]:
        """The subject headings (cataloguers separate several with ``;``)."""
        return [s.strip() for s in (self.subject or "").split(";") if s.strip()]


def item_record(item: Item, *, collection_name: str | None = None, pages: int = 0) -> ItemRecord:
    """The export record of a catalogue :class:`Item` (read inside its session)."""
    return ItemRecord(
        item_id=item.id, title=_nfc(item.title) or "", creator=_nfc(item.creator), date_text=_nfc(item.date_text),
        date_iso=item.date_iso, date_approximate=bool(item.date_approximate), publisher=_nfc(item.publisher),
        languages=item.languages or "", item_type=item.item_type.value if item.item_type else "book",
        subject=_nfc(item.subject), identifier=_nfc(item.identifier), rights=_nfc(item.rights),
        description=_nfc(item.description), serial_title=_nfc(item.serial_title),
        issue_date_text=_nfc(item.issue_date_text),
        issue_date=item.issue_date.isoformat() if item.issue_date else None, issue_number=_nfc(item.issue_number),
        collection=_nfc(collection_name), access_level=item.access_level.value if item.access_level else "public",
        pages=pages)


def item_url(base_url: str, item_id: int) -> str | None:
    """The item's stable public URL, or ``None`` without a base URL."""
    return f"{base_url.rstrip('/')}/items/{item_id}" if base_url else None


def dublin_core(record: ItemRecord, *, base_url: str = "") -> list[tuple[str, str]]:
    """The record as simple Dublin Core: ``[(element, value), …]`` in the order of the fifteen elements,
    empty values left out. ``identifier`` holds the catalogue's identifier and the item's URL;
    ``relation`` the serial and the collection the item belongs to."""
    dc: list[tuple[str, str]] = [("title", record.title)]
    if record.creator:
        dc.append(("creator", record.creator))
    dc += [("subject", s) for s in record.subjects]
    if record.description:
        dc.append(("description", record.description))
    if record.publisher:
        dc.append(("publisher", record.publisher))
    if record.issue_date or record.date_iso:
        dc.append(("date", record.issue_date or record.date_iso))
    elif record.date:
        dc.append(("date", record.date))
    dc += [("type", DCMI_TYPE), ("type", record.item_type)]
    if record.identifier:
        dc.append(("identifier", record.identifier))
    url = item_url(base_url, record.item_id)
    if url:
        dc.append(("identifier", url))
    dc += [("language", tag) for tag in record.language_tags]
    if record.serial_title:
        issue = " ".join(p for p in (record.serial_title, _issue_words(record)) if p)
        dc.append(("relation", issue))
    if record.collection:
        dc.append(("relation", record.collection))
    if record.rights:
        dc.append(("rights", record.rights))
    return [(name, value) for name, value in dc if value]


class MetadataExporter:
    """Reads the records to export, only those the actor may see."""

    def __init__(self, sessions: sessionmaker[Session], access: Access):
        self.sessions = sessions
        self.access = access

    def collection(self, actor: Actor, ref: int | str) -> tuple[int, str]:
        """``(id, name)`` of the collection ``ref`` (id, slug or name) if the actor may see it;
        :class:`~library.errors.NotFound` otherwise (a hidden collection answers as a missing one)."""
        text = str(ref).strip()
        with self.sessions() as s:
            q = select(Collection.id, Collection.name).where(self.access.visible_collections(actor))
            row = None
            if text.isdigit() and 0 < int(text) < 2**31:
                row = s.execute(q.where(Collection.id == int(text))).first()
            if row is None and text:
                row = s.execute(q.where((Collection.slug == text) | (Collection.name == text))
                                .order_by(Collection.id)).first()
        if row is None:
            raise NotFound(f"no collection {text[:80]!r}")
        return row.id, row.name

    def collection_records(self, actor: Actor, collection_id: int, *,
                           batch_size: int = BATCH_SIZE) -> Iterator[ItemRecord]:
        """Every item of the collection the actor may see, in id order, ``batch_size`` at a time."""
        last = 0
        while True:
            with self.sessions() as s:
                items = list(s.scalars(
                    select(Item).where(Item.collection_id == collection_id, Item.id > last,
                                       self.access.visible(actor))
                    .order_by(Item.id).limit(batch_size)))
                records = self._records(s, items)
            yield from records
            if len(items) < batch_size:
                return
            last = items[-1].id

    def records_of(self, actor: Actor, item_ids: Iterable[int]) -> list[ItemRecord]:
        """The records of ``item_ids`` the actor may see, in the order given (a search's ranking)."""
        order = list(dict.fromkeys(int(i) for i in item_ids))
        if not order:
            return []
        with self.sessions() as s:
            items = list(s.scalars(select(Item).where(Item.id.in_(order), self.access.visible(actor))))
            records = {r.item_id: r for r in self._records(s, items)}
        return [records[i] for i in order if i in records]

    @staticmethod
    def _records(s: Session, items: list[Item]) -> list[ItemRecord]:
        if not items:
            return []
        ids = [it.id for it in items]
        pages = dict(s.execute(select(Page.item_id, func.count()).where(Page.item_id.in_(ids))
                               .group_by(Page.item_id)).all())
        cids = {it.collection_id for it in items if it.collection_id is not None}
        names = dict(s.execute(select(Collection.id, Collection.name).where(Collection.id.in_(cids))).all()) if cids else {}
        return [item_record(it, collection_name=names.get(it.collection_id), pages=pages.get(it.id, 0))
                for it in items]


# ------------------------------------------------------------------ writers
def csv_safe(value) -> str:
    """A cell a spreadsheet shows as text: one that could start a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_chunks(records: Iterable[ItemRecord], *, base_url: str = "", rows_per_chunk: int = 200) -> Iterator[str]:
    """CSV text (``CSV_COLUMNS``), the byte order mark first; one chunk per ``rows_per_chunk`` rows."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for n, r in enumerate(records, start=1):
        writer.writerow([csv_safe(v) for v in (
            r.item_id, item_url(base_url, r.item_id), r.title, r.creator, r.date, r.publisher, "; ".join(r.subjects),
            r.description, "; ".join(r.language_tags), r.item_type, r.identifier, r.rights, r.collection,
            r.serial_title, r.issue_date or r.issue_date_text, r.issue_number, r.pages)])
        if n % rows_per_chunk == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    if out.tell():
        yield out.getvalue()


def dc_xml_chunks(records: Iterable[ItemRecord], *, base_url: str = "", label: str | None = None) -> Iterator[str]:
    """``<records>`` with one ``<oai_dc:dc>`` per record, UTF-8, one chunk per record."""
    attrs = f" label={quoteattr(xml_text(label))}" if label else ""
    yield ('<?xml version="1.0" encoding="UTF-8"?>\n'
           f'<records xmlns:oai_dc="{OAI_DC_NS}" xmlns:dc="{DC_NS}" xmlns:xsi="{XSI_NS}"{attrs}>\n')
    for r in records:
        yield dc_element(r, base_url=base_url) + "\n"
    yield "</records>\n"


def dc_element(record: ItemRecord, *, base_url: str = "", indent: str = " ") -> str:
    """One ``<oai_dc:dc>`` element (the ``oai_dc`` and ``dc`` prefixes bound by an enclosing element)."""
    lines = [f'{indent}<oai_dc:dc xsi:schemaLocation="{OAI_DC_NS} {OAI_DC_XSD}">']
    lines += [f"{indent} <dc:{name}>{escape(xml_text(value))}</dc:{name}>"
              for name, value in dublin_core(record, base_url=base_url)]
    lines.append(f"{indent}</oai_dc:dc>")
    return "\n".join(lines)


def write_chunks(chunks: Iterable[str], path: Path) -> int:
    """Write text chunks to ``path`` (UTF-8) through a temporary file moved into place; bytes written."""
    tmp = path.with_name(path.name + ".part")
    size = 0
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            for chunk in chunks:
                fh.write(chunk)
                size += len(chunk.encode("utf-8"))
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return size


def xml_text(value: str | None) -> str:
    """NFC text without the control characters XML 1.0 cannot carry."""
    return _NOT_XML.sub("", unicodedata.normalize("NFC", value or ""))


def _issue_words(record: ItemRecord) -> str:
    parts = []
    if record.issue_number:
        parts.append(f"số {record.issue_number}")
    if record.issue_date_text or record.issue_date:
        parts.append(record.issue_date_text or record.issue_date)
    return ", ".join(parts)


def _nfc(text: str | None) -> str | None:
    return unicodedata.normalize("NFC", text) if text else text
