"""The composition root of the system of record: builds the catalogue engine,
the file store, the queue sender and the services from one Settings object.
The CLI, the web factory and the Celery factory each call :func:`build_platform`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from library.catalogue import db
from library.access import Access, Clock, system_clock
from library.access.admin import AccessAdmin
from library.catalogue.records import Catalogue
from library.catalogue.collections import CollectionService
from library.reading.corrections import CorrectionService
from library.discovery.exports import ExportService
from library.discovery.feedback import FeedbackService
from library.monuments.guides import GuideService
from library.discovery.indexing import Indexer
from library.catalogue.item_edits import ItemEditor
from library.reading.jobs import JobBoard
from library.ingest.service import IngestService
from library.ingest.mets_import import MetsImporter
from library.monuments.inscriptions import InscriptionPublisher
from library.monuments.service import MonumentService
from library.reading.ocr_jobs import PageReader
from library.catalogue.page_ops import PageOperations
from library.queue import TaskQueue
from library.discovery.searching import SearchService
from library.settings import Settings
from library.store import FileStore
from library.audit import AuditTrail
from library.unit_of_work import UnitOfWork
from library.access.users import UserService


@dataclass
class Platform:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: FileStore
    queue: TaskQueue
    ingest: IngestService
    reader: PageReader
    catalogue: Catalogue
    users: UserService
    indexer: Indexer
    search: SearchService
    monuments: MonumentService
    corrections: CorrectionService
    guides: GuideService
    feedback: FeedbackService
    jobs: JobBoard
    exports: ExportService
    access: Access
    access_admin: AccessAdmin
    work: UnitOfWork  # every change: commit, then search, then tasks, then what follows
    items: ItemEditor
    pages: PageOperations  # reorder, turn, replace, remove and add pages; delete items
    collections: CollectionService  # create, rename, describe, order, move; collection pages and serials
    audit: AuditTrail  # who did what, append-only (written by the unit of work; read by admins)
    mets: MetsImporter  # METS/ALTO packages in (already read: no OCR); an item's articles and sections
    inscriptions: InscriptionPublisher  # a stele's face on a model published as an item (Hán, read by OCR)

    def close(self) -> None:
        self.mets.close()
        self.indexer.close()
        self.queue.close()
        self.engine.dispose()


def build_platform(settings: Settings, *, migrate: bool = True, queue: TaskQueue | None = None,
                   clock: Clock = system_clock) -> Platform:
    """``clock`` (UTC now) decides embargoes; tests pass one they can set."""
    settings.ensure_dirs()
    engine = db.make_engine(settings.catalogue_url)
    if migrate:
        db.upgrade(engine)
    sessions = db.make_session_factory(engine)
    store = FileStore(settings.store_dir)
    queue = queue or TaskQueue(settings)
    access = Access.from_settings(settings, clock)
    indexer = Indexer(sessions, lambda: open_search_engine(settings), access=access)
    search = SearchService(sessions, indexer, access=access)
    work = UnitOfWork(sessions, indexer, queue)
    corrections = CorrectionService(sessions, low_confidence=settings.low_confidence, work=work)
    ingest = IngestService(settings, sessions, store, queue, work)
    reader = PageReader(settings, sessions, store, queue, work)
    mets = MetsImporter(settings, sessions, store, work)
    exports = ExportService(settings, sessions, store)
    exports.logical_structure = mets.divisions  # an imported item's articles go out with its METS
    monuments = MonumentService(settings, sessions, store, queue, work)
    guides = GuideService(sessions, search, work)
    return Platform(
        settings=settings,
        engine=engine,
        sessions=sessions,
        store=store,
        queue=queue,
        ingest=ingest,
        reader=reader,
        catalogue=Catalogue(sessions, store),
        users=UserService(sessions),
        indexer=indexer,
        search=search,
        monuments=monuments,
        corrections=corrections,
        guides=guides,
        feedback=FeedbackService(sessions, corrections),
        jobs=JobBoard(settings, sessions),
        exports=exports,
        access=access,
        access_admin=AccessAdmin(sessions, access, work),
        work=work,
        items=ItemEditor(settings, sessions, work),
        pages=PageOperations(settings, sessions, store, work, reader, ingest, access),
        collections=CollectionService(sessions, work, access, max_items=settings.limits.max_items_per_collection),
        audit=AuditTrail(sessions),
        mets=mets,
        inscriptions=InscriptionPublisher(settings, monuments, ingest, guides, work),
    )


def open_search_engine(settings: Settings):
    """The search engine the settings name (imported only when first used)."""
    from search import open_engine

    if settings.search_url:
        return open_engine(settings.search_url, index=settings.search_index, query_timeout_s=settings.search_timeout_s)
    return open_engine(settings.index_dir)
