"""The one place a page's current text changes, so that it is stored once.

A page's text is in ``pages.text``; every version of it is a ``transcriptions`` row. The version in use
would repeat the page's text word for word, so its ``text`` column is NULL and reads through to the
page (``Transcription.text``). When the page's text changes, the version that shared it first gets its
own copy of the old text, then the new version (if any) shares the new one. At most one version of a
page shares its text, and only a version whose text *is* the page's text.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from library.catalogue.models import Page, Transcription


def set_page_text(s: Session, page: Page, text: str | None, version: Transcription | None = None, *,
                  new_page: bool = False) -> None:
    """Make ``text`` the page's current text; ``version`` (added to ``s`` or loaded in it) is the
    version that text comes from, which then shares it instead of keeping a copy. Call it inside the
    change's transaction, with the page loaded (locked where the caller locks it). ``new_page``: the
    page was made in this transaction and has no stored version to look up (an import's pages)."""
    shared_now = () if new_page else s.scalars(select(Transcription).where(
        Transcription.page_id == page.id, Transcription.own_text.is_(None)))
    for shared in shared_now:
        if shared is not version:
            shared.own_text = page.text or ""
    page.text = text
    if version is not None:
        if version.own_text is not None and version.own_text != (text or ""):
            raise ValueError(f"version {version.version} of page {page.id} is not the text being set")
        version.own_text = None if text else (text or "")
