"""Orthophotos of a model's flat faces (#14): a textured face tilted and turned in space comes back as its
texture, straight on, at the resolution asked; marked corners that make no face are refused by name."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from heritage3d.errors import FaceError
from heritage3d.mesh import Mesh
from heritage3d.orthophoto import Face, orthophoto


def textured_face(width=0.8, height=1.2, n=21, seed=2):
    """A flat grid ``width`` × ``height`` in the xy plane (facing +z) with a random blocky texture."""
    rng = np.random.default_rng(seed)
    texture = np.kron(rng.integers(0, 256, (24, 16, 3)), np.ones((16, 16, 1))).astype(np.uint8)  # 384 × 256
    xs, ys = np.meshgrid(np.linspace(0, width, n), np.linspace(0, height, n))
    vertices = np.stack([xs.ravel(), ys.ravel(), np.zeros(n * n)], 1)
    uv = np.stack([xs.ravel() / width, 1 - ys.ravel() / height], 1)  # glTF: v down from the image's top
    faces = [[i * n + j, i * n + j + 1, (i + 1) * n + j] for i in range(n - 1) for j in range(n - 1)]
    faces += [[i * n + j + 1, (i + 1) * n + j + 1, (i + 1) * n + j] for i in range(n - 1) for j in range(n - 1)]
    return Mesh(vertices, np.asarray(faces), None, uv, texture), texture


def test_a_tilted_face_comes_back_straight_on_from_its_texture():
    mesh, texture = textured_face()
    turn = Rotation.from_euler("xyz", [25, -40, 70], degrees=True).as_matrix()
    moved = Mesh(mesh.vertices @ turn.T + [3.0, -1.0, 2.0], mesh.faces, None, mesh.uv, mesh.texture)
    corners = np.array([[0, 0, 0], [0.8, 0, 0], [0, 1.2, 0]]) @ turn.T + [3.0, -1.0, 2.0]
    face = Face.from_corners(*corners)
    image, mask = orthophoto(moved, face, 320)  # 256 × 384 px: the texture's own size
    assert image.shape == (384, 256, 3) and mask.mean() > 0.99
    inner = (slice(4, -4), slice(4, -4))  # leave the outermost pixels (a ray may graze the edge)
    assert np.abs(image[inner].astype(int) - texture[inner].astype(int)).mean() < 3


def test_a_face_marked_a_little_off_the_surface_still_sees_it_and_vertex_colours_serve_an_untextured_model():
    mesh, _ = textured_face()
    plain = Mesh(mesh.vertices, mesh.faces, np.full((len(mesh.vertices), 3), 90, np.uint8))
    behind = Face.from_corners([0, 0, -0.05], [0.8, 0, -0.05], [0, 1.2, -0.05])  # 5 cm inside the stone
    image, mask = orthophoto(plain, behind, 50)
    assert mask.all() and (image == 90).all()


def test_a_hole_in_the_model_shows_as_blank_stone_not_as_a_dark_mark():
    mesh, _ = textured_face()
    plain = Mesh(mesh.vertices, mesh.faces, np.full((len(mesh.vertices), 3), 150, np.uint8))
    centre = plain.vertices[plain.faces].mean(axis=1)
    hole = (np.abs(centre[:, 0] - 0.4) < 0.1) & (np.abs(centre[:, 1] - 0.6) < 0.1)  # a 20 cm square missing
    holed = Mesh(plain.vertices, plain.faces[~hole], plain.colors)
    face = Face.from_corners([0, 0, 0], [0.8, 0, 0], [0, 1.2, 0])
    image, mask = orthophoto(holed, face, 50)
    assert 0.9 < mask.mean() < 0.99  # the rays through the hole met nothing…
    assert (image[~mask] == 150).all() and (image == 150).all()  # …and show the stone's own colour
    image, mask = orthophoto(holed, face, 50, background=(0, 0, 0))
    assert (image[~mask] == 0).all() and (image[mask] == 150).all()  # a background asked for is kept


@pytest.mark.parametrize("corners, code", [
    ([[0, 0, 0], [0, 0, 0], [0, 1, 0]], "same_point"),
    ([[0, 0, 0], [1, 0, 0], [2, 0, 0]], "line"),
    ([[0, 0, 0], [1, 0, np.nan], [0, 1, 0]], "corners"),
])
def test_corners_that_make_no_face_are_refused_by_name(corners, code):
    with pytest.raises(FaceError) as err:
        Face.from_corners(*corners)
    assert err.value.code == code


def test_a_picture_over_the_limit_or_empty_is_refused_before_any_work():
    mesh, _ = textured_face()
    face = Face.from_corners([0, 0, 0], [0.8, 0, 0], [0, 1.2, 0])
    with pytest.raises(FaceError, match="over the limit") as err:
        orthophoto(mesh, face, 1e5)
    assert err.value.code == "too_large"
    with pytest.raises(FaceError) as err:
        orthophoto(mesh, face, 1e-3)
    assert err.value.code == "empty"
