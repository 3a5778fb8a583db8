"""Domain errors of the platform.

A flat hierarchy in the manner of OCRmyPDF's ``exceptions.py``: every class
says what went wrong in words a librarian can act on, and carries its
consequence (``transient`` tells a worker whether a retry can help, and the
edges map classes to HTTP status codes and CLI exit codes in one table each).
None of these know anything of HTTP, Celery or the database.
"""

from __future__ import annotations


class HeritageError(Exception):
    """Base class: a problem the user can understand and act on."""

    transient = False  # True when retrying the same work later may succeed
    exit_code = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputRejected(HeritageError):
    """An uploaded file or metadata value cannot be accepted.

    ``source`` names the file (or sheet row) and ``problem`` says what is wrong,
    so a batch report can list every problem without stopping at the first.
    """

    exit_code = 2

    def __init__(self, source: str, problem: str):
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem

    def __reduce__(self):  # pickled whole (a METS import's checking processes send them back)
        return type(self), (self.source, self.problem)


class LimitExceeded(InputRejected):
    """An input is larger than a configured limit (pixels, pages, bytes, entries)."""


class NotFound(HeritageError):
    exit_code = 3


class PermissionDenied(HeritageError):
    exit_code = 4


class Conflict(HeritageError):
    """The request clashes with the current state (e.g. a duplicate identifier)."""

    exit_code = 5


class OcrFailed(HeritageError):
    """Tesseract could not read a page; the reason says why."""

    exit_code = 6


class OcrTimeout(OcrFailed):
    """Tesseract ran past its time limit. A retry (perhaps with a larger limit) may help."""

    transient = True


class EngineMissing(HeritageError):
    """An external program or language model is not installed."""

    exit_code = 7


class StoreCorrupted(HeritageError):
    """A stored file no longer matches its checksum, or has gone missing."""

    exit_code = 8


class StoreFull(HeritageError):
    """The file store cannot take a file (its disk is full, or it cannot be written). Nothing of the
    change that needed it was recorded; it can be sent again once there is room."""

    transient = True
    exit_code = 11


class Unavailable(HeritageError):
    """A part the platform needs does not answer right now (HTTP 503 with Retry-After). Nothing was changed."""

    transient = True
    exit_code = 9


class CatalogueUnavailable(Unavailable):
    """The catalogue's database does not answer (restarting, unreachable). Nothing was changed."""


class SearchOffline(HeritageError):
    """The search engine does not answer. Stored work is safe; index changes wait until it is back."""

    transient = True
    exit_code = 9
