"""The few errors heritage3d raises; each says what happened and what the curator can do.

A flat hierarchy (after OCRmyPDF's ``exceptions.py``): every class carries whether a
retry could help (``retryable``), so the edges (CLI, worker) map it once.
"""


class Heritage3DError(Exception):
    """Base class. ``str(err)`` is a sentence meant for the curator."""

    retryable = False


class InputError(Heritage3DError):
    """The input cannot make a model (bad file, wrong type, too few photos)."""


class FaceError(InputError):
    """A face marked on a model cannot be pictured; ``code`` names why (``corners``: not finite points,
    ``same_point``, ``line``: corners on one line, ``empty``: no pixel at that resolution, ``too_large``)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


class TooFewPhotosError(InputError):
    """Fewer photos than a reconstruction needs."""


class CorruptImageError(InputError):
    """A photo cannot be decoded."""


class CorruptGeometryError(InputError):
    """A point cloud or mesh file is malformed (absurd counts, NaN, bad indices, broken GLB)."""


class ReconstructionError(Heritage3DError):
    """The photos were read but do not form a model (they do not overlap, too few register)."""


class DenseError(Heritage3DError):
    """The dense step produced no usable surface."""


class ToolError(Heritage3DError):
    """An external library (pycolmap, open3d) is missing or failed unexpectedly."""

    retryable = True
