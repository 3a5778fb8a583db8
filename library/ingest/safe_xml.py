"""Hardened XML reading for packages that come from outside (METS, ALTO).

One rule for every XML file a package carries: a size limit checked before a
byte is parsed, no DTD at all (so no entity expansion — "billion laughs" — and
no external entity or DTD fetched from disk or network), and any parse error
turned into :class:`~library.errors.InputRejected` naming the file.

Parsed by lxml (libxml2, in C) with entities never resolved, no network and no DTD loaded; a document
type declaration is refused before the parse (the prolog is read as bytes) and again after it (for
encodings the byte check cannot read). lxml rather than defusedxml's ElementTree because a page's
ALTO (thousands of elements) is read for every imported page: the pure-Python tree builder of
ElementTree cost about three times as much (bench/scale.py --profile).
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from library.errors import InputRejected, LimitExceeded

# the prolog before the root element: an XML declaration, comments, processing instructions, space
_PROLOG_DOCTYPE = re.compile(rb"\A(?:\xef\xbb\xbf)?(?:\s+|<\?.*?\?>|<!--.*?-->)*<!DOCTYPE", re.DOTALL)
Element = etree._Element  # what read_xml gives: lxml's element (tag, get, attrib, text, iter)
_REFUSED_DTD = "the XML declares a DTD or entities; entity expansion and external entities are refused"

DEFAULT_MAX_XML_BYTES = 64 * 1024 * 1024  # one METS or ALTO file (a broadsheet's ALTO is ~1–5 MB)


def read_xml(path: Path, *, label: str, max_bytes: int = DEFAULT_MAX_XML_BYTES) -> Element:
    """The root element of the XML file ``path``; ``label`` names it in errors (its name in the package).

    Raises InputRejected for a missing, oversized or malformed file, or one that declares a DTD or
    entities (never needed by METS or ALTO, and the door to entity expansion and external entities).
    """
    path = Path(path)
    if not path.is_file():
        raise InputRejected(label, "the file is missing from the package")
    size = path.stat().st_size
    if size > max_bytes:
        raise LimitExceeded(label, f"the XML file is {size:,} bytes, over the limit of {max_bytes:,}")
    data = path.read_bytes()
    return parse_xml_bytes(data, label=label)


def parse_xml_bytes(data: bytes, *, label: str) -> Element:
    """The root element of ``data`` parsed with DTDs, entities and external references forbidden
    (comments and processing instructions dropped)."""
    if _PROLOG_DOCTYPE.match(data):
        raise InputRejected(label, _REFUSED_DTD)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_comments=True, remove_pis=True)  # one per call: not thread-safe
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise InputRejected(label, f"malformed XML: {exc}") from None
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:
        raise InputRejected(label, _REFUSED_DTD)
    return root


def local_name(tag: str) -> str:
    """``{ns}name`` → ``name``."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def attr(element: Element, name: str) -> str | None:
    """An attribute by its local name, whatever its namespace (``xlink:href`` → ``href``)."""
    value = element.get(name)
    if value is not None:
        return value
    for key, val in element.attrib.items():
        if local_name(key) == name:
            return val
    return None


def children(element: Element, name: str) -> list[Element]:
    return [c for c in element if local_name(c.tag) == name]


def descendants(element: Element, name: str) -> list[Element]:
    return [c for c in element.iter() if local_name(c.tag) == name]
