"""A METS package — a METS file, its ALTO files and page images, in a folder or
a zip — read into plain data: the descriptive metadata (MODS or Dublin Core),
the pages in physical order with their image and ALTO, and the logical
structure (sections, articles) with the pages and ALTO blocks each covers.

Nothing here touches the catalogue or the store. Every file reference is
checked before it is followed: URLs, absolute paths and relative paths that
leave the package are refused, and so are missing files, malformed XML, DTDs
and entities (:mod:`library.ingest.safe_xml`), each error naming the file.

    package = open_package(Path("issue/"), staging_dir=tmp)   # or a .zip
    package.description.title, [p.order for p in package.pages], package.logical
"""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from library.errors import InputRejected, LimitExceeded
from library.ingest.safe_xml import (DEFAULT_MAX_XML_BYTES, Element, attr, children, descendants, local_name,
                                     read_xml)
from library.settings import Limits

IMAGE_SUFFIXES = (".tif", ".tiff", ".jp2", ".j2k", ".jpg", ".jpeg", ".png")
# file group / file USE words, best first, for the image that becomes the page (thumbnails never do)
IMAGE_USE_RANK = (("master", "images", "image", "primary", "archive", "original"),
                  ("service", "display", "presentation"))
ALTO_USES = ("text", "ocr", "alto", "fulltext", "full text")


@dataclass(frozen=True)
class Description:
    """The item's descriptive metadata as the METS gives it (MODS or DC); None where it says nothing."""

    title: str | None = None
    creator: str | None = None
    publisher: str | None = None
    date: str | None = None  # as written: "1858-07-10"
    languages: tuple[str, ...] = ()  # codes as written: ("fr", "de")
    identifier: str | None = None
    serial_title: str | None = None  # the newspaper an issue belongs to
    issue_date: str | None = None
    issue_number: str | None = None
    volume: str | None = None
    edition: str | None = None
    item_type: str | None = None  # newspaper | magazine | book, from the METS TYPE/profile
    subjects: tuple[str, ...] = ()  # MODS subject/topic, DC subject
    rights: str | None = None  # MODS accessCondition, DC rights
    abstract: str | None = None  # MODS abstract, DC description
    source: str = "METS"  # MODS | DC | METS (only the METS header)


@dataclass(frozen=True)
class PackageFile:
    file_id: str
    href: str  # as written in the METS
    name: str  # its path inside the package ("text/0001.xml")
    path: Path  # where it is on disk (may not exist: see ``exists``)
    use: str  # the file's or its group's USE, lower case
    mimetype: str | None

    @property
    def exists(self) -> bool:
        return self.path.is_file()


@dataclass(frozen=True)
class PhysicalPage:
    order: int  # 1-based, the physical order
    label: str  # ORDERLABEL or the order
    image: PackageFile | None  # None only when the package was opened with require_images=False
    alto: PackageFile | None
    alto_page_id: str | None  # the ALTO Page ID the METS points to (BEGIN), when it says


@dataclass(frozen=True)
class Division:
    """A logical division: an issue, section, article, paragraph, advertisement …"""

    div_id: str
    type: str  # ARTICLE, SECTION … as written
    label: str | None  # LABEL, or the title of its MODS
    order: int | None
    areas: tuple[tuple[int, str | None], ...]  # (page order, ALTO block id or None for the whole page)
    children: tuple["Division", ...] = ()

    @property
    def pages(self) -> list[int]:
        """The physical pages (orders) this division and its children cover."""
        return sorted({p for p, _ in self.all_areas()})

    def all_areas(self) -> list[tuple[int, str | None]]:
        out = list(self.areas)
        for child in self.children:
            out.extend(child.all_areas())
        return out

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def as_dict(self) -> dict:
        return {"id": self.div_id, "type": self.type, "label": self.label, "order": self.order,
                "pages": self.pages, "areas": [{"page": p, "block": b} for p, b in self.areas],
                "children": [c.as_dict() for c in self.children]}


@dataclass(frozen=True)
class MetsPackage:
    root: Path  # the package folder (a zip is extracted into the staging folder first)
    mets: PackageFile
    description: Description
    pages: tuple[PhysicalPage, ...]
    logical: tuple[Division, ...]
    label: str  # how errors and reports name the package

    def articles(self) -> list[Division]:
        return [d for top in self.logical for d in top.walk() if d.type.lower() == "article"]

    def structure(self) -> dict:
        """The logical structure as JSON-ready data (what the import stores beside the item)."""
        return {"format": "heritage-logical-structure/1", "mets": self.mets.name,
                "pages": [{"order": p.order, "label": p.label, "alto_page_id": p.alto_page_id} for p in self.pages],
                "divisions": [d.as_dict() for d in self.logical]}


# ------------------------------------------------------------------ the recipe
def open_package(path: Path, *, staging_dir: Path, limits: Limits | None = None, require_images: bool = True,
                 max_xml_bytes: int = DEFAULT_MAX_XML_BYTES) -> MetsPackage:
    """Read the METS package at ``path`` (a folder, a zip, or a METS file inside its folder).

    A zip is extracted (with the ingest's zip checks) into ``staging_dir``. ``require_images=False``
    accepts pages whose images are missing (e.g. a package delivered without them) — their ``image`` is
    None; ALTO files are always required. Raises InputRejected naming the file at the first problem.
    """
    limits = limits or Limits()
    path = Path(path)
    label = path.name
    if path.is_file() and zipfile.is_zipfile(path):
        root = _extract_zip(path, staging_dir, limits)
        mets_path = find_mets_file(root, label=label)
    elif path.is_dir():
        root = path
        mets_path = find_mets_file(root, label=label)
    elif path.is_file():
        root, mets_path = path.parent, path
    else:
        raise InputRejected(label, "no such file or folder")
    return read_mets(mets_path, root=root, require_images=require_images, max_xml_bytes=max_xml_bytes,
                     package_label=label)


def find_mets_file(root: Path, *, label: str) -> Path:
    """The one METS file of a package folder (the shallowest ``*.xml`` whose root is ``<mets>``)."""
    found = find_mets_files(root)
    if not found:
        raise InputRejected(label, "no METS file found in the package")
    shallowest = min(len(p.relative_to(root).parts) for p in found)
    top = [p for p in found if len(p.relative_to(root).parts) == shallowest]
    if len(top) > 1:
        names = ", ".join(str(p.relative_to(root)) for p in top)
        raise InputRejected(label, f"more than one METS file ({names}); give one package at a time")
    return top[0]


def find_mets_files(root: Path, *, max_files: int = 10_000) -> list[Path]:
    """The ``*.xml`` files under ``root`` whose first bytes show a ``<mets`` root element."""
    out = []
    for n, candidate in enumerate(sorted(Path(root).rglob("*.xml"))):
        if n > max_files:
            break
        if candidate.is_symlink() or not candidate.is_file():
            continue
        with open(candidate, "rb") as f:
            head = f.read(4096)
        if _looks_like_mets(head):
            out.append(candidate)
    return out


def is_mets_package(path: Path) -> bool:
    """Whether ``path`` is a METS package: a folder holding a METS file, a zip holding one, or a METS file."""
    path = Path(path)
    try:
        if path.is_dir():
            return bool(find_mets_files(path, max_files=2_000))
        if path.is_file() and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist()[:10_000]:
                    if info.filename.lower().endswith(".xml") and not info.is_dir():
                        with archive.open(info) as f:
                            if _looks_like_mets(f.read(4096)):
                                return True
            return False
        if path.is_file() and path.suffix.lower() == ".xml":
            with open(path, "rb") as f:
                return _looks_like_mets(f.read(4096))
    except (OSError, zipfile.BadZipFile):
        return False
    return False


def read_mets(mets_path: Path, *, root: Path, require_images: bool = True,
              max_xml_bytes: int = DEFAULT_MAX_XML_BYTES, package_label: str | None = None) -> MetsPackage:
    """Read the METS file ``mets_path`` of the package folder ``root`` (see :func:`open_package`)."""
    root = Path(root).resolve()
    mets_path = Path(mets_path)
    mets_name = _name_in(root, mets_path.resolve())
    doc = read_xml(mets_path, label=mets_name, max_bytes=max_xml_bytes)
    if local_name(doc.tag) != "mets":
        raise InputRejected(mets_name, f"not a METS file (its root element is <{local_name(doc.tag)}>)")
    base = mets_path.resolve().parent
    files = _file_section(doc, root, base, mets_name)
    dmd = _descriptive_sections(doc)
    physical, logical_map = _struct_maps(doc, mets_name)
    pages = _physical_pages(physical, files, mets_name, require_images, dmd)
    for page in pages:
        _require_alto(page, mets_name)
    page_by_file = {}
    for page in pages:
        for f in (page.image, page.alto):
            if f is not None:
                page_by_file[f.file_id] = page.order
    for div in descendants(physical, "div"):  # files a page points to but we did not choose (PDF …)
        for fid in _file_ids(div):
            page_by_file.setdefault(fid, _page_order_of(div, pages, physical))
    links = _struct_links(doc, physical, pages)
    logical = () if logical_map is None else tuple(
        _division(d, dmd, page_by_file, links) for d in children(logical_map, "div"))
    description = _description(doc, physical, logical_map, dmd)
    mets_file = PackageFile("", mets_name, mets_name, mets_path, "mets", "text/xml")
    return MetsPackage(root=root, mets=mets_file, description=description, pages=tuple(pages), logical=logical,
                       label=package_label or mets_name)


# ------------------------------------------------------------------ file references
def resolve_href(href: str, *, root: Path, base: Path, label: str) -> tuple[str, Path]:
    """``(name in the package, path on disk)`` of an ``xlink:href``; refuses URLs, absolute paths and paths
    that leave ``root`` (after following symbolic links). ``base`` is the METS file's folder."""
    raw = (href or "").strip()
    if not raw:
        raise InputRejected(label, "a file reference (xlink:href) is empty")
    if "\x00" in raw or raw.startswith("\\"):
        raise InputRejected(label, f"file reference {href!r} is not a relative path inside the package")
    parts = urlsplit(raw)
    if parts.scheme and len(parts.scheme) == 1:
        raise InputRejected(label, f"file reference {href!r} is an absolute (drive) path; "
                                   "a package must refer to its files by relative paths")
    if parts.scheme and parts.scheme.lower() != "file":
        raise InputRejected(label, f"file reference {href!r} is a URL ({parts.scheme}:); a package must hold its "
                                   "files, nothing is fetched from the network")
    if parts.scheme:  # file:  — only file://./relative or file:relative
        if parts.netloc not in ("", "."):
            raise InputRejected(label, f"file reference {href!r} names another host ({parts.netloc})")
        rel = parts.path.lstrip("/") if parts.netloc == "." else parts.path
    else:
        rel = parts.path
    rel = unquote(rel).replace("\\", "/")
    if rel.startswith("/") or (len(rel) > 1 and rel[1] == ":"):
        raise InputRejected(label, f"file reference {href!r} is an absolute path; a package must refer to its files "
                                   "by relative paths")
    target = (base / rel).resolve()
    if target != root and root not in target.parents:
        raise InputRejected(label, f"file reference {href!r} points outside the package")
    return _name_in(root, target), target


def _name_in(root: Path, path: Path) -> str:
    try:
        return PurePosixPath(path.relative_to(root)).as_posix()
    except ValueError:
        return path.name


def _file_section(doc: Element, root: Path, base: Path, mets_name: str) -> dict[str, PackageFile]:
    files: dict[str, PackageFile] = {}
    for sec in children(doc, "fileSec"):
        for grp in descendants(sec, "fileGrp"):
            group_use = (grp.get("USE") or grp.get("ID") or "").lower()
            for f in children(grp, "file"):
                fid = f.get("ID") or ""
                locs = children(f, "FLocat")
                if not locs:
                    continue
                href = attr(locs[0], "href") or ""
                name, path = resolve_href(href, root=root, base=base, label=mets_name)
                use = (f.get("USE") or group_use).lower()
                files[fid] = PackageFile(fid, href, name, path, use, f.get("MIMETYPE"))
    return files


def _require_alto(page: PhysicalPage, mets_name: str) -> None:
    if page.alto is not None and not page.alto.exists:
        raise InputRejected(page.alto.name,
                            f"missing from the package (page {page.order}'s ALTO, named in {mets_name})")


# ------------------------------------------------------------------ descriptive metadata
def _descriptive_sections(doc: Element) -> dict[str, Element]:
    """dmdSec ID → the MODS or DC element it wraps."""
    out = {}
    for sec in children(doc, "dmdSec"):
        for element in sec.iter():
            if local_name(element.tag) in ("mods", "dc", "qualifieddc") and element is not sec:
                out[sec.get("ID") or ""] = element
                break
        else:
            for element in sec.iter():  # a DC record without a wrapper element: xmlData holds dc:* directly
                if local_name(element.tag) == "xmlData" and len(element):
                    out[sec.get("ID") or ""] = element
                    break
    return out


def _description(doc: Element, physical: Element, logical: Element | None, dmd: dict[str, Element]) -> Description:
    """The item's metadata from the dmdSecs its outermost divisions name (issue, volume, newspaper),
    outermost first, the first value found winning; the METS LABEL is the title when it has one."""
    ids: list[str] = []
    for smap in (physical, logical):
        if smap is None:
            continue
        for div in descendants(smap, "div"):
            if div.get("DMDID") and div.get("TYPE", "").lower().split(":")[-1] not in ("page",):
                if _is_item_level(div):
                    ids.extend(div.get("DMDID").split())
    if not ids and dmd:
        ids = [next(iter(dmd))]
    values: dict[str, object] = {}
    source = "METS"
    for dmd_id in dict.fromkeys(ids):
        element = dmd.get(dmd_id)
        if element is None:
            continue
        found = _mods_values(element) if local_name(element.tag) == "mods" else _dc_values(element)
        source = "MODS" if local_name(element.tag) == "mods" else "DC"
        for key, value in found.items():
            if value and not values.get(key):
                values[key] = value
    serial_from_record = values.pop("record_title", None)
    kind = _item_type(doc)
    label = (doc.get("LABEL") or "").strip() or None
    title = label or serial_from_record
    serial = values.pop("serial_title", None) or (serial_from_record if kind in ("newspaper", "magazine") else None)
    if kind in ("newspaper", "magazine") and values.get("date") and not values.get("issue_date"):
        values["issue_date"] = values["date"]
    identifier = (doc.get("OBJID") or "").strip() or values.pop("identifier", None)
    values.pop("identifier", None)
    return Description(title=title, serial_title=serial, item_type=kind, source=source, identifier=identifier,
                       **values)


def _is_item_level(div: Element) -> bool:
    kind = (div.get("TYPE") or "").lower().split(":")[-1]
    return kind in ("newspaper", "issue", "volume", "periodical", "magazine", "monograph", "book", "item", "")


def _text(element: Element | None) -> str | None:
    if element is None:
        return None
    text = " ".join("".join(element.itertext()).split())
    return text or None


def _first_desc(element: Element, name: str, *, skip_related: bool = True) -> Element | None:
    for e in _mods_iter(element, skip_related):
        if local_name(e.tag) == name:
            return e
    return None


def _mods_iter(element: Element, skip_related: bool):
    for child in element:
        if skip_related and local_name(child.tag) == "relatedItem":
            continue
        yield child
        yield from _mods_iter(child, skip_related)


def mods_title(mods: Element) -> str | None:
    """nonSort + title (+ ": " subTitle) of the first titleInfo of a MODS record (not of a related item)."""
    info = _first_desc(mods, "titleInfo")
    if info is None:
        return None
    parts = {local_name(c.tag): _text(c) for c in info}
    title = " ".join(p for p in (parts.get("nonSort"), parts.get("title")) if p)
    if parts.get("subTitle"):
        title = f"{title}: {parts['subTitle']}" if title else parts["subTitle"]
    return title or None


def _mods_values(mods: Element) -> dict[str, object]:
    out: dict[str, object] = {"record_title": mods_title(mods)}
    names = []
    for name in (e for e in _mods_iter(mods, True) if local_name(e.tag) == "name"):
        parts = [_text(p) for p in name if local_name(p.tag) == "namePart"]
        if any(parts):
            names.append(" ".join(p for p in parts if p))
    out["creator"] = "; ".join(names) or None
    out["publisher"] = _text(_first_desc(mods, "publisher"))
    dates = [e for e in _mods_iter(mods, True) if local_name(e.tag) == "dateIssued"]
    key = [e for e in dates if e.get("keyDate") == "yes"]
    out["date"] = _text((key or dates or [None])[0])
    out["languages"] = tuple(dict.fromkeys(
        _text(e) for e in _mods_iter(mods, True) if local_name(e.tag) == "languageTerm" and _text(e)))
    out["subjects"] = tuple(dict.fromkeys(
        _text(e) for e in _mods_iter(mods, True) if local_name(e.tag) == "topic" and _text(e)))
    out["rights"] = _text(_first_desc(mods, "accessCondition"))
    out["abstract"] = _text(_first_desc(mods, "abstract"))
    ident = next((e for e in _mods_iter(mods, True) if local_name(e.tag) == "identifier"), None)
    out["identifier"] = _text(ident)
    for related in (e for e in mods.iter() if local_name(e.tag) == "relatedItem" and e.get("type") == "host"):
        out["serial_title"] = mods_title(related)
        if not out["identifier"]:
            host_id = next((e for e in related.iter() if local_name(e.tag) == "identifier"), None)
            out["serial_identifier"] = _text(host_id)
        _part_details(related, out)
    _part_details(mods, out, skip_related=True)
    part_number = _text(_first_desc(mods, "partNumber"))
    if part_number and not out.get("issue_number"):
        out["issue_number"] = part_number
    out.pop("serial_identifier", None)
    return out


def _part_details(element: Element, out: dict, *, skip_related: bool = False) -> None:
    scope = _mods_iter(element, True) if skip_related else element.iter()
    details = (e for e in scope if local_name(e.tag) == "detail")
    for detail in details:
        kind = (detail.get("type") or "").lower()
        number = _text(next((c for c in detail if local_name(c.tag) == "number"), None))
        caption = _text(next((c for c in detail if local_name(c.tag) == "caption"), None))
        if kind == "issue" and number and not out.get("issue_number"):
            out["issue_number"] = number
        elif kind == "volume" and number and not out.get("volume"):
            out["volume"] = number
        elif kind == "edition" and (caption or number) and not out.get("edition"):
            out["edition"] = caption or number


def _dc_values(dc: Element) -> dict[str, object]:
    def first(name):
        return _text(next((e for e in dc.iter() if local_name(e.tag) == name), None))

    def every(name):
        return tuple(dict.fromkeys(_text(e) for e in dc.iter() if local_name(e.tag) == name and _text(e)))

    return {"record_title": first("title"), "creator": first("creator"), "publisher": first("publisher"),
            "date": first("date"), "languages": every("language"), "identifier": first("identifier"),
            "subjects": every("subject"), "rights": first("rights"), "abstract": first("description")}


def _item_type(doc: Element) -> str | None:
    words = " ".join(filter(None, (doc.get("TYPE"), doc.get("PROFILE")))).lower()
    if "newspaper" in words:
        return "newspaper"
    if "magazine" in words or "periodical" in words:
        return "magazine"
    if "monograph" in words or "book" in words:
        return "book"
    return None


# ------------------------------------------------------------------ structure maps
def _struct_maps(doc: Element, mets_name: str) -> tuple[Element, Element | None]:
    maps = children(doc, "structMap")
    typed = {(m.get("TYPE") or "").lower(): m for m in maps}
    physical = typed.get("physical")
    if physical is None:
        physical = next((m for m in maps if (m.get("TYPE") or "").lower() not in ("logical", "singlefile")), None)
    if physical is None:
        raise InputRejected(mets_name, "the METS has no physical structure map (structMap TYPE=\"PHYSICAL\")")
    logical = typed.get("logical")
    return physical, logical


def _page_divs(physical: Element) -> list[Element]:
    divs = [d for d in descendants(physical, "div") if (d.get("TYPE") or "").lower().split(":")[-1] == "page"]
    if not divs:  # untyped: the divisions that point to files directly
        divs = [d for d in descendants(physical, "div") if children(d, "fptr")]
    return divs


def _page_divs_in_order(physical: Element) -> list[Element]:
    divs = _page_divs(physical)
    if divs and all((d.get("ORDER") or "").isdigit() for d in divs):
        divs = sorted(divs, key=lambda d: int(d.get("ORDER")))  # stable: document order breaks ties
    return divs


def _file_ids(div: Element) -> list[str]:
    ids = []
    for fptr in children(div, "fptr"):
        if fptr.get("FILEID"):
            ids.append(fptr.get("FILEID"))
        for area in descendants(fptr, "area"):
            if area.get("FILEID"):
                ids.append(area.get("FILEID"))
    return ids


def _alto_begin(div: Element, file_id: str) -> str | None:
    for area in descendants(div, "area"):
        if area.get("FILEID") == file_id and area.get("BEGIN"):
            return area.get("BEGIN")
    return None


def _physical_pages(physical: Element, files: dict[str, PackageFile], mets_name: str,
                    require_images: bool, dmd: dict[str, Element]) -> list[PhysicalPage]:
    divs = _page_divs_in_order(physical)
    if not divs:
        raise InputRejected(mets_name, "the physical structure map lists no pages")
    pages = []
    for n, div in enumerate(divs, start=1):
        ids = _file_ids(div)
        unknown = [fid for fid in ids if fid not in files]
        if unknown:
            raise InputRejected(mets_name,
                                f"page {n} points to file ID {unknown[0]!r}, which the fileSec does not list")
        page_files = [files[fid] for fid in ids]
        altos = [f for f in page_files if _is_alto(f)]
        images = sorted((f for f in page_files if _is_image(f)), key=_image_rank)
        image = next((f for f in images if f.exists), None)
        if image is None and require_images:
            if not images:
                raise InputRejected(mets_name, f"page {n} has no image file")
            raise InputRejected(images[0].name, f"missing from the package (page {n}'s image, named in {mets_name})")
        alto = altos[0] if altos else None
        label = (div.get("ORDERLABEL") or _page_number(div, dmd) or str(n)).strip()
        pages.append(PhysicalPage(order=n, label=label, image=image, alto=alto,
                                  alto_page_id=_alto_begin(div, alto.file_id) if alto else None))
    return pages


def _page_number(div: Element, dmd: dict[str, Element]) -> str | None:
    """The printed page number a page's own MODS gives (``part/detail[@type="page number"]/number``)."""
    for dmd_id in (div.get("DMDID") or "").split():
        element = dmd.get(dmd_id)
        for detail in (e for e in (element.iter() if element is not None else ()) if local_name(e.tag) == "detail"):
            if (detail.get("type") or "").lower() in ("page number", "page"):
                number = _text(next((c for c in detail if local_name(c.tag) == "number"), None))
                if number:
                    return number
    return None


def _is_alto(f: PackageFile) -> bool:
    if not f.name.lower().endswith(".xml"):
        return False
    return any(u in f.use for u in ALTO_USES) or "alto" in (f.mimetype or "").lower() or f.use == ""


def _is_image(f: PackageFile) -> bool:
    if "thumb" in f.use:
        return False
    mime = (f.mimetype or "").lower()
    return mime.startswith("image/") or f.name.lower().endswith(IMAGE_SUFFIXES)


def _image_rank(f: PackageFile) -> int:
    for rank, words in enumerate(IMAGE_USE_RANK):
        if f.use in words:
            return rank
    return len(IMAGE_USE_RANK)


def _page_order_of(div: Element, pages: list[PhysicalPage], physical: Element) -> int | None:
    divs = _page_divs_in_order(physical)
    for n, page_div in enumerate(divs, start=1):
        if div is page_div or any(d is div for d in page_div.iter()):
            return pages[n - 1].order if n - 1 < len(pages) else None
    return None


def _struct_links(doc: Element, physical: Element, pages: list[PhysicalPage]) -> dict[str, list[int]]:
    """structLink: logical division ID → the page orders its ``smLink``s point to."""
    divs = _page_divs_in_order(physical)
    order_by_div = {d.get("ID"): page.order for d, page in zip(divs, pages)}
    links: dict[str, list[int]] = {}
    for link in (e for sec in children(doc, "structLink") for e in sec.iter() if local_name(e.tag) == "smLink"):
        page = order_by_div.get(attr(link, "to"))
        if page is not None:
            links.setdefault(attr(link, "from") or "", []).append(page)
    return links


def _division(div: Element, dmd: dict[str, Element], page_by_file: dict[str, int],
              links: dict[str, list[int]] | None = None) -> Division:
    links = links or {}
    areas = [(page, None) for page in links.get(div.get("ID") or "", [])]
    for fptr in children(div, "fptr"):
        if fptr.get("FILEID") and fptr.get("FILEID") in page_by_file:
            areas.append((page_by_file[fptr.get("FILEID")], None))
        for area in descendants(fptr, "area"):
            page = page_by_file.get(area.get("FILEID") or "")
            if page is not None:
                areas.append((page, area.get("BEGIN")))
    title = None
    for dmd_id in (div.get("DMDID") or "").split():
        element = dmd.get(dmd_id)
        if element is not None:
            title = mods_title(element) if local_name(element.tag) == "mods" else _dc_values(element)["record_title"]
            if title:
                break
    order = div.get("ORDER")
    return Division(div_id=div.get("ID") or "", type=div.get("TYPE") or "", label=title or div.get("LABEL"),
                    order=int(order) if order and order.isdigit() else None, areas=tuple(areas),
                    children=tuple(_division(c, dmd, page_by_file, links) for c in children(div, "div")))


# ------------------------------------------------------------------ zips
def _looks_like_mets(head: bytes) -> bool:
    text = head.decode("utf-8", errors="replace")
    start = text.find("<", text.find("?>") + 1 if text.lstrip().startswith("<?xml") else 0)
    while start != -1 and text.startswith(("<!--", "<!"), start):
        start = text.find("<", text.find(">", start) + 1)
    if start == -1:
        return False
    tag = text[start + 1:].split(None, 1)[0].split(">", 1)[0]
    return tag.rsplit(":", 1)[-1] == "mets"


def _extract_zip(path: Path, staging_dir: Path, limits: Limits) -> Path:
    """Extract a package zip into ``staging_dir``, refusing hostile entries (absolute or climbing paths,
    links, encrypted or oversized entries, bombs); returns the folder."""
    label = path.name
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputRejected(label, f"corrupt zip archive ({exc}); make the zip again") from None
    target = Path(staging_dir) / "package"
    target.mkdir(parents=True, exist_ok=True)
    total = 0
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_zip_entries:
            raise LimitExceeded(label, f"the zip holds more than {limits.max_zip_entries:,} entries")
        for info in infos:
            entry = f"{info.orig_filename} (in {label})"
            parts = _zip_parts(info.orig_filename)
            if info.is_dir() or not parts:
                continue
            problem = _zip_entry_problem(info, limits)
            if problem:
                raise (LimitExceeded if "limit" in problem else InputRejected)(entry, problem)
            total += info.file_size
            if total > limits.max_zip_total_bytes:
                raise LimitExceeded(label, f"the zip expands past the limit of {limits.max_zip_total_bytes:,} bytes")
            dest = target.joinpath(*parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            with archive.open(info) as src, open(dest, "wb") as out:
                while chunk := src.read(1024 * 1024):
                    written += len(chunk)
                    if written > info.file_size:
                        raise InputRejected(entry, "the entry is larger than its header says; make the zip again")
                    out.write(chunk)
    return target


def _zip_entry_problem(info: zipfile.ZipInfo, limits: Limits) -> str | None:
    raw = info.orig_filename
    mode = info.external_attr >> 16
    if "\x00" in raw:
        return "the entry name contains a NUL byte"
    if raw.startswith(("/", "\\")) or (len(raw) > 1 and raw[1] == ":"):
        return "the entry has an absolute path; a package zip must hold relative paths only"
    if ".." in raw.replace("\\", "/").split("/"):
        return "the entry path contains '..', which would climb out of the package"
    if stat.S_ISLNK(mode):
        return "a symbolic link inside the zip; links are not extracted"
    if info.flag_bits & 0x1:
        return "the entry is encrypted; make the zip again without a password"
    if info.file_size > limits.max_file_bytes:
        return f"the file is {info.file_size:,} bytes, over the limit of {limits.max_file_bytes:,} per file"
    if info.file_size > 1024 * 1024 and info.file_size > limits.max_zip_ratio * max(info.compress_size, 1):
        return f"the entry expands more than {limits.max_zip_ratio}:1, over the limit; it looks like a zip bomb"
    return None


def _zip_parts(raw: str) -> list[str]:
    return [p for p in raw.replace("\\", "/").split("/") if p not in ("", ".")]


