"""The few errors heritage3d raises; each says what happened and what the curator can do.

A flat hierarchy (after OCRmyPDF's ``exceptions.py``): every class carries whether a
retry could help (``retryable``), so the edges (CLI, worker) map it once.
"""


class Heritage3DError(Exception):
    """Base class. ``str(err)`` is a sentence meant for the curator."""

    retryable = False


class InputError(Heritage3DError):
    """The input cannot make a model (bad file, wrong type, too few photos)."""


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
