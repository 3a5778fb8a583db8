"""Reading what curators upload: photos, point clouds (PLY, XYZ, LAS/LAZ) and meshes (OBJ, PLY, GLB).

Every reader checks the file before trusting it and raises ``heritage3d.errors`` with a reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from heritage3d.errors import CorruptGeometryError, CorruptImageError, InputError
from heritage3d.mesh import Mesh, validate

from heritage3d.formats import (  # noqa: F401  (the one list of accepted types)
    CLOUD_SUFFIXES,
    EITHER_SUFFIXES,
    MESH_SUFFIXES,
    OBJ_COMPANION_SUFFIXES,
    PHOTO_SUFFIXES,
)
MAX_ELEMENTS = 200_000_000
MAX_CLOUD_POINTS = 50_000_000  # LAS/LAZ: more would not fit the memory a build may use
MAX_LAZ_RATIO = 200  # LAZ: declared point bytes per compressed byte beyond which the header lies
_PLY_SIZES = {"char": 1, "uchar": 1, "int8": 1, "uint8": 1, "short": 2, "ushort": 2, "int16": 2, "uint16": 2,
              "int": 4, "uint": 4, "int32": 4, "uint32": 4, "float": 4, "float32": 4, "double": 8, "float64": 8}


def kind(paths: list[Path]) -> str:
    """'photos', 'point_cloud' or 'mesh' from the file types; PLY is a mesh when it declares faces.
    One OBJ with its material files (MTL) and texture images is a mesh."""
    suffixes = {p.suffix.lower() for p in paths}
    if suffixes <= PHOTO_SUFFIXES:
        return "photos"
    objs = [p for p in paths if p.suffix.lower() == ".obj"]
    if len(objs) == 1 and suffixes <= PHOTO_SUFFIXES | {".obj", ".mtl"}:
        return "mesh"
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
                     "one point cloud (PLY, XYZ, LAS/LAZ) or one mesh (OBJ with its MTL and textures, PLY, GLB/glTF, STL, OFF)")


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
        pts, col = read_las(path)
    else:
        raise InputError(f"{path.name}: unknown point cloud type")
    if len(pts) < 100:
        raise CorruptGeometryError(f"{path.name} holds {len(pts)} points; a model needs thousands")
    if not np.isfinite(pts).all():
        raise CorruptGeometryError(f"{path.name} has NaN or infinite coordinates")
    return pts, col


def read_las(path: Path, *, max_points: int = MAX_CLOUD_POINTS, chunk_points: int = 1_000_000
             ) -> tuple[np.ndarray, np.ndarray | None]:
    """Points (n, 3) float64 and colours (n, 3) uint8 or None from a LAS or LAZ file (laspy, lazrs backend).

    The header is checked before any point is read: the declared count against ``max_points`` and
    against what the file's size can hold (exactly for LAS; for LAZ at most :data:`MAX_LAZ_RATIO`
    times its compressed bytes), and the scales and offsets for NaN. Points are then read in chunks,
    so a file that lies cannot make us allocate what it declares. 16-bit colours are brought to 8 bits.
    """
    try:
        import laspy
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise InputError("LAS/LAZ input needs the laspy package: pip install 'laspy[lazrs]'") from exc
    size = path.stat().st_size
    try:
        reader = laspy.open(path)
    except Exception as exc:  # laspy raises several types on hostile headers
        raise CorruptGeometryError(f"{path.name} is not a readable LAS/LAZ file ({exc})") from exc
    with reader:
        h = reader.header
        n, record = int(h.point_count), int(h.point_format.size)
        data_bytes = size - int(h.offset_to_point_data)
        if n == 0:
            raise CorruptGeometryError(f"{path.name} holds no points")
        if n > max_points:
            raise CorruptGeometryError(f"{path.name} declares {n:,} points, more than the {max_points:,} a model "
                                       "can be built from; thin the cloud first")
        if not h.are_points_compressed and n * record > data_bytes:
            raise CorruptGeometryError(
                f"{path.name} declares {n:,} points ({n * record:,} bytes) but holds only {max(data_bytes, 0):,} bytes "
                "of points: the file is truncated or its header is wrong")
        if h.are_points_compressed and n * record > MAX_LAZ_RATIO * max(data_bytes, 1):
            raise CorruptGeometryError(
                f"{path.name} declares {n:,} points, more than its {max(data_bytes, 0):,} compressed bytes can hold: "
                "the file is truncated or its header is wrong")
        if not (np.isfinite(h.scales).all() and np.isfinite(h.offsets).all()) or (np.asarray(h.scales) == 0).any():
            raise CorruptGeometryError(f"{path.name} has NaN or zero scales or offsets in its header")
        names = set(h.point_format.dimension_names)
        coloured = {"red", "green", "blue"} <= names
        xyz, rgb, got = [], [], 0
        try:
            for chunk in reader.chunk_iterator(chunk_points):
                xyz.append(np.stack([np.asarray(chunk.x), np.asarray(chunk.y), np.asarray(chunk.z)], 1))
                if coloured:
                    rgb.append(np.stack([np.asarray(chunk.red), np.asarray(chunk.green), np.asarray(chunk.blue)], 1))
                got += len(chunk)
                if got >= n:
                    break
        except Exception as exc:  # lazrs and laspy raise their own types on damaged data
            raise CorruptGeometryError(f"{path.name} is truncated or damaged after {got:,} of {n:,} points "
                                       f"({type(exc).__name__}: {exc})") from exc
    if got < n:
        raise CorruptGeometryError(f"{path.name} ends after {got:,} of its {n:,} declared points: the file is truncated")
    pts = np.concatenate(xyz).astype(np.float64)
    col = None
    if coloured:
        c = np.concatenate(rgb).astype(np.uint32)
        if c.max() > 255:  # the standard says 16 bits; some writers put 8-bit values in them
            c = c >> 8
        col = c.astype(np.uint8)
        if not col.any():  # a format with colour fields that nobody filled
            col = None
    return pts, col


def read_mesh(path: Path, companions: list[Path] | tuple[Path, ...] = (), warnings: list[str] | None = None) -> Mesh:
    """A mesh made elsewhere (OBJ, PLY, GLB/glTF, STL, OFF) as arrays; colours from vertex colours, or for an OBJ from its
    textures (MTL ``map_Kd``, sampled at the vertices' UV coordinates) or material colours (``Kd``).

    ``companions``: other files given with an OBJ (its MTL and textures) looked up by name when they
    are not beside it. A missing or unreadable texture does not stop the build: its faces are grey
    and a sentence saying so is appended to ``warnings``.
    """
    import trimesh

    path = Path(path)
    if path.suffix.lower() == ".obj":
        return _read_obj(path, list(companions), warnings if warnings is not None else [])
    if path.suffix.lower() == ".ply":
        ply_header(path)
    try:
        loaded = trimesh.load(path, force="mesh", process=False, validate=False)
    except Exception as exc:  # trimesh raises many types on broken files
        raise CorruptGeometryError(f"{path.name} cannot be read as a mesh ({type(exc).__name__}: {exc})") from exc
    vertices = np.asarray(loaded.vertices, dtype=np.float64)
    faces = np.asarray(loaded.faces, dtype=np.int64).reshape(-1, 3)
    validate(vertices, faces)
    if len(faces) == 0:
        raise CorruptGeometryError(f"{path.name} has no triangles")
    textured = _kept_texture(loaded.visual, len(vertices))
    if textured is not None:
        rgb, uv_up = textured
        return Mesh(vertices, faces, sample_texture(rgb, uv_up), _gltf_uv(uv_up), rgb)
    colors = None
    try:
        visual = loaded.visual
        vc = visual.vertex_colors if visual.kind == "vertex" else visual.to_color().vertex_colors
        if len(vc) == len(vertices):
            colors = np.asarray(vc)[:, :3].astype(np.uint8)
    except Exception:  # no usable colour: grey
        colors = None
    return Mesh(vertices, faces, colors)


def _kept_texture(visual, n_vertices: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(image (h, w, 3) uint8, uv (n, 2) as trimesh gives them: v up)`` of a trimesh visual whose base
    colour is one texture image with a coordinate in 0..1 per vertex, within the texture limit; None
    otherwise (a repeating texture, several images: the colours are baked onto the vertices as before)."""
    if getattr(visual, "kind", None) != "texture":
        return None
    material = getattr(visual, "material", None)
    image = getattr(material, "baseColorTexture", None) or getattr(material, "image", None)
    uv = getattr(visual, "uv", None)
    if image is None or uv is None or len(uv) != n_vertices:
        return None
    uv = np.asarray(uv, dtype=np.float64)
    if not np.isfinite(uv).all() or image.size[0] * image.size[1] > MAX_TEXTURE_PIXELS:
        return None
    if uv.min() < -1e-6 or uv.max() > 1 + 1e-6:  # a repeating texture: the levels' atlases clamp at the edge
        return None
    try:
        rgb = np.asarray(image.convert("RGB"))
    except (OSError, SyntaxError, ValueError):
        return None
    return rgb, uv


def _gltf_uv(uv_up: np.ndarray) -> np.ndarray:
    """Texture coordinates with v up (OBJ's, trimesh's) as glTF's (v down from the image's first row)."""
    return np.stack([uv_up[:, 0], 1.0 - uv_up[:, 1]], axis=1)


MAX_TEXTURE_PIXELS = 64_000_000  # an 8k × 8k atlas; more is refused as a decompression bomb


class _ObjAssets:
    """trimesh resolver for an OBJ's MTL and textures: names are looked up inside the OBJ's folder (never
    outside it), then by file name among the companion files; what was asked for and not found is kept."""

    def __init__(self, folder: Path, companions: list[Path]):
        self.folder = folder.resolve()
        self.companions = companions
        self.problems: dict[str, str] = {}  # name as written → why it is not used
        self.found: dict[str, Path] = {}
        self.mtl: dict[str, dict] = {}  # material name → {"map_Kd": name or None, "Kd": bool}

    def _locate(self, name: str) -> Path:
        raw = name.strip().strip('"')
        if raw.startswith("-"):  # map_Kd options (-s 1 1 1 -o …) before the file name
            raw = raw.split()[-1]
        rel = raw.replace("\\", "/")
        candidate = (self.folder / rel).resolve()
        if candidate.is_relative_to(self.folder) and candidate.is_file():
            return candidate
        base = Path(rel).name.lower()
        for p in self.companions:
            if p.name.lower() == base:
                return p
        same_kind = [p for p in self.companions if (p.suffix.lower() == ".mtl") == base.endswith(".mtl")]
        if len(same_kind) == 1 and (base.endswith(".mtl") or Path(base).suffix in PHOTO_SUFFIXES | {".bmp"}):
            return same_kind[0]  # renamed on the way (uploads are staged under numbers): the only candidate
        if not candidate.is_relative_to(self.folder):
            raise FileNotFoundError("it points outside the model's folder")
        raise FileNotFoundError("it is missing")

    def get(self, name: str) -> bytes:
        try:
            p = self._locate(name)
        except FileNotFoundError as exc:
            self.problems[name] = str(exc)
            raise
        data = p.read_bytes()
        if p.suffix.lower() == ".mtl" or name.lower().endswith(".mtl"):
            self._parse_mtl(data.decode("utf-8", "replace"))
        else:
            problem = _image_problem(data)
            if problem:
                self.problems[name] = problem
                raise FileNotFoundError(problem)
        self.found[name] = p
        return data

    __getitem__ = get

    def _parse_mtl(self, text: str) -> None:
        current = None
        for line in text.splitlines():
            parts = line.strip().split(maxsplit=1)
            if len(parts) < 2:
                continue
            key = parts[0].lower()
            if key == "newmtl":
                current = self.mtl.setdefault(parts[1].strip(), {"map_Kd": None, "Kd": False})
            elif current is not None and key == "map_kd":
                current["map_Kd"] = parts[1].strip()
            elif current is not None and key == "kd":
                current["Kd"] = True

    # the rest of trimesh's Resolver interface, unused for reading
    def write(self, name, data):  # pragma: no cover
        raise OSError("read only")

    def namespaced(self, namespace):  # pragma: no cover
        return self

    def keys(self):  # pragma: no cover
        return []

    def __contains__(self, name) -> bool:  # pragma: no cover
        try:
            self._locate(name)
            return True
        except FileNotFoundError:
            return False


def _image_problem(data: bytes) -> str | None:
    """Why texture bytes cannot be used (not an image, damaged, too many pixels), or None."""
    import io
    import warnings as _warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                w, h = im.size
                if w * h > MAX_TEXTURE_PIXELS:
                    return f"it is {w}×{h} pixels, more than the {MAX_TEXTURE_PIXELS:,} a texture may have"
                im.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        return f"it has more pixels than the {MAX_TEXTURE_PIXELS:,} a texture may have"
    except UnidentifiedImageError:
        return "it is not an image"
    except (OSError, SyntaxError, ValueError) as exc:
        return f"it cannot be read ({exc})"
    return None


def _read_obj(path: Path, companions: list[Path], warnings: list[str]) -> Mesh:
    import trimesh

    assets = _ObjAssets(path.parent, companions)
    try:
        scene = trimesh.load(path, file_type="obj", resolver=assets, force="scene", process=False,
                             validate=False)
        parts = []
        for node in scene.graph.nodes_geometry:  # not Scene.dump(): it deep-copies every texture
            transform, geometry = scene.graph[node]
            g = scene.geometry[geometry]
            if isinstance(g, trimesh.Trimesh):
                v = np.asarray(g.vertices, dtype=np.float64)
                parts.append((g, v @ transform[:3, :3].T + transform[:3, 3]))
    except CorruptGeometryError:
        raise
    except Exception as exc:  # trimesh raises many types on broken files
        raise CorruptGeometryError(f"{path.name} cannot be read as a mesh ({type(exc).__name__}: {exc})") from exc
    for name, why in assets.problems.items():
        what = "material file" if name.lower().endswith(".mtl") else "texture"
        warnings.append(f"the {what} {name!r} named by {path.name} is not used: {why}; the faces using it are grey")
    textures = [_kept_texture(g.visual, len(vertices)) for g, vertices in parts]
    if parts and all(t is not None for t in textures):  # a photogrammetry export: its textures are kept
        meshes = []
        for (g, vertices), (rgb, uv_up) in zip(parts, textures):
            faces = np.asarray(g.faces, dtype=np.int64).reshape(-1, 3)
            validate(vertices, faces)
            meshes.append(Mesh(vertices, faces, sample_texture(rgb, uv_up), _gltf_uv(uv_up), rgb))
        meshes = [m for m in meshes if len(m.faces)]
        if meshes:
            return meshes[0] if len(meshes) == 1 else _one_texture(meshes)
    meshes = []
    for g, vertices in parts:
        faces = np.asarray(g.faces, dtype=np.int64).reshape(-1, 3)
        validate(vertices, faces)
        meshes.append(Mesh(vertices, faces, _obj_colours(g, assets, path.name, warnings)))
    meshes = [m for m in meshes if len(m.faces)]
    if not meshes:
        raise CorruptGeometryError(f"{path.name} has no triangles")
    return _joined(meshes)


PACK_BORDER_PX = 2  # each texture's edge pixels repeated around it in the packed atlas (filtering, mipmaps)
MAX_PACKED_PX = 8192


def _one_texture(meshes: list[Mesh]) -> Mesh:
    """Textured parts (an export with a texture per piece) as one mesh with one texture: the images packed
    side by side in shelves (each with a border of its edge pixels) into the smallest power-of-two square
    up to 8,192 px that holds them, halved together until they fit; texture coordinates moved to match."""
    import hashlib

    from heritage3d.texture import _shelf_pack

    by_image: dict[bytes, list[Mesh]] = {}  # pieces sharing one image (an OBJ's objects with one material)
    for m in meshes:
        key = hashlib.sha1(m.texture.tobytes()).digest() + str(m.texture.shape).encode()
        by_image.setdefault(key, []).append(m)
    meshes = [_joined(group, np.concatenate([m.uv for m in group]), group[0].texture) for group in by_image.values()]
    if len(meshes) == 1:
        return meshes[0]
    images = [m.texture for m in meshes]
    scale = 1.0
    while True:
        sizes = np.array([[max(1, round(im.shape[1] * scale)) + 2 * PACK_BORDER_PX,
                           max(1, round(im.shape[0] * scale)) + 2 * PACK_BORDER_PX] for im in images])
        side = 256
        while side < MAX_PACKED_PX and (side * side < (sizes[:, 0] * sizes[:, 1]).sum()
                                        or _shelf_pack(sizes, side) is None):
            side *= 2
        corners = _shelf_pack(sizes, side)
        if corners is not None:
            break
        scale /= 2
    from PIL import Image

    atlas = np.zeros((side, side, 3), np.uint8)
    uvs = []
    for m, (w, h), (x, y) in zip(meshes, sizes, corners):
        inner_w, inner_h = int(w) - 2 * PACK_BORDER_PX, int(h) - 2 * PACK_BORDER_PX
        im = m.texture
        if (im.shape[1], im.shape[0]) != (inner_w, inner_h):
            im = np.asarray(Image.fromarray(im).resize((inner_w, inner_h), Image.Resampling.LANCZOS))
        atlas[y:y + h, x:x + w] = np.pad(im, ((PACK_BORDER_PX,) * 2, (PACK_BORDER_PX,) * 2, (0, 0)), mode="edge")
        uvs.append(np.stack([(x + PACK_BORDER_PX + m.uv[:, 0] * inner_w) / side,
                             (y + PACK_BORDER_PX + m.uv[:, 1] * inner_h) / side], axis=1))
    return _joined(meshes, np.concatenate(uvs), atlas)


def _joined(meshes: list[Mesh], uv: np.ndarray | None = None, texture: np.ndarray | None = None) -> Mesh:
    """One mesh of ``meshes`` (faces renumbered), with ``uv`` and ``texture`` when given."""
    off = np.cumsum([0] + [len(m.vertices) for m in meshes[:-1]])
    return Mesh(np.concatenate([m.vertices for m in meshes]), np.concatenate([m.faces + o for m, o in zip(meshes, off)]),
                np.concatenate([m.colors for m in meshes]), uv, texture)


def _obj_colours(g, assets: _ObjAssets, obj_name: str, warnings: list[str]) -> np.ndarray | None:
    """Vertex colours (n, 3) uint8 of one OBJ part, or None (grey)."""
    visual = g.visual
    if getattr(visual, "kind", None) == "vertex":
        return np.asarray(visual.vertex_colors)[:, :3].astype(np.uint8)
    material = getattr(visual, "material", None)
    if material is None:
        return None
    declared = assets.mtl.get(getattr(material, "name", None) or "", {})
    image, uv = getattr(material, "image", None), getattr(visual, "uv", None)
    texture = declared.get("map_Kd")
    if image is not None:
        label = texture or "the texture"
        if uv is None or len(uv) != len(g.vertices):
            warnings.append(f"{obj_name} has a texture ({label}) but no texture coordinates; the faces using it are grey")
            return None
        try:
            rgb = np.asarray(image.convert("RGB"))
        except (OSError, SyntaxError, ValueError) as exc:
            warnings.append(f"texture {label} of {obj_name} cannot be read ({exc}); the faces using it are grey")
            return None
        return sample_texture(rgb, np.asarray(uv, dtype=np.float64))
    if texture:  # named but not loaded: missing (warned above) or not an image trimesh could open
        if texture not in assets.problems:
            warnings.append(f"texture {texture} of {obj_name} is not an image that can be read; the faces using it are grey")
        return None
    if declared.get("Kd"):  # a plain material colour
        kd = np.asarray(material.diffuse)[:3].astype(np.uint8)
        return np.tile(kd, (len(g.vertices), 1))
    return None


def sample_texture(rgb: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Colours (n, 3) uint8 of texture ``rgb`` (h, w, 3) uint8 at texture coordinates ``uv`` (n, 2), bilinear.

    OBJ/glTF-style coordinates: u to the right, v up from the bottom row; outside 0..1 they repeat.
    Non-finite coordinates give grey."""
    h, w = rgb.shape[:2]
    uv = np.where(np.isfinite(uv), uv, 0.5)
    u = np.where((uv[:, 0] < 0) | (uv[:, 0] > 1), np.mod(uv[:, 0], 1.0), uv[:, 0])
    v = np.where((uv[:, 1] < 0) | (uv[:, 1] > 1), np.mod(uv[:, 1], 1.0), uv[:, 1])
    return np.clip(np.round(bilinear(rgb, u * w - 0.5, (1 - v) * h - 0.5)), 0, 255).astype(np.uint8)


def bilinear(rgb: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Colours (n, 3) float64 of image ``rgb`` at pixel positions ``x``, ``y`` (pixel centres at whole numbers;
    clamped to the image), interpolated between the four nearest pixels."""
    h, w = rgb.shape[:2]
    x = np.clip(x, 0, w - 1)
    y = np.clip(y, 0, h - 1)
    x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]

    def at(yy, xx):
        return rgb[yy, xx].astype(np.float64)

    return (at(y0, x0) * (1 - fx) + at(y0, x1) * fx) * (1 - fy) + (at(y1, x0) * (1 - fx) + at(y1, x1) * fx) * fy


def mesh_from_points(points: np.ndarray, colors: np.ndarray | None, *, depth: int = 9,
                     density_quantile: float = 0.05, max_points: int = 2_000_000) -> Mesh:
    """Screened Poisson surface (Open3D) of a point cloud, trimmed where the density is lowest."""
    import open3d as o3d

    if len(points) > max_points:  # Poisson at depth 9 resolves no more; the rest only costs time and memory
        keep = np.random.default_rng(0).choice(len(points), max_points, replace=False)
        points, colors = points[keep], (None if colors is None else colors[keep])
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
