"""OAI-PMH 2.0 for union catalogues and aggregators: the six verbs over the catalogue, as the anonymous
public sees it. No Flask here: :meth:`OaiProvider.respond` takes the request's arguments (as a list of
``(name, value)`` pairs, so repeated arguments can be refused) and answers the XML document as bytes.

- **Identifiers** ``oai:<repository-id>:item/<id>``; the repository id is the ``oai_repository_id``
  setting, else the host of ``public_url``.
- **Datestamps** are ``items.record_changed_at`` (set by every service that changes the public record),
  at second granularity (``YYYY-MM-DDThh:mm:ssZ``; days are accepted too).
- **Sets** ``collection:<slug>`` (collections the public may see) and ``type:<item type>``, under the
  two parent sets ``collection`` and ``type``.
- **Deleted records are persistent**: an item deleted, withdrawn, or not (any more) open to the
  anonymous public is answered as a header with ``status="deleted"``; its metadata never leaves.
  What the public may see is decided by :mod:`library.access` alone (``decide`` with an anonymous
  actor, which follows the ``restricted_metadata`` setting).
- **Resumption tokens** are stateless: ``base64url(JSON).base64url(HMAC-SHA256)`` of the list's
  arguments, its bounds (the upper bound frozen at the first request) and the last
  ``(datestamp, id)`` sent. Paging is by key on the index ``(record_changed_at, id)``: no OFFSET, no
  server state, valid across restarts and while records change; a forged or altered token is
  ``badResumptionToken``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable, Sequence
from urllib.parse import urlsplit

from lxml import etree
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from library.access import Access, Actor
from library.catalogue.models import Collection, Item, ItemType, as_utc

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
DC_NS = "http://purl.org/dc/elements/1.1/"
MODS_NS = "http://www.loc.gov/mods/v3"
MODS_SCHEMA = "http://www.loc.gov/standards/mods/v3/mods-3-7.xsd"
OAI_ID_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"
OAI_ID_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"

FORMATS = {  # metadataPrefix → (schema, namespace)
    "oai_dc": (OAI_DC_SCHEMA, OAI_DC_NS),
    "mods": (MODS_SCHEMA, MODS_NS),
}
VERBS = {  # verb → (required, optional); resumptionToken is exclusive where allowed
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), {"resumptionToken"}),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
}
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SECOND = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[!-~]{1,400}$")  # a URI: scheme, then printable ASCII
_REPOSITORY_ID = re.compile(r"^[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+$")  # oai-identifier.xsd
_SET_WORD = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+$")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# tesseract's language codes → (ISO 639-2/B for MODS, BCP 47 for dc:language and xml:lang)
_LANGUAGE_CODES = {
    "vie": ("vie", "vi"), "fra": ("fre", "fr"), "eng": ("eng", "en"), "deu": ("ger", "de"),
    "chi_tra": ("chi", "zh-Hant"), "chi_sim": ("chi", "zh-Hans"), "rus": ("rus", "ru"),
    "jpn": ("jpn", "ja"), "lat": ("lat", "la"), "lzh": ("chi", "lzh"),  # ISO 639-2 has no literary Chinese
}
_MODS_GENRE = {"book": "book", "newspaper": "newspaper", "magazine": "periodical", "manuscript": "manuscript",
               "other": "text"}
_MAX_ID = 2**31 - 1


class OaiError(Exception):
    """One of the protocol's error conditions: ``code`` is its name (``badArgument`` …)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


# ------------------------------------------------------------------ small pure parts

def clean_text(value: object) -> str:
    """Text as it may go into XML 1.0: NFC, without control characters, lone surrogates or non-characters."""
    return _NOT_XML.sub("", unicodedata.normalize("NFC", str(value)))


def datestamp(moment: datetime) -> str:
    """``2026-12-05T19:01:14Z`` (UTC, seconds: the granularity declared by Identify)."""
    return as_utc(moment).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datestamp(text: str, argument: str) -> tuple[datetime, str]:
    """``from``/``until`` → (the UTC moment, its granularity ``day`` or ``second``); badArgument otherwise."""
    try:
        if _DAY.match(text):
            return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc), "day"
        if _SECOND.match(text):
            return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc), "second"
    except ValueError:
        pass
    raise OaiError("badArgument", f"{argument}={text[:40]!r} is not a date: use YYYY-MM-DD or {GRANULARITY}")


def language_codes(languages: str | None) -> list[tuple[str, str]]:
    """``"vie+fra"`` → ``[("vie", "vi"), ("fre", "fr")]`` (ISO 639-2/B, BCP 47), each language once."""
    out: list[tuple[str, str]] = []
    for code in (languages or "").split("+"):
        code = code.strip().removesuffix("_vert")
        if not code:
            continue
        pair = _LANGUAGE_CODES.get(code, (code[:3], code[:3]))
        if pair not in out:
            out.append(pair)
    return out


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class ListRequest:
    """What a list asks for and where it has got to: the arguments of its first request, the bounds
    of its datestamps (``since`` inclusive, ``before`` exclusive: frozen at the first request), and
    the last ``(datestamp, id)`` sent (``None`` before the first page); ``cursor``: records sent."""

    verb: str
    prefix: str
    set_spec: str | None
    since: datetime | None
    before: datetime
    after: tuple[datetime, int] | None = None
    cursor: int = 0

    def to_json(self) -> dict:
        return {"v": 1, "verb": self.verb, "p": self.prefix, "s": self.set_spec,
                "f": self.since.isoformat() if self.since else None, "u": self.before.isoformat(),
                "a": [self.after[0].isoformat(), self.after[1]] if self.after else None, "c": self.cursor}

    @classmethod
    def from_json(cls, data: dict) -> "ListRequest":
        after = data["a"]
        return cls(verb=str(data["verb"]), prefix=str(data["p"]), set_spec=data["s"],
                   since=datetime.fromisoformat(data["f"]) if data["f"] else None,
                   before=datetime.fromisoformat(data["u"]),
                   after=(datetime.fromisoformat(after[0]), int(after[1])) if after else None,
                   cursor=int(data["c"]))


class TokenSigner:
    """Resumption tokens: ``base64url(JSON) "." base64url(HMAC-SHA256(key, JSON))``."""

    def __init__(self, secret_key: str | bytes):
        key = secret_key.encode("utf-8") if isinstance(secret_key, str) else bytes(secret_key)
        if not key:
            raise ValueError("resumption tokens need a secret key")
        self.key = hashlib.sha256(b"oai-resumption-token\0" + key).digest()  # not the session key itself

    def sign(self, state: ListRequest) -> str:
        body = json.dumps(state.to_json(), separators=(",", ":"), sort_keys=True).encode("utf-8")
        return f"{_b64(body)}.{_b64(hmac.new(self.key, body, hashlib.sha256).digest())}"

    def read(self, token: str, verb: str) -> ListRequest:
        bad = OaiError("badResumptionToken", "the resumption token is not one this repository issued "
                                             "(or it was altered); start the list again without it")
        if len(token) > 2000 or token.count(".") != 1:
            raise bad
        body_text, mac_text = token.split(".")
        try:
            body, mac = _unb64(body_text), _unb64(mac_text)
        except (ValueError, TypeError):
            raise bad from None
        if not hmac.compare_digest(mac, hmac.new(self.key, body, hashlib.sha256).digest()):
            raise bad
        try:
            state = ListRequest.from_json(json.loads(body))
        except (ValueError, KeyError, TypeError, IndexError):
            raise bad from None
        if state.verb != verb:
            raise OaiError("badResumptionToken", f"this resumption token continues {state.verb}, not {verb}")
        return state


# ------------------------------------------------------------------ the provider

class OaiProvider:
    """The repository: the catalogue (``sessions``) as ``access`` lets the anonymous public see it."""

    def __init__(self, sessions: sessionmaker[Session], access: Access, *, secret_key: str | bytes,
                 repository_id: str, repository_name: str = "Thư viện Hà Nội — Hanoi Library",
                 admin_emails: Sequence[str] = (), page_size: int = 100):
        if page_size < 1:
            raise ValueError("the OAI page size is at least 1")
        self.sessions, self.access = sessions, access
        self.signer = TokenSigner(secret_key)
        self.repository_id = repository_id
        self.repository_name = repository_name
        self.admin_emails = list(admin_emails) or [f"webmaster@{repository_id}"]
        self.page_size = page_size
        self.public = Actor.anonymous(None)  # no address: never in the reading room

    # ------------------------------------------------------------ entry point
    def respond(self, args: Iterable[tuple[str, str]], *, base_url: str, portal_url: str) -> bytes:
        """The whole answer to one request (GET query or POST form): the XML document, UTF-8."""
        pairs = [(clean_text(k), clean_text(v)) for k, v in args]
        now = self.access.clock()
        root = self._envelope(now)
        request_el = etree.SubElement(root, _oai("request"))
        request_el.text = base_url
        try:
            verb, params = self._check(pairs)
            for name in sorted(params):
                request_el.set(name, params[name])
            request_el.set("verb", verb)
            with self.sessions() as s:
                getattr(self, f"_{verb}")(s, root, params, now=now, portal_url=portal_url.rstrip("/"))
        except OaiError as err:
            if err.code in ("badVerb", "badArgument"):  # the spec: echo only the base URL
                request_el.attrib.clear()
            for child in list(root)[2:]:
                root.remove(child)
            error = etree.SubElement(root, _oai("error"), code=err.code)
            error.text = clean_text(err.message)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    # ------------------------------------------------------------ arguments
    @staticmethod
    def _check(pairs: list[tuple[str, str]]) -> tuple[str, dict[str, str]]:
        verbs = [v for k, v in pairs if k == "verb"]
        if len(verbs) != 1:
            raise OaiError("badVerb", "give the verb once" if verbs else "no verb given")
        verb = verbs[0]
        if verb not in VERBS:
            raise OaiError("badVerb", f"{verb[:40]!r} is not an OAI-PMH verb; verbs: {', '.join(VERBS)}")
        params: dict[str, str] = {}
        for k, v in pairs:
            if k == "verb":
                continue
            if k in params:
                raise OaiError("badArgument", f"the argument {k[:40]!r} is given more than once")
            params[k] = v
        required, optional = VERBS[verb]
        illegal = sorted(set(params) - required - optional)
        if illegal:
            raise OaiError("badArgument", f"{verb} takes no argument {illegal[0][:40]!r}")
        if "resumptionToken" in params:
            if len(params) > 1:
                raise OaiError("badArgument", "resumptionToken is an exclusive argument: give it alone")
            return verb, params
        missing = sorted(required - set(params))
        if missing:
            raise OaiError("badArgument", f"{verb} needs the argument {missing[0]}")
        if "identifier" in params and not _IDENTIFIER.match(params["identifier"]):
            # not even a URI (the schema's identifierType): the request cannot be echoed as asked
            raise OaiError("badArgument", "the identifier must be a URI such as oai:host:item/12")
        return verb, params

    # ------------------------------------------------------------ the verbs
    def _Identify(self, s: Session, root, params, *, now: datetime, portal_url: str) -> None:
        el = etree.SubElement(root, _oai("Identify"))
        earliest = s.scalar(select(func.min(Item.record_changed_at)))
        _sub(el, _oai("repositoryName"), self.repository_name)
        _sub(el, _oai("baseURL"), root.find(_oai("request")).text)
        _sub(el, _oai("protocolVersion"), "2.0")
        for email in self.admin_emails:
            _sub(el, _oai("adminEmail"), email)
        _sub(el, _oai("earliestDatestamp"), datestamp(earliest or now))
        _sub(el, _oai("deletedRecord"), "persistent")
        _sub(el, _oai("granularity"), GRANULARITY)
        if _REPOSITORY_ID.match(self.repository_id):
            desc = etree.SubElement(el, _oai("description"))
            ident = etree.SubElement(desc, f"{{{OAI_ID_NS}}}oai-identifier", nsmap={None: OAI_ID_NS, "xsi": XSI_NS})
            ident.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_ID_NS} {OAI_ID_SCHEMA}")
            for name, text in (("scheme", "oai"), ("repositoryIdentifier", self.repository_id),
                               ("delimiter", ":"), ("sampleIdentifier", self.identifier_of(1))):
                _sub(ident, f"{{{OAI_ID_NS}}}{name}", text)

    def _ListMetadataFormats(self, s: Session, root, params, *, now: datetime, portal_url: str) -> None:
        if "identifier" in params:
            self._item(s, params["identifier"])
        el = etree.SubElement(root, _oai("ListMetadataFormats"))
        for prefix, (schema, namespace) in FORMATS.items():
            fmt = etree.SubElement(el, _oai("metadataFormat"))
            _sub(fmt, _oai("metadataPrefix"), prefix)
            _sub(fmt, _oai("schema"), schema)
            _sub(fmt, _oai("metadataNamespace"), namespace)

    def _ListSets(self, s: Session, root, params, *, now: datetime, portal_url: str) -> None:
        if "resumptionToken" in params:  # every set fits in one answer: no token is ever issued
            raise OaiError("badResumptionToken", "ListSets answers in one response; this token is not valid")
        el = etree.SubElement(root, _oai("ListSets"))
        listed = [("collection", "Bộ sưu tập — Collections", None), ("type", "Loại tài liệu — Item types", None)]
        listed += [(f"type:{t.value}", t.value, None) for t in ItemType]
        for coll in self._public_collections(s):
            listed.append((f"collection:{coll.slug}", coll.name, coll.description))
        for spec, name, description in listed:
            one = etree.SubElement(el, _oai("set"))
            _sub(one, _oai("setSpec"), spec)
            _sub(one, _oai("setName"), name)
            if description:
                dc = etree.SubElement(etree.SubElement(one, _oai("setDescription")), f"{{{OAI_DC_NS}}}dc",
                                      nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS})
                dc.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_DC_NS} {OAI_DC_SCHEMA}")
                _sub(dc, f"{{{DC_NS}}}description", description)

    def _GetRecord(self, s: Session, root, params, *, now: datetime, portal_url: str) -> None:
        prefix = self._format(params["metadataPrefix"])
        item = self._item(s, params["identifier"])
        el = etree.SubElement(root, _oai("GetRecord"))
        self._record(el, item, prefix, portal_url, with_metadata=True)

    def _ListIdentifiers(self, s: Session, root, params, *, now: datetime, portal_url: str) -> None:
        self._list(s, root, params, "ListIdentifiers", now=now, portal_url=portal_url)

    def _ListRecords(self, s: Session, root, params, *, now: datetime, portal_url: str) -> None:
        self._list(s, root, params, "ListRecords", now=now, portal_url=portal_url)

    # ------------------------------------------------------------ lists, page by page
    def _list(self, s: Session, root, params, verb: str, *, now: datetime, portal_url: str) -> None:
        state = (self.signer.read(params["resumptionToken"], verb) if "resumptionToken" in params
                 else self._first_request(verb, params, now))
        q = select(Item).options(selectinload(Item.collection)).where(Item.record_changed_at < state.before)
        if state.since is not None:
            q = q.where(Item.record_changed_at >= state.since)
        if state.after is not None:
            at, last_id = state.after
            q = q.where(Item.record_changed_at >= at, or_(Item.record_changed_at > at, Item.id > last_id))
        set_filter = self._set_condition(s, state.set_spec)
        if set_filter is None:
            raise OaiError("noRecordsMatch", f"no set {state.set_spec!r} (ListSets lists them)")
        q = q.where(set_filter).order_by(Item.record_changed_at, Item.id).limit(self.page_size + 1)
        items = list(s.scalars(q))
        if not items and state.after is None:
            raise OaiError("noRecordsMatch", "no record matches these arguments")
        page, more = items[:self.page_size], len(items) > self.page_size
        el = etree.SubElement(root, _oai(verb))
        for item in page:
            self._record(el, item, state.prefix, portal_url, with_metadata=verb == "ListRecords")
        if more or state.after is not None:
            token = etree.SubElement(el, _oai("resumptionToken"), cursor=str(state.cursor))
            if more:
                last = page[-1]
                token.text = self.signer.sign(ListRequest(
                    verb, state.prefix, state.set_spec, state.since, state.before,
                    (as_utc(last.record_changed_at), last.id), state.cursor + len(page)))

    def _first_request(self, verb: str, params: dict[str, str], now: datetime) -> ListRequest:
        prefix = self._format(params["metadataPrefix"])
        since = until = None
        grains = set()
        if "from" in params:
            since, grain = parse_datestamp(params["from"], "from")
            grains.add(grain)
        if "until" in params:
            until, grain = parse_datestamp(params["until"], "until")
            grains.add(grain)
        if len(grains) > 1:
            raise OaiError("badArgument", "from and until must have the same granularity")
        if since is not None and until is not None and since > until:
            raise OaiError("badArgument", "from is later than until")
        set_spec = params.get("set")
        if set_spec is not None and not all(_SET_WORD.match(w) for w in set_spec.split(":")):
            raise OaiError("badArgument", f"{set_spec[:60]!r} is not a setSpec")
        if until is not None:  # the whole day or second named is included
            before = until + (timedelta(days=1) if "day" in grains else timedelta(seconds=1))
        else:  # frozen now: records that change during the harvest come in the next one, never twice
            before = now
        return ListRequest(verb, prefix, set_spec, since, as_utc(before))

    def _set_condition(self, s: Session, spec: str | None):
        """The SQL condition of a set on :class:`Item`; ``None`` when there is no such set."""
        if spec is None or spec == "type":
            return Item.id.is_not(None)
        if spec == "collection":
            return Item.collection_id.is_not(None)
        kind, _, value = spec.partition(":")
        if kind == "type" and value in {t.value for t in ItemType}:
            return Item.item_type == ItemType(value)
        if kind == "collection" and value:
            coll_id = s.scalar(select(Collection.id).where(
                Collection.slug == value, self.access.visible_collections(self.public)))
            return Item.collection_id == coll_id if coll_id is not None else None
        return None

    def _public_collections(self, s: Session) -> list[Collection]:
        return list(s.scalars(select(Collection).where(self.access.visible_collections(self.public))
                              .order_by(Collection.slug)))

    # ------------------------------------------------------------ records
    def identifier_of(self, item_id: int) -> str:
        return f"oai:{self.repository_id}:item/{item_id}"

    def _item(self, s: Session, identifier: str) -> Item:
        prefix = f"oai:{self.repository_id}:item/"
        rest = identifier[len(prefix):] if identifier.startswith(prefix) else ""
        item = None
        if rest.isascii() and rest.isdigit() and not rest.startswith("0") and int(rest) <= _MAX_ID:
            item = s.scalars(select(Item).options(selectinload(Item.collection)).where(Item.id == int(rest))).first()
        if item is None:
            raise OaiError("idDoesNotExist", f"no record {identifier[:120]!r} in this repository")
        return item

    @staticmethod
    def _format(prefix: str) -> str:
        if prefix not in FORMATS:
            raise OaiError("cannotDisseminateFormat", f"{prefix[:40]!r} is not served; formats: {', '.join(FORMATS)}")
        return prefix

    def _record(self, parent, item: Item, prefix: str, portal_url: str, *, with_metadata: bool) -> None:
        shown = self.access.decide(self.public, item).record  # the one rule: library.access
        holder = etree.SubElement(parent, _oai("record")) if with_metadata else parent
        header = etree.SubElement(holder, _oai("header"))
        if not shown:
            header.set("status", "deleted")
        _sub(header, _oai("identifier"), self.identifier_of(item.id))
        _sub(header, _oai("datestamp"), datestamp(item.record_changed_at or item.created_at))
        if shown:  # a deleted header names no set: a hidden record's collection stays hidden
            if item.collection is not None and _SET_WORD.match(item.collection.slug):
                _sub(header, _oai("setSpec"), f"collection:{item.collection.slug}")
            _sub(header, _oai("setSpec"), f"type:{item.item_type.value}")
        if with_metadata and shown:
            metadata = etree.SubElement(holder, _oai("metadata"))
            url = f"{portal_url}/items/{item.id}"
            (oai_dc if prefix == "oai_dc" else mods)(metadata, item, url)

    # ------------------------------------------------------------ the document
    @staticmethod
    def _envelope(now: datetime):
        root = etree.Element(_oai("OAI-PMH"), nsmap={None: OAI_NS, "xsi": XSI_NS})
        root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_NS} {OAI_SCHEMA}")
        _sub(root, _oai("responseDate"), datestamp(now))
        return root


def _oai(name: str) -> str:
    return f"{{{OAI_NS}}}{name}"


def _sub(parent, tag: str, text: object | None, **attrs: str):
    el = etree.SubElement(parent, tag, **attrs)
    if text is not None:
        el.text = clean_text(text)
    return el


def _split(value: str | None) -> list[str]:
    """A catalogue field that holds several values (``"Lịch sử; Văn học"``) → its values."""
    return [v.strip() for v in re.split(r"\s*;\s*", value or "") if v.strip()]


# ------------------------------------------------------------------ the metadata formats

def oai_dc(parent, item: Item, url: str):
    """Simple Dublin Core (``oai_dc``) of an item: every filled field, the item's portal URL as an
    identifier, ``xml:lang`` on the title and description (the item's first language)."""
    dc = etree.SubElement(parent, f"{{{OAI_DC_NS}}}dc", nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS})
    dc.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_DC_NS} {OAI_DC_SCHEMA}")
    langs = language_codes(item.languages)
    lang = {f"{{{XML_NS}}}lang": langs[0][1]} if langs else {}

    def add(name: str, value: object | None, **attrs: str) -> None:
        if value is not None and str(value).strip():
            _sub(dc, f"{{{DC_NS}}}{name}", str(value).strip(), **attrs)

    add("title", item.title, **lang)
    for creator in _split(item.creator):
        add("creator", creator)
    for subject in _split(item.subject):
        add("subject", subject, **lang)
    add("description", item.description, **lang)
    add("publisher", item.publisher)
    add("date", item.issue_date.isoformat() if item.issue_date else (item.date_iso or item.date_text))
    add("type", "Text")
    add("type", item.item_type.value)
    add("identifier", url)
    add("identifier", item.identifier)
    for _, bcp47 in langs:
        add("language", bcp47)
    if item.serial_title:
        add("relation", item.serial_title)
        add("source", ", ".join(v for v in (item.serial_title, item.issue_number and f"số {item.issue_number}",
                                              item.issue_date_text) if v))
    add("rights", item.rights)
    return dc


def mods(parent, item: Item, url: str):
    """MODS 3.7 of an item: title, names, genre, origin (publisher, dates), languages, subjects, the
    serial it is an issue of (``relatedItem type="host"`` with the issue number and date), identifiers,
    its URL, rights and the record's own information."""
    m = etree.SubElement(parent, f"{{{MODS_NS}}}mods", nsmap={None: MODS_NS, "xsi": XSI_NS}, version="3.7")
    m.set(f"{{{XSI_NS}}}schemaLocation", f"{MODS_NS} {MODS_SCHEMA}")
    M = lambda name: f"{{{MODS_NS}}}{name}"  # noqa: E731
    langs = language_codes(item.languages)
    lang = {"lang": langs[0][0], f"{{{XML_NS}}}lang": langs[0][1]} if langs else {}

    title_info = etree.SubElement(m, M("titleInfo"), **lang)
    _sub(title_info, M("title"), item.title)
    for creator in _split(item.creator):
        name = etree.SubElement(m, M("name"))
        _sub(name, M("namePart"), creator)
        role = etree.SubElement(name, M("role"))
        _sub(role, M("roleTerm"), "creator", type="text", authority="marcrelator")
    _sub(m, M("typeOfResource"), "text")
    _sub(m, M("genre"), _MODS_GENRE.get(item.item_type.value, "text"))
    origin = etree.SubElement(m, M("originInfo"))
    if item.publisher:
        _sub(origin, M("publisher"), item.publisher)
    if item.date_text and item.date_text != item.date_iso:  # as catalogued ("khoảng 1930"), then exact
        _sub(origin, M("dateIssued"), item.date_text)
    if item.date_iso:
        _sub(origin, M("dateIssued"), item.date_iso, encoding="w3cdtf", keyDate="yes",
             **({"qualifier": "approximate"} if item.date_approximate else {}))
    _sub(origin, M("issuance"), "serial" if item.serial_title else "monographic")
    for iso, _ in langs:
        language = etree.SubElement(m, M("language"))
        _sub(language, M("languageTerm"), iso, type="code", authority="iso639-2b")
    if item.description:
        _sub(m, M("abstract"), item.description, **lang)
    for topic in _split(item.subject):
        subject = etree.SubElement(m, M("subject"), **lang)
        _sub(subject, M("topic"), topic)
    if item.serial_title:
        host = etree.SubElement(m, M("relatedItem"), type="host")
        _sub(etree.SubElement(host, M("titleInfo")), M("title"), item.serial_title)
        part = etree.SubElement(host, M("part"))
        if item.issue_number:
            _sub(etree.SubElement(part, M("detail"), type="issue"), M("number"), item.issue_number)
        if item.issue_date is not None:
            _sub(part, M("date"), item.issue_date.isoformat(), encoding="w3cdtf")
        elif item.issue_date_text:
            _sub(part, M("text"), item.issue_date_text)
    if item.identifier:
        _sub(m, M("identifier"), item.identifier, type="local")
    _sub(m, M("identifier"), url, type="uri")
    location = etree.SubElement(m, M("location"))
    _sub(location, M("url"), url, usage="primary display", access="object in context")
    if item.rights:
        _sub(m, M("accessCondition"), item.rights, type="use and reproduction")
    record_info = etree.SubElement(m, M("recordInfo"))
    _sub(record_info, M("recordCreationDate"), datestamp(item.created_at), encoding="w3cdtf")
    _sub(record_info, M("recordChangeDate"), datestamp(item.record_changed_at or item.created_at), encoding="w3cdtf")
    _sub(record_info, M("recordIdentifier"), str(item.id))
    return m


def repository_id_of(setting: str, public_url: str, host: str = "localhost") -> str:
    """The repository id: the ``oai_repository_id`` setting, else the host of ``public_url``, else the
    request's ``host``."""
    if setting.strip():
        return setting.strip()
    found = urlsplit(public_url).hostname if public_url else None
    return found or host.split(":")[0] or "localhost"
