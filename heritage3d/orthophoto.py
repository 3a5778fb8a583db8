"""Rectified pictures of a model's flat faces (issue #14): a stele's inscribed face seen straight on, at a
chosen resolution, from the model's texture — what an inscription is read from.

A :class:`Face` is marked by three corners (lower left, lower right, upper left, as one faces it); the
orthophoto casts one ray per pixel along the face's inward normal, starting a little in front of the
marked plane so that a face marked slightly behind or in front of the surface is still seen, and takes
the colour where the ray meets the model: the texture's (bilinear) on a textured model, else the vertex
colours'. No lighting is added: the colours are the photos' as the texture holds them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heritage3d.errors import FaceError
from heritage3d.mesh import Mesh

MAX_ORTHOPHOTO_PIXELS = 64_000_000


@dataclass
class Face:
    """A flat face of a model: ``origin`` its lower left corner, ``right`` and ``up`` the unit vectors
    along its width and height (both (3,) float64), ``width`` and ``height`` in the model's units. Its
    outward normal is ``right × up``."""

    origin: np.ndarray
    right: np.ndarray
    up: np.ndarray
    width: float
    height: float

    @classmethod
    def from_corners(cls, lower_left, lower_right, upper_left) -> "Face":
        """The face through three corners as a curator marks them on the model, facing it (the third is
        squared to the first two). Corners that do not make a face are refused by name."""
        a, b, c = (np.asarray(p, np.float64).reshape(3) for p in (lower_left, lower_right, upper_left))
        if not (np.isfinite(a).all() and np.isfinite(b).all() and np.isfinite(c).all()):
            raise FaceError("a face's corners must be finite points", "corners")
        right = b - a
        width = float(np.linalg.norm(right))
        if width == 0:
            raise FaceError("the face's lower corners are one point: mark its lower left and lower right corners",
                            "same_point")
        right /= width
        up = (c - a) - right * ((c - a) @ right)
        height = float(np.linalg.norm(up))
        if height < 1e-6 * width:
            raise FaceError("the face's three corners lie on one line: mark its upper left corner above the lower "
                            "left", "line")
        return cls(a, right, up / height, width, height)

    @property
    def normal(self) -> np.ndarray:
        return np.cross(self.right, self.up)

    def corners(self) -> np.ndarray:
        """(3, 3): lower left, lower right, upper left."""
        return np.stack([self.origin, self.origin + self.width * self.right, self.origin + self.height * self.up])

    def moved(self, scale: float, rotation: np.ndarray, translation: np.ndarray) -> "Face":
        """The same face after ``scale * rotation @ p + translation``."""
        a, b, c = (scale * self.corners() @ np.asarray(rotation).T + translation)
        return Face.from_corners(a, b, c)


def orthophoto(mesh: Mesh, face: Face, px_per_unit: float, *, reach: float | None = None,
               background: tuple[int, int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``face`` of ``mesh`` seen straight on: an image (h, w, 3) uint8 of ``face.width × face.height`` at
    ``px_per_unit`` (row 0 at the top of the face), and the mask (h, w) of pixels whose ray met the model.
    Rays start ``reach`` in front of the face's plane (a fifth of its smaller side by default). Pixels whose
    ray met nothing (a hole in the model, the face's marked corners beyond its edge) take ``background``,
    by default the median colour of the surface met: blank stone, which a reader does not take for a
    character (black squares were read as "1")."""
    from heritage3d.inputs import bilinear
    from heritage3d.texture import ray_hits

    w_px, h_px = round(face.width * px_per_unit), round(face.height * px_per_unit)
    if w_px < 1 or h_px < 1:
        raise FaceError(f"{px_per_unit:g} pixels per unit gives an empty picture of a "
                        f"{face.width:g} × {face.height:g} face", "empty")
    if w_px * h_px > MAX_ORTHOPHOTO_PIXELS:
        raise FaceError(f"a {w_px:,} × {h_px:,} px orthophoto is over the limit of {MAX_ORTHOPHOTO_PIXELS:,} pixels; "
                        "choose fewer pixels per unit", "too_large")
    reach = min(face.width, face.height) / 5 if reach is None else reach
    cols, rows = np.meshgrid((np.arange(w_px) + 0.5) / px_per_unit, face.height - (np.arange(h_px) + 0.5) / px_per_unit)
    starts = (face.origin + cols.reshape(-1, 1) * face.right + rows.reshape(-1, 1) * face.up
              + reach * face.normal)
    ok, tri, weights = ray_hits(mesh, starts, np.broadcast_to(-face.normal, starts.shape))
    if mesh.textured:
        at = np.einsum("ij,ijk->ik", weights, mesh.uv[tri])
        th, tw = mesh.texture.shape[:2]
        met = np.clip(np.round(bilinear(mesh.texture, at[:, 0] * tw - 0.5, at[:, 1] * th - 0.5)), 0, 255)
    else:
        met = np.einsum("ij,ijk->ik", weights, mesh.colors[tri].astype(np.float64)).round().clip(0, 255)
    if background is None:
        background = np.median(met, axis=0).round() if len(met) else (0, 0, 0)
    out = np.tile(np.asarray(background, np.uint8), (w_px * h_px, 1))
    out[ok] = met
    return out.reshape(h_px, w_px, 3), ok.reshape(h_px, w_px)
