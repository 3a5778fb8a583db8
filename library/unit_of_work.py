"""One place for the side effects of a change: commit first, then update the search index, then send
tasks, then run what follows — in that order, for every service (web, CLI, API and workers alike).

What was done is recorded in the audit trail (``work.audit(…)``, :mod:`library.audit`) inside the same
transaction, just before the commit: a committed change always has its record and a change that rolled
back has none (an event written after the commit could be lost by a crash between the two).

A change that is committed is never lost: if the search engine is down, the rows stay marked
``index_pending`` and the sweeper sends them later; if the broker is down, queued pages are sent again
by the sweeper (``resend_queued_after_s``). Nothing is indexed or sent for a change that did not commit.

    with platform.work(actor) as work:
        item = work.session.get(Item, item_id)
        item.title = "…"; item.index_pending = True
        work.send(OCR_PAGE, page_id)
    # committed, then indexed (search finds the new title now), then the task sent
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from sqlalchemy.orm import Session, sessionmaker

from library.access import Actor

log = logging.getLogger(__name__)


@dataclass
class Work:
    """What one change collects while its transaction is open."""

    actor: Actor
    session: Session
    tasks: list[tuple[str, tuple]] = field(default_factory=list)
    after: list[Callable[[], Any]] = field(default_factory=list)
    reindex: bool = False
    accepted: list[tuple[str, tuple]] = field(default_factory=list)  # the tasks the broker took

    def accepted_ids(self, task: str) -> list:
        """The first arguments (page or build ids) of the ``task``s the broker took, once sent: only
        those are marked as sent; the sweeper sends the others again on its next pass."""
        return [args[0] for name, args in self.accepted if name == task and args]

    def send(self, task: str, *args) -> None:
        """Send ``task`` once the change has committed."""
        self.tasks.append((task, args))

    def then(self, action: Callable[[], Any]) -> None:
        """Run ``action`` after the commit, the index update and the tasks (e.g. an audit record)."""
        self.after.append(action)

    def audit(self, action: str, *, record_type: str | None = None, record_id: int | None = None,
              detail: dict | None = None) -> None:
        """Record ``action`` by this work's actor in the audit trail, in this transaction."""
        from library.audit import record

        record(self.session, self.actor, action, record_type=record_type, record_id=record_id, detail=detail)

    def unindex(self, doc_ids: list[str]) -> None:
        """Remove these search documents (their rows are gone) once the change has committed; kept in
        the catalogue's outbox (``index_removals``) until search has removed them."""
        from library.catalogue.models import IndexRemoval

        for doc_id in doc_ids:
            self.session.add(IndexRemoval(doc_id=doc_id))
        self.reindex = True

    def index(self) -> None:
        """The change marked rows ``index_pending``: send them to search right after the commit."""
        self.reindex = True


class UnitOfWork:
    def __init__(self, sessions: sessionmaker[Session], indexer, queue):
        self.sessions, self.indexer, self.queue = sessions, indexer, queue

    @contextlib.contextmanager
    def __call__(self, actor: Actor) -> Iterator[Work]:
        if not isinstance(actor, Actor):
            raise TypeError("a change needs an explicit library.access.Actor (Actor.system(...) for the machine)")
        with self.sessions.begin() as session:
            work = Work(actor=actor, session=session)
            yield work
        # committed: now the side effects, each one unable to undo the change
        if work.reindex:
            report = self.indexer.flush()
            if report.error:
                log.warning("change by %s committed; search will follow when it is back (%s)", actor.label,
                            report.error)
        for task, args in work.tasks:
            if self.queue.send(task, *args):
                work.accepted.append((task, args))
        for action in work.after:
            action()
