"""The catalogue: collections, items (Dublin Core), pages, their OCR words,
stored files and users. SQLAlchemy 2 declarative models; the schema itself is
created and evolved only by the Alembic migrations in ``library/catalogue/migrations``.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, timezone

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.sql.expression import false as sa_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from library.catalogue.naturalsort import name_key, slugify, title_key
from library.catalogue.packed_text import PackedText

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(dt: datetime) -> datetime:
    """A stored time as UTC-aware (SQLite hands back naive datetimes; every stored time is UTC)."""
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ItemType(str, enum.Enum):
    book = "book"
    newspaper = "newspaper"
    magazine = "magazine"
    manuscript = "manuscript"
    other = "other"


class Role(str, enum.Enum):
    librarian = "librarian"
    archivist = "archivist"
    curator = "curator"
    admin = "admin"


class PageStatus(str, enum.Enum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"  # taken out of the queue by staff; workers skip it; retry puts it back


class ItemStatus(str, enum.Enum):
    processing = "processing"  # some pages not done yet
    done = "done"  # every page read, finishing work done
    failed = "failed"  # at least one page failed (others may be done)
    cancelled = "cancelled"  # staff cancelled its pages before they were read (none failed)


def _enum(cls, name):
    return Enum(cls, name=name, native_enum=False, validate_strings=True, length=20)


def _enum_by_value(cls, name):
    """An enum stored by its values (``reading-room``), for enums whose values are the words people type."""
    return Enum(cls, name=name, native_enum=False, validate_strings=True, length=20,
                values_callable=lambda members: [m.value for m in members])


class AccessLevel(str, enum.Enum):
    """Who may read an item's images and text (its catalogue record may be shown more widely: the
    ``restricted_metadata`` setting). Ordered from the widest to the narrowest; see :mod:`library.access`."""

    public = "public"
    reading_room = "reading-room"  # requests from the configured address ranges, and staff
    staff = "staff"  # signed-in staff only


class Collection(Base):
    __tablename__ = "collections"
    __table_args__ = (Index("ix_collections_name_id", "name", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    name_key: Mapped[str | None] = mapped_column(String(500), unique=True)  # naturalsort.name_key(name)
    description: Mapped[str | None] = mapped_column(Text)
    # every item of the collection is at least this restricted (an item may be narrower, never wider)
    access_level: Mapped[AccessLevel] = mapped_column(_enum_by_value(AccessLevel, "access_level"), default=AccessLevel.public,
                                                      server_default="public")
    # a collection may sit inside another (never inside itself or one of its own: library.catalogue.collections)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("collections.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    items: Mapped[list["Item"]] = relationship(back_populates="collection")

    @validates("name")
    def _keep_name_key(self, _key, value):
        self.name_key = name_key(value)
        return value


class Item(Base):
    """A book, an issue of a newspaper or magazine, a manuscript: Dublin Core fields."""

    __tablename__ = "items"
    __table_args__ = (
        Index("ix_items_record_changed", "record_changed_at", "id"),
        # lists that page with keys (library/reading/jobs.py, the collection pages)
        Index("ix_items_status_id", "status", "id"),
        Index("ix_items_status_finished", "status", "finished_at", "id"),
        Index("ix_items_collection_id_id", "collection_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection_id: Mapped[int | None] = mapped_column(ForeignKey("collections.id"), index=True)
    position: Mapped[int | None] = mapped_column(Integer)  # 1-based order in its collection (None: after, by id)
    title: Mapped[str] = mapped_column(String(2000))
    title_sort: Mapped[str | None] = mapped_column(String(200), index=True)  # naturalsort.title_key(title)
    creator: Mapped[str | None] = mapped_column(String(2000))
    date_text: Mapped[str | None] = mapped_column(String(200))  # as catalogued: "1858", "1930s", "khoảng 1930"
    date_iso: Mapped[str | None] = mapped_column(String(10))  # exact dates only
    year_start: Mapped[int | None] = mapped_column(Integer, index=True)
    year_end: Mapped[int | None] = mapped_column(Integer)
    date_approximate: Mapped[bool] = mapped_column(Boolean, default=False)
    publisher: Mapped[str | None] = mapped_column(String(2000))
    languages: Mapped[str] = mapped_column(String(100), default="vie")  # tesseract codes, "vie+fra"
    item_type: Mapped[ItemType] = mapped_column(_enum(ItemType, "item_type"), default=ItemType.book)
    subject: Mapped[str | None] = mapped_column(String(2000))
    identifier: Mapped[str | None] = mapped_column(String(500), index=True)
    rights: Mapped[str | None] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(Text)
    serial_title: Mapped[str | None] = mapped_column(String(2000))
    # the serials' shelf pages through these (naturalsort.title_key and slugify of serial_title), indexed
    serial_sort: Mapped[str | None] = mapped_column(String(200), index=True)
    serial_slug: Mapped[str | None] = mapped_column(String(100), index=True)
    issue_date_text: Mapped[str | None] = mapped_column(String(200))
    issue_date: Mapped[date | None] = mapped_column(Date)
    issue_number: Mapped[str | None] = mapped_column(String(100))
    ocr_options: Mapped[str | None] = mapped_column(Text)  # JSON of digitize.OcrOptions overrides
    package_sha256: Mapped[str | None] = mapped_column(ForeignKey("stored_files.sha256"))  # the zip as uploaded
    status: Mapped[ItemStatus] = mapped_column(_enum(ItemStatus, "item_status"), default=ItemStatus.processing)
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # bumped on every change to index
    # bumped by every metadata edit: an edit names the one it started from (a concurrent edit is refused)
    metadata_revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    index_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false(), index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    # access (library.access decides; nothing else reads these to allow or refuse)
    access_level: Mapped[AccessLevel] = mapped_column(_enum_by_value(AccessLevel, "access_level"), default=AccessLevel.public,
                                                      server_default="public", index=True)
    embargo_until: Mapped[date | None] = mapped_column(Date, index=True)  # from this day on, embargo_then applies
    embargo_then: Mapped[AccessLevel | None] = mapped_column(_enum_by_value(AccessLevel, "access_level"))
    do_not_ocr: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())  # sensitive
    do_not_index: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # public page answers 410
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    # deleted by an admin: hidden everywhere (library.access), its originals kept in the store until
    # HERITAGE_DELETED_RETENTION_DAYS have passed; purged_at: its pages and unshared originals are gone
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    deleted_reason: Mapped[str | None] = mapped_column(Text)
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # when the public record last changed (metadata, access, withdrawal, deletion, collection): the
    # OAI-PMH datestamp; set explicitly by the services that change the record, not by every row update
    record_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=utcnow)

    collection: Mapped[Collection | None] = relationship(back_populates="items")

    @validates("title")
    def _keep_title_key(self, _key, value):
        self.title_sort = title_key(value)
        return value

    @validates("serial_title")
    def _keep_serial_keys(self, _key, value):
        self.serial_sort = title_key(value) if value else None
        self.serial_slug = slugify(value) if value else None
        return value
    pages: Mapped[list["Page"]] = relationship(
        back_populates="item", order_by="Page.sequence", cascade="all, delete-orphan"
    )


class StoredFile(Base):
    """An original as uploaded: stored once under its sha256, never altered."""

    __tablename__ = "stored_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    original_name: Mapped[str] = mapped_column(String(1000))  # first name it was uploaded under
    page_count: Mapped[int] = mapped_column(Integer, default=1)
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Page(Base):
    __tablename__ = "pages"
    __table_args__ = (
        UniqueConstraint("item_id", "sequence", name="uq_pages_item_sequence"),
        # the correction queue: read pages, most doubtful words first (a backward scan, no sort)
        Index("ix_pages_review_queue", "status", "low_confidence_words", "id"),
        # queued pages per item on the jobs board, read from the index alone
        Index("ix_pages_status_item_queued", "status", "item_id", "queued_at"),
        # pages read (or failed) in the last minutes, for the metrics: a range of the index, counted exactly
        Index("ix_pages_status_finished", "status", "finished_at"),
        # the items that start with an original: one row an item (is this upload one we hold?)
        Index("ix_pages_first_by_original", "source_sha256", sqlite_where=sql_text("sequence = 1"),
              postgresql_where=sql_text("sequence = 1")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)  # 1-based reading order
    label: Mapped[str | None] = mapped_column(String(100))
    source_sha256: Mapped[str] = mapped_column(ForeignKey("stored_files.sha256"), index=True)
    source_page_index: Mapped[int] = mapped_column(Integer, default=0)
    source_name: Mapped[str] = mapped_column(String(1000))  # name in the upload, e.g. "scans/p2.tif"
    width: Mapped[int | None] = mapped_column(Integer)  # of the normalised image once read
    height: Mapped[int | None] = mapped_column(Integer)
    text_hint: Mapped[str | None] = mapped_column(Text)  # PDF text layer, never trusted
    zones: Mapped[str | None] = mapped_column(Text)  # JSON list of [x, y, w, h]
    # clockwise quarter turn (0, 90, 180, 270) applied to the original before it is read; the original
    # itself is never altered (zones stay in the original's pixels)
    rotation_deg: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    status: Mapped[PageStatus] = mapped_column(_enum(PageStatus, "page_status"), default=PageStatus.queued, index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_token: Mapped[str | None] = mapped_column(String(64))
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    text: Mapped[str | None] = mapped_column(PackedText)  # compressed (library.catalogue.packed_text)
    mean_confidence: Mapped[float | None] = mapped_column(Float)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    ocr_engine: Mapped[str | None] = mapped_column(String(100))  # "tesseract 5.3.0 vie psm3"
    ocr_seconds: Mapped[float | None] = mapped_column(Float)
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # bumped on every text change
    corrected: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())  # text edited by staff
    pending_ocr_version: Mapped[int | None] = mapped_column(Integer)  # a re-OCR waiting for staff to accept it
    index_pending: Mapped[bool] = mapped_column(Boolean, default=False, index=True)  # changed, index not yet told
    # words of the page text below HERITAGE_LOW_CONFIDENCE (corrected words count as sure)
    low_confidence_words: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # the words, lines and blocks of the page text: one blob (library.catalogue.page_layout), not a row each
    layout: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)

    item: Mapped[Item] = relationship(back_populates="pages")
    derivatives: Mapped[list["Derivative"]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class Derivative(Base):
    """A file made from an original (normalised image, thumbnail, hOCR, ALTO, text), checksummed."""

    __tablename__ = "derivatives"
    __table_args__ = (UniqueConstraint("page_id", "kind", name="uq_derivatives_page_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    relpath: Mapped[str] = mapped_column(String(500))  # relative to the store root
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # carried by every portal session; signing out raises it, which ends the sessions opened before
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# ------------------------------------------------------------------ monuments and 3D models
class HeritageRank(str, enum.Enum):
    special_national = "special_national"  # di tích quốc gia đặc biệt
    national = "national"  # di tích quốc gia
    city = "city"  # di tích cấp thành phố
    none = "none"


class BuildStatus(str, enum.Enum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


class Monument(Base):
    """A monument: names and descriptions in Vietnamese and English, where it is, its period and rank."""

    __tablename__ = "monuments"
    __table_args__ = (Index("ix_monuments_name_vi_id", "name_vi", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name_vi: Mapped[str] = mapped_column(String(500))
    name_en: Mapped[str | None] = mapped_column(String(500))
    description_vi: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(1000))
    lat: Mapped[float | None] = mapped_column(Float)  # WGS 84 degrees
    lon: Mapped[float | None] = mapped_column(Float)
    period: Mapped[str | None] = mapped_column(String(200))  # "nhà Lý, 1070"
    year_start: Mapped[int | None] = mapped_column(Integer)
    year_end: Mapped[int | None] = mapped_column(Integer)
    heritage_rank: Mapped[HeritageRank] = mapped_column(_enum(HeritageRank, "heritage_rank"), default=HeritageRank.none)
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    index_pending: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_false(), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    models: Mapped[list["MonumentModel"]] = relationship(back_populates="monument", order_by="MonumentModel.id")


class MonumentModel(Base):
    """A 3D model of (part of) a monument; each build of it is a new version."""

    __tablename__ = "monument_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    monument_id: Mapped[int] = mapped_column(ForeignKey("monuments.id"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    licence: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    monument: Mapped[Monument] = relationship(back_populates="models")
    versions: Mapped[list["ModelVersion"]] = relationship(back_populates="model", order_by="ModelVersion.number")


class ModelVersion(Base):
    """One build of a model: its source files, who and when, the pipeline's version and settings,
    its progress by stage, and once done its report and published files."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("model_id", "number", name="uq_model_versions_model_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("monument_models.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    input_kind: Mapped[str] = mapped_column(String(20))  # photos | point_cloud | mesh
    sources: Mapped[str] = mapped_column(Text)  # JSON list of {"sha256", "name"} (originals in the file store)
    settings: Mapped[str | None] = mapped_column(Text)  # JSON of the build options
    pipeline_version: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[BuildStatus] = mapped_column(_enum(BuildStatus, "build_status"), default=BuildStatus.queued, index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    stage: Mapped[str | None] = mapped_column(String(50))
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0..1 over the whole build
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_token: Mapped[str | None] = mapped_column(String(64))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    output_relpath: Mapped[str | None] = mapped_column(String(500))  # folder in the store once published
    report: Mapped[str | None] = mapped_column(Text)  # the build report (JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    model: Mapped[MonumentModel] = relationship(back_populates="versions")


class ItemChange(Base):
    """One edit of an item's record after ingest, with the previous values (``changes``: JSON
    ``{field: [before, after]}``); ``kind`` says what was done (metadata, reread, …)."""

    __tablename__ = "item_changes"
    __table_args__ = (Index("ix_item_changes_item_id", "item_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    metadata_revision: Mapped[int] = mapped_column(Integer)  # the item's metadata revision after this change
    kind: Mapped[str] = mapped_column(String(20))
    changes: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))  # library.access.Actor.label: user:…, system:cli …
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEvent(Base):
    """One staff action (or refused sign-in), recorded once by the unit of work, never edited: who
    (``actor`` label, ``user_id``, ``role``), from where (``address``), when, what (``action``), on which
    record (``record_type``, ``record_id``), and ``detail`` (JSON, e.g. ``{field: [before, after]}``)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_user", "user_id", "id"),
        Index("ix_audit_events_record", "record_type", "record_id", "id"),
        Index("ix_audit_events_action", "action", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", name="fk_audit_events_user_id_users"))
    role: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    record_type: Mapped[str | None] = mapped_column(String(20))
    record_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)


class IndexRemoval(Base):
    """A search document to remove whose catalogue row is gone (a removed page): written in the
    transaction that removes the row, drained by the indexer (the outbox of what no row can mark)."""

    __tablename__ = "index_removals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    doc_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Transcription(Base):
    """Every version of a page's text: the machine's readings and each manual correction, never overwritten."""

    __tablename__ = "transcriptions"
    __table_args__ = (UniqueConstraint("page_id", "version", name="uq_transcriptions_page_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(10))  # "ocr" | "auto" (post-correction of an OCR reading) | "manual"
    # NULL: this version's text is the page's current text (stored once, in pages.text); see `text` and
    # library.catalogue.page_text, the one place that changes a page's text
    own_text: Mapped[str | None] = mapped_column("text", PackedText)
    engine: Mapped[str | None] = mapped_column(String(100))  # for OCR versions
    mean_confidence: Mapped[float | None] = mapped_column(Float)
    # the words and lines of an OCR reading not yet in use (library.catalogue.page_layout, with this text)
    layout_blob: Mapped[bytes | None] = mapped_column(LargeBinary)
    note: Mapped[str | None] = mapped_column(String(1000))
    # why a machine reading may be poor or partial, one a line as the engine said it ("white on dark: read
    # inverted", "low confidence (mean 41 of 100): …"); NULL for none and for manual versions
    warnings: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # loaded with the version: a version that shares the page's text reads it from there
    page: Mapped["Page"] = relationship(lazy="joined", viewonly=True)

    @property
    def text(self) -> str:
        """This version's text (the page's text when this is the version in use)."""
        return self.own_text if self.own_text is not None else (self.page.text or "")

    @text.setter
    def text(self, value: str) -> None:
        self.own_text = value

    @property
    def warning_list(self) -> tuple[str, ...]:
        return warning_list(self.warnings)


def warning_list(warnings: str | None) -> tuple[str, ...]:
    """``transcriptions.warnings`` as the list of the engine's warnings (one a line; NULL: none)."""
    return tuple(warnings.split("\n")) if warnings else ()


# ------------------------------------------------------------------ readers' feedback
from sqlalchemy import CheckConstraint  # noqa: E402  (this section's own import)


class FeedbackKind(str, enum.Enum):
    text_error = "text_error"  # a mistake in a page's text, perhaps with the correction
    comment = "comment"  # on an item or a monument
    rating = "rating"  # 1–5, perhaps with a comment


class FeedbackStatus(str, enum.Enum):
    pending = "pending"  # held for moderation: not public
    published = "published"  # public, with its answer if it has one
    hidden = "hidden"  # refused by staff: never public


class Feedback(Base):
    """What a reader sent about an item (or one of its pages) or a monument, stored exactly as sent
    (NFC), with the staff's answer and moderation. The reader's e-mail is for staff only."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("(item_id IS NULL) <> (monument_id IS NULL)", name="one_target"),
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_range"),
        Index("ix_feedback_status_kind", "status", "kind"),
        Index("ix_feedback_status_created", "status", "created_at", "id"),
        Index("ix_feedback_created", "created_at", "id"),
        Index("ix_feedback_page_id", "page_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[FeedbackKind] = mapped_column(_enum(FeedbackKind, "feedback_kind"))
    status: Mapped[FeedbackStatus] = mapped_column(_enum(FeedbackStatus, "feedback_status"),
                                                   default=FeedbackStatus.pending)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id", ondelete="SET NULL"))
    monument_id: Mapped[int | None] = mapped_column(ForeignKey("monuments.id", ondelete="CASCADE"), index=True)
    line_number: Mapped[int | None] = mapped_column(Integer)  # 1-based line of the page, as the reader saw it
    quoted: Mapped[str | None] = mapped_column(String(2000))  # the words as the page reads them
    suggestion: Mapped[str | None] = mapped_column(String(2000))  # what they should read
    # the word the report was opened from: its place among the page's words and in the page text
    # (char_end exclusive) and its text, as the page read when the report was sent
    word_sequence: Mapped[int | None] = mapped_column(Integer)
    word_char_start: Mapped[int | None] = mapped_column(Integer)
    word_char_end: Mapped[int | None] = mapped_column(Integer)
    word_text: Mapped[str | None] = mapped_column(String(1000))
    body: Mapped[str | None] = mapped_column(Text)  # the reader's comment
    rating: Mapped[int | None] = mapped_column(Integer)
    author_name: Mapped[str | None] = mapped_column(String(200))
    author_email: Mapped[str | None] = mapped_column(String(320))  # staff only, never shown publicly
    language: Mapped[str] = mapped_column(String(5), default="vi")  # the portal's language when sent
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    moderated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    moderated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    applied_version: Mapped[int | None] = mapped_column(Integer)  # the transcription version made from it


# ------------------------------------------------------------------ monument guides: points of interest, tours, items
class PointOfInterest(Base):
    """A labelled point on a 3D model: where it is in the model's own frame (metres, glTF axes: y up)
    and the surface normal there (a unit vector), with a label and a text in Vietnamese and English."""

    __tablename__ = "points_of_interest"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("monument_models.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int] = mapped_column(Integer, default=1)
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    z: Mapped[float] = mapped_column(Float)
    normal_x: Mapped[float] = mapped_column(Float, default=0.0)
    normal_y: Mapped[float] = mapped_column(Float, default=1.0)
    normal_z: Mapped[float] = mapped_column(Float, default=0.0)
    label_vi: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str | None] = mapped_column(String(200))
    text_vi: Mapped[str | None] = mapped_column(Text)
    text_en: Mapped[str | None] = mapped_column(Text)
    # the library item this point opens (the inscription of the stele standing here), if any
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="SET NULL"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Tour(Base):
    """A guided tour of one 3D model: its stops, in order."""

    __tablename__ = "tours"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("monument_models.id", ondelete="CASCADE"), index=True)
    title_vi: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    stops: Mapped[list["TourStop"]] = relationship(back_populates="tour", cascade="all, delete-orphan",
                                                   order_by="[TourStop.sequence, TourStop.id]")


class TourStop(Base):
    """One stop of a tour: where the camera looks from (an orbit around the target: azimuth theta and
    polar angle phi in degrees, distance in metres), what it looks at (model frame, metres), its field
    of view, a caption in Vietnamese and English, and how long it stays when the tour plays; and,
    optionally, its place on the ground (``lat``, ``lon``: where the visitor stands for this stop, WGS 84
    degrees, both or neither), which lets a visitor walk the tour from stop to stop."""

    __tablename__ = "tour_stops"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tour_id: Mapped[int] = mapped_column(ForeignKey("tours.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int] = mapped_column(Integer, default=1)
    poi_id: Mapped[int | None] = mapped_column(ForeignKey("points_of_interest.id", ondelete="SET NULL"), index=True)
    orbit_theta_deg: Mapped[float] = mapped_column(Float)
    orbit_phi_deg: Mapped[float] = mapped_column(Float)
    orbit_radius_m: Mapped[float] = mapped_column(Float)
    target_x: Mapped[float] = mapped_column(Float)
    target_y: Mapped[float] = mapped_column(Float)
    target_z: Mapped[float] = mapped_column(Float)
    field_of_view_deg: Mapped[float] = mapped_column(Float, default=30.0)
    caption_vi: Mapped[str | None] = mapped_column(Text)
    caption_en: Mapped[str | None] = mapped_column(Text)
    dwell_s: Mapped[float] = mapped_column(Float, default=6.0)
    lat: Mapped[float | None] = mapped_column(Float)  # where the visitor stands, WGS 84 degrees (or None)
    lon: Mapped[float | None] = mapped_column(Float)

    tour: Mapped[Tour] = relationship(back_populates="stops")


class MonumentItem(Base):
    """A curator's link between a monument and a library item that speaks of it (and the page where)."""

    __tablename__ = "monument_items"
    __table_args__ = (UniqueConstraint("monument_id", "item_id", name="uq_monument_items_monument_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    monument_id: Mapped[int] = mapped_column(ForeignKey("monuments.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    page_sequence: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(1000))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
