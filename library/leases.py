"""The one compare-and-set lease for work that several workers may race for: OCR pages and 3D builds.

A claimant reads the row, decides it may take it, then writes its new lease token *only if* the row
still holds the token and status it read. Exactly one of two racing claimants sees ``rowcount == 1``;
this needs no row lock, so it holds on SQLite and on PostgreSQL under READ COMMITTED alike (a read
followed by an unconditional write does not: both claimants would win, and both would build).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session


def new_token() -> str:
    return uuid.uuid4().hex


def take(session: Session, model, row_id: int, *, seen_token: str | None, seen_status: Any,
         values: dict[str, Any]) -> bool:
    """Write ``values`` (which must set ``lease_token``) to row ``row_id`` of ``model`` if the row still
    has the lease token and status the caller read; True when this claimant won the lease."""
    if "lease_token" not in values:
        raise ValueError("a lease must set lease_token")
    token_now = model.lease_token.is_(None) if seen_token is None else model.lease_token == seen_token
    result = session.execute(
        update(model).where(model.id == row_id, token_now, model.status == seen_status)
        .values(**values).execution_options(synchronize_session=False))
    return result.rowcount == 1
