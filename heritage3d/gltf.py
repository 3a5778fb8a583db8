"""GLB (glTF 2.0 binary) with vertex colours, compressed with Draco (KHR_draco_mesh_compression, through
DracoPy), meshopt (EXT_meshopt_compression, through gltfpack: see :mod:`heritage3d.meshopt`) or not at all."""

from __future__ import annotations

import json
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from heritage3d.errors import CorruptGeometryError
from heritage3d.mesh import Mesh

_GLB_MAGIC = 0x46546C67
_JSON, _BIN = 0x4E4F534A, 0x004E4942
_FLOAT, _UBYTE, _UINT = 5126, 5121, 5125


def _pad(b: bytes, fill: bytes = b"\0") -> bytes:
    return b + fill * (-len(b) % 4)


def _glb(doc: dict, binary: bytes) -> bytes:
    js = _pad(json.dumps(doc, separators=(",", ":")).encode(), b" ")
    binary = _pad(binary)
    total = 12 + 8 + len(js) + 8 + len(binary)
    return (struct.pack("<III", _GLB_MAGIC, 2, total) + struct.pack("<II", len(js), _JSON) + js
            + struct.pack("<II", len(binary), _BIN) + binary)


_DRACO_POSITION, _DRACO_COLOR = 0, 2  # draco::GeometryAttribute::Type


COMPRESSIONS = ("draco", "meshopt", "none")
_DRACO_TEX_COORD = 3


@dataclass(frozen=True)
class Texture:
    """A texture atlas for :func:`to_glb`: ``uv`` (n, 2) per vertex (glTF's: v down from the image's first
    row) and the image's encoded bytes (JPEG or PNG, which every glTF viewer reads)."""

    uv: np.ndarray
    data: bytes
    mime: str = "image/jpeg"


TEXTURE_FORMATS = ("webp", "jpeg")


def encode_texture(image: np.ndarray, *, quality: int = 85, fmt: str = "jpeg") -> tuple[bytes, str]:
    """An atlas image as JPEG (core glTF: every viewer) or WebP bytes (``EXT_texture_webp``: every phone
    browser since 2020; about 45 % smaller than JPEG at the same look on photo atlases)."""
    import io

    from PIL import Image

    if fmt not in TEXTURE_FORMATS:
        raise ValueError(f"texture format must be one of {', '.join(TEXTURE_FORMATS)}, not {fmt!r}")
    out = io.BytesIO()
    picture = Image.fromarray(np.ascontiguousarray(image[..., :3]))
    if fmt == "webp":
        picture.save(out, "WEBP", quality=quality, method=4)  # 6 is 50 % slower for the same bytes
        return out.getvalue(), "image/webp"
    picture.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue(), "image/jpeg"


def to_glb(mesh: Mesh, *, draco: bool = True, compression: str | None = None, quantization_bits: int = 14,
           texture: Texture | None = None) -> bytes:
    """GLB bytes of ``mesh``: one node, one primitive with POSITION, COLOR_0 (normalised uint8) and indices;
    with a ``texture``, TEXCOORD_0 and an unlit material whose base colour is the atlas instead of COLOR_0
    (glTF multiplies the two; the photos' light is in the atlas already).

    ``compression``: "draco", "meshopt" or "none"; when not given, ``draco`` chooses between the first and last.
    """
    compression = compression or ("draco" if draco else "none")
    if compression not in COMPRESSIONS:
        raise ValueError(f"compression must be one of {', '.join(COMPRESSIONS)}, not {compression!r}")
    if compression == "meshopt":
        from heritage3d import meshopt

        return meshopt.compress(to_glb(mesh, compression="none", texture=texture), position_bits=quantization_bits)
    draco = compression == "draco"
    v = mesh.vertices.astype(np.float32)
    f = mesh.faces.astype(np.uint32)
    c = mesh.colors.astype(np.uint8)
    pos_acc = {"componentType": _FLOAT, "count": len(v), "type": "VEC3",
               "min": v.min(0).tolist(), "max": v.max(0).tolist()}
    col_acc = {"componentType": _UBYTE, "normalized": True, "count": len(v), "type": "VEC3"}
    idx_acc = {"componentType": _UINT, "count": f.size, "type": "SCALAR"}
    doc = {"asset": {"version": "2.0", "generator": "heritage3d"}, "scene": 0,
           "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0}]}
    if draco:
        import DracoPy

        if texture is None:
            blob = DracoPy.encode(v, f, quantization_bits=quantization_bits, compression_level=7, colors=c)
        else:
            blob = DracoPy.encode(v, f, quantization_bits=quantization_bits, compression_level=7,
                                  tex_coord=texture.uv.astype(np.float64), tex_coord_quantization_bits=12)
        decoded = DracoPy.decode(blob)  # draco may reorder and dedupe: counts come from the decoded mesh
        pos_acc["count"] = col_acc["count"] = len(decoded.points)
        idx_acc["count"] = int(np.asarray(decoded.faces).size)
        # the extension names each attribute by its unique id in the Draco data, which the encoder chose
        # (DracoPy gives the colours id 0 and the positions id 1): read them back rather than assume
        ids = {a["attribute_type"]: a["unique_id"] for a in decoded.attributes}
        second, second_type = ("COLOR_0", _DRACO_COLOR) if texture is None else ("TEXCOORD_0", _DRACO_TEX_COORD)
        if texture is not None:
            col_acc = {"componentType": _FLOAT, "count": len(decoded.points), "type": "VEC2"}
        draco_ids = {"POSITION": ids[_DRACO_POSITION], second: ids[second_type]}
        doc["bufferViews"] = [{"buffer": 0, "byteOffset": 0, "byteLength": len(blob)}]
        doc["accessors"] = [pos_acc, col_acc, idx_acc]
        doc["meshes"] = [{"primitives": [{"attributes": {"POSITION": 0, second: 1}, "indices": 2, "mode": 4,
                                          "extensions": {"KHR_draco_mesh_compression": {
                                              "bufferView": 0, "attributes": draco_ids}}}]}]
        doc["extensionsUsed"] = doc["extensionsRequired"] = ["KHR_draco_mesh_compression"]
        binary = blob
    else:
        second = "COLOR_0"
        second_bytes = np.ascontiguousarray(c).tobytes()
        if texture is not None:
            second = "TEXCOORD_0"
            second_bytes = np.ascontiguousarray(texture.uv, dtype=np.float32).tobytes()
            col_acc = {"componentType": _FLOAT, "count": len(v), "type": "VEC2"}
        parts = [v.tobytes(), _pad(second_bytes), f.tobytes()]
        offsets = np.cumsum([0] + [len(p) for p in parts])
        doc["bufferViews"] = [{"buffer": 0, "byteOffset": int(offsets[0]), "byteLength": len(parts[0]), "target": 34962},
                              {"buffer": 0, "byteOffset": int(offsets[1]), "byteLength": len(second_bytes), "target": 34962},
                              {"buffer": 0, "byteOffset": int(offsets[2]), "byteLength": len(parts[2]), "target": 34963}]
        for i, acc in enumerate((pos_acc, col_acc, idx_acc)):
            acc["bufferView"] = i
        doc["accessors"] = [pos_acc, col_acc, idx_acc]
        doc["meshes"] = [{"primitives": [{"attributes": {"POSITION": 0, second: 1}, "indices": 2, "mode": 4}]}]
        binary = b"".join(parts)
    if texture is not None:
        image_view = len(doc["bufferViews"])
        doc["bufferViews"].append({"buffer": 0, "byteOffset": len(_pad(binary)), "byteLength": len(texture.data)})
        binary = _pad(binary) + texture.data
        doc["images"] = [{"bufferView": image_view, "mimeType": texture.mime}]
        doc["samplers"] = [{"magFilter": 9729, "minFilter": 9987, "wrapS": 33071, "wrapT": 33071}]
        doc["textures"] = [{"source": 0, "sampler": 0}]
        if texture.mime == "image/webp":  # the extension names the image; no JPEG/PNG fallback is carried
            doc["textures"] = [{"sampler": 0, "extensions": {"EXT_texture_webp": {"source": 0}}}]
            doc["extensionsUsed"] = doc.get("extensionsUsed", []) + ["EXT_texture_webp"]
            doc["extensionsRequired"] = doc.get("extensionsRequired", []) + ["EXT_texture_webp"]
        doc["materials"] = [{"pbrMetallicRoughness": {"baseColorTexture": {"index": 0}, "metallicFactor": 0.0,
                                                      "roughnessFactor": 1.0},
                             "extensions": {"KHR_materials_unlit": {}}}]
        doc["meshes"][0]["primitives"][0]["material"] = 0
        doc["extensionsUsed"] = doc.get("extensionsUsed", []) + ["KHR_materials_unlit"]
    doc["buffers"] = [{"byteLength": len(_pad(binary))}]
    return _glb(doc, binary)


def write_glb(mesh: Mesh, path: Path, **kw) -> int:
    """Write ``mesh`` as GLB at ``path``; returns the size in bytes."""
    data = to_glb(mesh, **kw)
    path.write_bytes(data)
    return len(data)


def read_glb(path: Path) -> Mesh:
    """Read a GLB written by anyone: Draco primitives are decoded with DracoPy, meshopt data with gltfpack,
    others with trimesh.

    Raises CorruptGeometryError when the file is not a valid GLB.
    """
    data = Path(path).read_bytes()
    try:
        magic, version, total = struct.unpack_from("<III", data, 0)
        if magic != _GLB_MAGIC or version != 2 or total > len(data):
            raise ValueError("bad header")
        jlen, jtype = struct.unpack_from("<II", data, 12)
        doc = json.loads(data[20:20 + jlen])
        binary = b""
        if 20 + jlen + 8 <= len(data):
            blen, _ = struct.unpack_from("<II", data, 20 + jlen)
            binary = data[28 + jlen:28 + jlen + blen]
    except (ValueError, struct.error, UnicodeDecodeError) as exc:
        raise CorruptGeometryError(f"{Path(path).name} is not a valid GLB file ({exc})") from exc
    used = doc.get("extensionsUsed", []) if isinstance(doc, dict) else []
    if "EXT_meshopt_compression" in used or "KHR_meshopt_compression" in used:
        from heritage3d import meshopt

        with tempfile.TemporaryDirectory(prefix="heritage3d-glb-") as d:
            plain = Path(d) / "plain.glb"
            plain.write_bytes(_webp_as_core(_without_texture_transform(meshopt.decompress(Path(path)))))
            return read_glb(plain)
    if "KHR_draco_mesh_compression" in used:
        import DracoPy

        meshes = []
        try:
            for m in doc["meshes"]:
                for prim in m["primitives"]:
                    bv = doc["bufferViews"][prim["extensions"]["KHR_draco_mesh_compression"]["bufferView"]]
                    off = bv.get("byteOffset", 0)
                    d = DracoPy.decode(binary[off:off + bv["byteLength"]])
                    cols = None if d.colors is None else np.asarray(d.colors)[:, :3].astype(np.uint8)
                    points, faces = np.asarray(d.points, float), np.asarray(d.faces, np.int64).reshape(-1, 3)
                    if cols is None and getattr(d, "tex_coord", None) is not None:
                        uv = np.asarray(d.tex_coord, np.float64)
                        rgb = _texture_image(doc, binary, prim)
                        if rgb is not None and len(uv) == len(points) and 0 <= uv.min() and uv.max() <= 1:
                            meshes.append(Mesh(points, faces, _sampled(rgb, uv), uv, rgb))  # the texture kept
                            continue
                        cols = None if rgb is None else _sampled(rgb, uv)
                    meshes.append(Mesh(points, faces, cols))
        except (KeyError, IndexError, ValueError, RuntimeError) as exc:
            raise CorruptGeometryError(f"{Path(path).name}: broken Draco data ({exc})") from exc
        return concatenate(meshes)
    from heritage3d.inputs import read_mesh

    if "EXT_texture_webp" in used:  # trimesh reads WebP images (through Pillow) but not the extension
        with tempfile.TemporaryDirectory(prefix="heritage3d-glb-") as d:
            plain = Path(d) / Path(path).name
            plain.write_bytes(_webp_as_core(data))
            return read_mesh(plain)
    return read_mesh(path)


def _webp_as_core(data: bytes) -> bytes:
    """The same GLB with each ``EXT_texture_webp`` image named as a core texture source (for readers that
    decode WebP but do not know the extension)."""
    jlen = struct.unpack_from("<I", data, 12)[0]
    doc = json.loads(data[20:20 + jlen])
    if "EXT_texture_webp" not in doc.get("extensionsUsed", []):
        return data
    blen = struct.unpack_from("<I", data, 20 + jlen)[0]
    for texture in doc.get("textures", []):
        ext = (texture.get("extensions") or {}).pop("EXT_texture_webp", None)
        if ext is not None and "source" not in texture:
            texture["source"] = ext["source"]
    for key in ("extensionsUsed", "extensionsRequired"):
        if key in doc:
            doc[key] = [e for e in doc[key] if e != "EXT_texture_webp"]
            if not doc[key]:
                del doc[key]
    return _glb(doc, data[28 + jlen:28 + jlen + blen])


def _without_texture_transform(data: bytes) -> bytes:
    """A plain (float) GLB with KHR_texture_transform's offset and scale applied to the texture coordinates
    it moves (gltfpack quantizes them and leaves the transform, which viewers apply and trimesh does not)."""
    jlen = struct.unpack_from("<I", data, 12)[0]
    doc = json.loads(data[20:20 + jlen])
    if "KHR_texture_transform" not in doc.get("extensionsUsed", []):
        return data
    blen = struct.unpack_from("<I", data, 20 + jlen)[0]
    binary = bytearray(data[28 + jlen:28 + jlen + blen])
    done: set[int] = set()
    for mesh in doc.get("meshes", []):
        for prim in mesh.get("primitives", []):
            info = doc["materials"][prim["material"]]["pbrMetallicRoughness"]["baseColorTexture"] \
                if "material" in prim else {}
            move = (info.get("extensions") or {}).pop("KHR_texture_transform", None)
            accessor = prim["attributes"].get(f"TEXCOORD_{info.get('texCoord', 0)}")
            if move is None or accessor is None or accessor in done:
                continue
            acc = doc["accessors"][accessor]
            view = doc["bufferViews"][acc["bufferView"]]
            start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
            if acc["componentType"] != _FLOAT or view.get("byteStride", 8) != 8 or move.get("rotation"):
                raise CorruptGeometryError("a texture transform this reader cannot apply")
            uv = np.frombuffer(bytes(binary[start:start + 8 * acc["count"]]), np.float32).reshape(-1, 2)
            uv = uv * np.asarray(move.get("scale", [1, 1]), np.float32) + np.asarray(move.get("offset", [0, 0]), np.float32)
            binary[start:start + 8 * acc["count"]] = uv.astype(np.float32).tobytes()
            done.add(accessor)
    doc["extensionsUsed"] = [e for e in doc["extensionsUsed"] if e != "KHR_texture_transform"]
    return _glb(doc, bytes(binary))


def _texture_image(doc: dict, binary: bytes, prim: dict) -> np.ndarray | None:
    """The primitive's base colour texture (h, w, 3) uint8, or None when it has none that can be read."""
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        material = doc["materials"][prim["material"]]
        texture = doc["textures"][material["pbrMetallicRoughness"]["baseColorTexture"]["index"]]
        source = texture["source"] if "source" in texture else texture["extensions"]["EXT_texture_webp"]["source"]
        view = doc["bufferViews"][doc["images"][source]["bufferView"]]
        data = binary[view.get("byteOffset", 0):view.get("byteOffset", 0) + view["byteLength"]]
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    except (KeyError, IndexError, TypeError, OSError, UnidentifiedImageError):
        return None


def _sampled(rgb: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """The colours of ``rgb`` at glTF texture coordinates ``uv`` (v down)."""
    from heritage3d.inputs import sample_texture

    return sample_texture(rgb, np.stack([uv[:, 0], 1.0 - uv[:, 1]], axis=1))


def concatenate(meshes: list[Mesh]) -> Mesh:
    if not meshes:
        raise CorruptGeometryError("the file holds no triangle mesh")
    if len(meshes) == 1:
        return meshes[0]
    off = np.cumsum([0] + [len(m.vertices) for m in meshes[:-1]])
    return Mesh(np.concatenate([m.vertices for m in meshes]),
                np.concatenate([m.faces + o for m, o in zip(meshes, off)]),
                np.concatenate([m.colors for m in meshes]))
