"""Reading what curators upload: photos, point clouds (PLY, XYZ, LAS/LAZ) and meshes (OBJ, PLY, GLB).

Every reader checks the file before trusting it and raises ``heritage3d.errors`` with a reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from heritage3d.errors import CorruptGeometryError, CorruptImageError, InputError
from heritage3d.mesh import Mesh, validate

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff"}
CLOUD_SUFFIXES = {".xyz", ".las", ".laz"}
MESH_SUFFIXES = {".obj", ".glb", ".gltf"}
MAX_ELEMENTS = 200_000_000
_PLY_SIZES = {"char": 1, "uchar": 1, "int8": 1, "uint8": 1, "short": 2, "ushort": 2, "int16": 2, "uint16": 2,
              "int": 4, "uint": 4, "int32": 4, "uint32": 4, "float": 4, "float32": 4, "double": 8, "float64": 8}


def kind(paths: list[Path]) -> str:
    """'photos', 'point_cloud' or 'mesh' from the file types; PLY is a mesh when it declares faces."""
    suffixes = {p.suffix.lower() for p in paths}
    if suffixes <= PHOTO_SUFFIXES:
        return "photos"
    if len(paths) == 1:
        s = paths[0].suffix.lower()
        if s in CLOUD_SUFFIXES:
            return "point_cloud"
        if s in MESH_SUFFIXES:
            return "mesh"
        if s == ".ply":
            header = ply_header(paths[0])
            return "mesh" if header.get("face", (0,))[0] > 0 else "point_cloud"
    raise InputError(f"cannot build from these files ({', '.join(sorted(suffixes))}): give photos (JPEG), "
                     "one point cloud (PLY, XYZ, LAS/LAZ) or one mesh (OBJ, PLY, GLB)")


def check_photos(paths: list[Path], *, min_photos: int = 3) -> list[tuple[int, int]]:
    """Decode every photo fully; returns their (width, height). Raises on too few or corrupt photos."""
    from PIL import Image, UnidentifiedImageError

    if len(paths) < min_photos:
        raise InputError(f"{len(paths)} photo(s) given; a model needs at least {min_photos} overlapping photos "
                         "(20 or more around the monument works best)")
    sizes = []
    for p in paths:
        try:
            with Image.open(p) as im:
                im.load()
                sizes.append(im.size)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise CorruptImageError(f"photo {p.name} cannot be read ({exc}); remove or re-export it") from exc
    return sizes


def load_rgb(path: Path, max_side_px: int) -> tuple[np.ndarray, float]:
    """Image (h, w, 3) uint8 RGB with its longer side at most ``max_side_px``; returns it and the scale used.
    EXIF orientation is ignored on purpose: COLMAP reads the raw pixel grid too."""
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB")
        scale = min(1.0, max_side_px / max(im.size))
        if scale < 1:
            im = im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.LANCZOS)
        return np.asarray(im), scale


def ply_header(path: Path) -> dict[str, tuple[int, int]]:
    """Elements declared in a PLY header: name → (count, bytes per element or 0 if unknown).

    Raises CorruptGeometryError on a missing header or counts the file cannot hold.
    """
    with open(path, "rb") as fh:
        head = fh.read(65536)
    end = head.find(b"end_header")
    if not head.startswith(b"ply") or end < 0:
        raise CorruptGeometryError(f"{path.name} is not a PLY file (no header)")
    lines = head[:end].decode("ascii", "replace").splitlines()
    binary = any(line.startswith("format binary") for line in lines)
    elements: dict[str, list[int]] = {}
    current = None
    for line in lines:
        parts = line.split()
        if parts[:1] == ["element"] and len(parts) == 3:
            if not re.fullmatch(r"\d+", parts[2]):
                raise CorruptGeometryError(f"{path.name}: element count {parts[2]!r} is not a number")
            current = parts[1]
            elements[current] = [int(parts[2]), 0]
        elif parts[:1] == ["property"] and current and len(parts) == 3:
            elements[current][1] += _PLY_SIZES.get(parts[1], 0)
        elif parts[:2] == ["property", "list"] and current:
            elements[current][1] += 1  # at least the list count byte
    size = path.stat().st_size
    need = sum(n * (b if binary else 2) for n, b in elements.values())
    for name, (n, _) in elements.items():
        if n > MAX_ELEMENTS or need > size:
            raise CorruptGeometryError(
                f"{path.name} declares {n:,} {name} elements but the file ({size:,} bytes) cannot hold them")
    return {k: (v[0], v[1]) for k, v in elements.items()}


def read_point_cloud(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """Points (n, 3) float64 and colours (n, 3) uint8 or None from PLY, XYZ or LAS/LAZ."""
    s = path.suffix.lower()
    if s == ".ply":
        ply_header(path)
        import open3d as o3d

        pc = o3d.io.read_point_cloud(str(path))
        pts, col = np.asarray(pc.points), np.asarray(pc.colors)
        col = (col * 255).round().astype(np.uint8) if len(col) == len(pts) else None
    elif s == ".xyz":
        try:
            data = np.loadtxt(path, ndmin=2)
        except ValueError as exc:
            raise CorruptGeometryError(f"{path.name}: not a table of numbers ({exc})") from exc
        if data.shape[1] < 3:
            raise CorruptGeometryError(f"{path.name}: each line needs x y z")
        pts = data[:, :3]
        col = np.clip(data[:, 3:6], 0, 255).astype(np.uint8) if data.shape[1] >= 6 else None
    elif s in (".las", ".laz"):
        try:
            import laspy
        except ImportError as exc:
            raise InputError("LAS/LAZ input needs the laspy package") from exc
        las = laspy.read(path)
        pts = np.stack([las.x, las.y, las.z], 1).astype(np.float64)
        col = None
    else:
        raise InputError(f"{path.name}: unknown point cloud type")
    if len(pts) < 100:
        raise CorruptGeometryError(f"{path.name} holds {len(pts)} points; a model needs thousands")
    if not np.isfinite(pts).all():
        raise CorruptGeometryError(f"{path.name} has NaN or infinite coordinates")
    return pts, col


def read_mesh(path: Path) -> Mesh:
    """A mesh made elsewhere (OBJ, PLY, GLB/glTF) as arrays; colours from vertex colours or textures if any."""
    import trimesh

    if path.suffix.lower() == ".ply":
        ply_header(path)
    try:
        loaded = trimesh.load(path, force="mesh", process=False, validate=False)
    except Exception as exc:  # trimesh raises many types on broken files
        raise CorruptGeometryError(f"{path.name} cannot be read as a mesh ({type(exc).__name__}: {exc})") from exc
    vertices = np.asarray(loaded.vertices, dtype=np.float64)
    faces = np.asarray(loaded.faces, dtype=np.int64).reshape(-1, 3)
    validate(vertices, faces)
    colors = None
    try:
        visual = loaded.visual
        vc = visual.vertex_colors if visual.kind == "vertex" else visual.to_color().vertex_colors
        if len(vc) == len(vertices):
            colors = np.asarray(vc)[:, :3].astype(np.uint8)
    except Exception:  # no usable colour: grey
        colors = None
    if len(faces) == 0:
        raise CorruptGeometryError(f"{path.name} has no triangles")
    return Mesh(vertices, faces, colors)


def mesh_from_points(points: np.ndarray, colors: np.ndarray | None, *, depth: int = 9,
                     density_quantile: float = 0.05) -> Mesh:
    """Screened Poisson surface (Open3D) of a point cloud, trimmed where the density is lowest."""
    import open3d as o3d

    pc = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    if colors is not None:
        pc.colors = o3d.utility.Vector3dVector(colors.astype(np.float64) / 255)
    diag = float(np.linalg.norm(points.max(0) - points.min(0)))
    pc.estimate_normals(o3d.geometry.KDTreeSearchParamHybrid(radius=diag / 50, max_nn=30))
    pc.orient_normals_consistent_tangent_plane(15) if len(points) < 200_000 else None
    m, dens = o3d.geometry.TriangleMesh.create_from_point_cloud_poisson(pc, depth=depth)
    dens = np.asarray(dens)
    m.remove_vertices_by_mask(dens < np.quantile(dens, density_quantile))
    from heritage3d.mesh import from_open3d

    return from_open3d(m)
