"""The few errors the search adapter raises, each carrying its consequence.

Callers translate them once at their edge: ``SearchUnavailable`` means "keep the
pending index changes and try again later"; ``QueryError`` carries a message a
user can act on; ``IndexIncompatible`` means "rebuild the index".
"""

from __future__ import annotations


class SearchError(Exception):
    """Base class: something went wrong in the search adapter."""


class SearchUnavailable(SearchError):
    """Transient: the engine cannot be reached or is busy (node down, index lock held too long).

    Nothing was lost; retry later. Callers that index keep their pending changes.
    """


class QueryError(SearchError):
    """The request cannot be searched as given. ``str(error)`` is a message for the user."""


class IndexIncompatible(SearchError):
    """The index on disk or in the cluster was built with another schema; rebuild it."""
