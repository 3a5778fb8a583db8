"""A METS 1.x document for one item: what a METS/ALTO package's ``mets.xml`` says.

Pure functions over plain values (no database, no store): :class:`library.discovery.exports.ExportService`
gathers the item's record, its files and their checksums and asks :func:`mets_document` for the text.

The document holds, in the order the METS schema wants them:

- ``metsHdr``: when it was made, by which library and program;
- two ``dmdSec``: ``DMD_MODS`` (MODS 3: title, name, origin, languages, subjects, the serial as a host
  item with the issue's number and date, the collection, access condition) and ``DMD_DC`` (simple Dublin
  Core, :func:`library.discovery.metadata_export.dublin_core`);
- ``amdSec`` with a ``rightsMD`` (``RIGHTS``: the rights statement and the item's access level);
- ``fileSec``: ``fileGrp USE="MASTER"`` the originals as uploaded (a multi-page original, a PDF or a
  TIFF, is one file shared by its pages) and ``fileGrp USE="FULLTEXT"`` one ALTO per page, each
  ``file`` with ``MIMETYPE``, ``SIZE`` and ``CHECKSUM`` (``CHECKSUMTYPE="SHA-256"``) and an
  ``FLocat`` to its path inside the package (``LOCTYPE="OTHER" OTHERLOCTYPE="FILE"``);
- ``structMap TYPE="PHYSICAL"``: a ``physSequence`` of ``page`` divisions in reading order
  (``ORDER`` = sequence, ``ORDERLABEL`` = the page's label), each pointing to its image and its ALTO;
- ``structMap TYPE="LOGICAL"``: the item as one division (``DMDID``, ``ADMID``) holding the
  :class:`LogicalDivision` list given (articles, sections…), if any;
- ``structLink``: each logical division linked to its pages (``smLink``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from library.discovery.metadata_export import (DC_NS, OAI_DC_NS, ItemRecord, dublin_core, item_url, xml_text)

METS_NS = "http://www.loc.gov/METS/"
MODS_NS = "http://www.loc.gov/mods/v3"
XLINK_NS = "http://www.w3.org/1999/xlink"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATIONS = (f"{METS_NS} http://www.loc.gov/standards/mets/mets.xsd "
                    f"{MODS_NS} http://www.loc.gov/standards/mods/v3/mods-3-8.xsd "
                    f"{OAI_DC_NS} http://www.openarchives.org/OAI/2.0/oai_dc.xsd")
PREFIXES = {"mets": METS_NS, "mods": MODS_NS, "xlink": XLINK_NS, "xsi": XSI_NS, "oai_dc": OAI_DC_NS, "dc": DC_NS}
IMAGE_GROUP = "MASTER"
TEXT_GROUP = "FULLTEXT"
LOGICAL_TYPES = {"book": "monograph", "newspaper": "issue", "magazine": "issue", "manuscript": "manuscript",
                 "other": "monograph"}
LIBRARY = "Thư viện Hà Nội"
SOFTWARE = "heritage"


@dataclass(frozen=True)
class PackageFile:
    """One file of the package: its ``ID`` in the METS, its path in the package, and what it is."""

    file_id: str
    group: str  # IMAGE_GROUP or TEXT_GROUP
    href: str  # relative to mets.xml, "/"-separated
    media_type: str
    size_bytes: int
    sha256: str


@dataclass(frozen=True)
class PackagePage:
    sequence: int  # 1-based reading order
    label: str | None
    image_file_id: str | None
    alto_file_id: str | None


@dataclass(frozen=True)
class LogicalDivision:
    """A part of the item (an article, a section, a chapter): its METS ``TYPE``, its label and the
    sequences of the pages it lies on (in order). Divisions may hold divisions (``parts``)."""

    type: str
    label: str | None
    pages: tuple[int, ...]
    parts: tuple["LogicalDivision", ...] = field(default=())

    @classmethod
    def from_dict(cls, d: dict) -> "LogicalDivision":
        """From ``{"type", "label", "pages": [sequence…], "parts": [...]}`` (as an import keeps them)."""
        return cls(str(d.get("type") or "section"), d.get("label"),
                   tuple(int(n) for n in d.get("pages") or ()),
                   tuple(cls.from_dict(p) for p in d.get("parts") or ()))


def mets_document(record: ItemRecord, files: Sequence[PackageFile], pages: Sequence[PackagePage], *,
                  divisions: Sequence[LogicalDivision] = (), created: datetime, base_url: str = "",
                  access_level: str | None = None) -> str:
    """The METS text (UTF-8 declared) of an item: ``record`` its catalogue record, ``files`` every file
    of the package, ``pages`` in reading order, ``divisions`` its logical structure (may be empty)."""
    for prefix, uri in PREFIXES.items():
        ET.register_namespace(prefix, uri)
    # OBJID: the item's own identifier when it has one (an import takes OBJID for the identifier, so a
    # round trip keeps it), else its stable URL, else none (an import would take a made-up one for real)
    objid = record.identifier or item_url(base_url, record.item_id)
    root = _el(None, "mets", {**({"OBJID": objid} if objid else {}),
                              "LABEL": record.title, "TYPE": record.item_type,
                              f"{{{XSI_NS}}}schemaLocation": SCHEMA_LOCATIONS})
    _header(root, created)
    _dmd(root, "DMD_MODS", "MODS", _mods(record, base_url))
    _dmd(root, "DMD_DC", "DC", _dc(record, base_url))
    _rights(root, record, access_level or record.access_level)
    _file_sec(root, files)
    _physical(root, record, pages)
    _logical(root, record, pages, divisions)
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def physical_id(sequence: int) -> str:
    return f"PHYS_{sequence:05d}"


# ------------------------------------------------------------------ sections
def _header(root: ET.Element, created: datetime) -> None:
    hdr = _el(root, "metsHdr", {"CREATEDATE": created.replace(microsecond=0).isoformat()})
    agent = _el(hdr, "agent", {"ROLE": "CREATOR", "TYPE": "ORGANIZATION"})
    _el(agent, "name").text = LIBRARY
    software = _el(hdr, "agent", {"ROLE": "CREATOR", "TYPE": "OTHER", "OTHERTYPE": "SOFTWARE"})
    _el(software, "name").text = SOFTWARE


def _dmd(root: ET.Element, dmd_id: str, mdtype: str, content: ET.Element) -> None:
    sec = _el(root, "dmdSec", {"ID": dmd_id})
    wrap = _el(sec, "mdWrap", {"MDTYPE": mdtype, "MIMETYPE": "text/xml"})
    _el(wrap, "xmlData").append(content)


def _mods(r: ItemRecord, base_url: str) -> ET.Element:
    mods = ET.Element(f"{{{MODS_NS}}}mods", {"version": "3.8"})

    def sub(parent, tag, text=None, **attrs):
        el = ET.SubElement(parent, f"{{{MODS_NS}}}{tag}", {k: v for k, v in attrs.items() if v is not None})
        if text is not None:
            el.text = xml_text(text)
        return el

    sub(sub(mods, "titleInfo"), "title", r.title)
    if r.creator:
        name = sub(mods, "name")
        sub(name, "namePart", r.creator)
        sub(sub(name, "role"), "roleTerm", "creator", type="text")
    sub(mods, "typeOfResource", "text")
    sub(mods, "genre", r.item_type, authority="local")
    if r.publisher or r.date or r.date_iso:
        origin = sub(mods, "originInfo")
        if r.publisher:
            sub(origin, "publisher", r.publisher)
        if r.date_text:
            sub(origin, "dateIssued", r.date_text)
        if r.date_iso or r.issue_date:
            sub(origin, "dateIssued", r.issue_date or r.date_iso, encoding="w3cdtf", keyDate="yes",
                qualifier="approximate" if r.date_approximate else None)
    for tag in r.language_tags:
        sub(sub(mods, "language"), "languageTerm", tag, type="code", authority="rfc5646")
    if r.description:
        sub(mods, "abstract", r.description)
    for s in r.subjects:
        sub(sub(mods, "subject"), "topic", s)
    if r.serial_title:
        host = sub(mods, "relatedItem", type="host")
        sub(sub(host, "titleInfo"), "title", r.serial_title)
        if r.issue_number or r.issue_date or r.issue_date_text:
            part = sub(host, "part")
            if r.issue_number:
                sub(sub(part, "detail", type="issue"), "number", r.issue_number)
            if r.issue_date or r.issue_date_text:
                sub(part, "date", r.issue_date or r.issue_date_text,
                    encoding="w3cdtf" if r.issue_date else None)
    if r.collection:
        coll = sub(mods, "relatedItem", type="host", displayLabel="collection")
        sub(sub(coll, "titleInfo"), "title", r.collection)
    if r.identifier:
        sub(mods, "identifier", r.identifier, type="local")
    url = item_url(base_url, r.item_id)
    if url:
        sub(mods, "identifier", url, type="uri")
        sub(sub(mods, "location"), "url", url, usage="primary display")
    if r.rights:
        sub(mods, "accessCondition", r.rights, type="use and reproduction")
    info = sub(mods, "recordInfo")
    sub(info, "recordIdentifier", str(r.item_id), source=SOFTWARE)
    return mods


def _dc(r: ItemRecord, base_url: str) -> ET.Element:
    dc = ET.Element(f"{{{OAI_DC_NS}}}dc")
    for name, value in dublin_core(r, base_url=base_url):
        ET.SubElement(dc, f"{{{DC_NS}}}{name}").text = xml_text(value)
    return dc


def _rights(root: ET.Element, r: ItemRecord, access_level: str) -> None:
    amd = _el(root, "amdSec", {"ID": "AMD"})
    rights = _el(amd, "rightsMD", {"ID": "RIGHTS"})
    wrap = _el(rights, "mdWrap", {"MDTYPE": "OTHER", "OTHERMDTYPE": "DC", "MIMETYPE": "text/xml"})
    data = _el(wrap, "xmlData")
    held = ET.SubElement(data, f"{{{OAI_DC_NS}}}dc")
    if r.rights:
        ET.SubElement(held, f"{{{DC_NS}}}rights").text = xml_text(r.rights)
    ET.SubElement(held, f"{{{DC_NS}}}rights").text = f"access: {access_level}"


def _file_sec(root: ET.Element, files: Sequence[PackageFile]) -> None:
    sec = _el(root, "fileSec")
    for group in (IMAGE_GROUP, TEXT_GROUP):
        members = [f for f in files if f.group == group]
        if not members:
            continue
        grp = _el(sec, "fileGrp", {"USE": group, "ID": f"FILEGRP_{group}"})
        for f in members:
            el = _el(grp, "file", {"ID": f.file_id, "MIMETYPE": f.media_type, "SIZE": str(f.size_bytes),
                                   "CHECKSUM": f.sha256, "CHECKSUMTYPE": "SHA-256"})
            _el(el, "FLocat", {"LOCTYPE": "OTHER", "OTHERLOCTYPE": "FILE", f"{{{XLINK_NS}}}type": "simple",
                               f"{{{XLINK_NS}}}href": f.href})


def _physical(root: ET.Element, r: ItemRecord, pages: Sequence[PackagePage]) -> None:
    smap = _el(root, "structMap", {"TYPE": "PHYSICAL"})
    seq = _el(smap, "div", {"ID": "PHYS_00000", "TYPE": "physSequence", "LABEL": r.title})
    for p in pages:
        div = _el(seq, "div", {"ID": physical_id(p.sequence), "TYPE": "page", "ORDER": str(p.sequence),
                               "ORDERLABEL": p.label or str(p.sequence)})
        for file_id in (p.image_file_id, p.alto_file_id):
            if file_id:
                _el(div, "fptr", {"FILEID": file_id})


def _logical(root: ET.Element, r: ItemRecord, pages: Sequence[PackagePage],
             divisions: Sequence[LogicalDivision]) -> None:
    smap = _el(root, "structMap", {"TYPE": "LOGICAL"})
    top = _el(smap, "div", {"ID": "LOG_00000", "TYPE": LOGICAL_TYPES.get(r.item_type, "monograph"),
                            "LABEL": r.title, "DMDID": "DMD_MODS DMD_DC", "ADMID": "RIGHTS"})
    known = {p.sequence for p in pages}
    links: list[tuple[str, int]] = [("LOG_00000", p.sequence) for p in pages]
    counter = [0]

    def add(parent: ET.Element, division: LogicalDivision) -> None:
        counter[0] += 1
        div_id = f"LOG_{counter[0]:05d}"
        attrs = {"ID": div_id, "TYPE": division.type, "ORDER": str(counter[0])}
        if division.label:
            attrs["LABEL"] = division.label
        el = _el(parent, "div", attrs)
        links.extend((div_id, n) for n in division.pages if n in known)
        for part in division.parts:
            add(el, part)

    for division in divisions:
        add(top, division)
    if links:
        struct = _el(root, "structLink")
        for from_id, sequence in links:
            _el(struct, "smLink", {f"{{{XLINK_NS}}}from": from_id, f"{{{XLINK_NS}}}to": physical_id(sequence)})


def _el(parent: ET.Element | None, tag: str, attrs: dict | None = None) -> ET.Element:
    attrs = {k: xml_text(v) for k, v in (attrs or {}).items()}
    name = f"{{{METS_NS}}}{tag}"
    return ET.Element(name, attrs) if parent is None else ET.SubElement(parent, name, attrs)
