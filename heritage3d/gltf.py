"""GLB (glTF 2.0 binary) with vertex colours, compressed with Draco (KHR_draco_mesh_compression, through
DracoPy), meshopt (EXT_meshopt_compression, through gltfpack: see :mod:`heritage3d.meshopt`) or not at all."""

from __future__ import annotations

import json
import struct
import tempfile
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


def to_glb(mesh: Mesh, *, draco: bool = True, compression: str | None = None, quantization_bits: int = 14) -> bytes:
    """GLB bytes of ``mesh``: one node, one primitive with POSITION, COLOR_0 (normalised uint8) and indices.

    ``compression``: "draco", "meshopt" or "none"; when not given, ``draco`` chooses between the first and last.
    """
    compression = compression or ("draco" if draco else "none")
    if compression not in COMPRESSIONS:
        raise ValueError(f"compression must be one of {', '.join(COMPRESSIONS)}, not {compression!r}")
    if compression == "meshopt":
        from heritage3d import meshopt

        return meshopt.compress(to_glb(mesh, compression="none"), position_bits=quantization_bits)
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

        blob = DracoPy.encode(v, f, quantization_bits=quantization_bits, compression_level=7, colors=c)
        decoded = DracoPy.decode(blob)  # draco may reorder and dedupe: counts come from the decoded mesh
        pos_acc["count"] = col_acc["count"] = len(decoded.points)
        idx_acc["count"] = int(np.asarray(decoded.faces).size)
        # the extension names each attribute by its unique id in the Draco data, which the encoder chose
        # (DracoPy gives the colours id 0 and the positions id 1): read them back rather than assume
        ids = {a["attribute_type"]: a["unique_id"] for a in decoded.attributes}
        draco_ids = {"POSITION": ids[_DRACO_POSITION], "COLOR_0": ids[_DRACO_COLOR]}
        doc["bufferViews"] = [{"buffer": 0, "byteOffset": 0, "byteLength": len(blob)}]
        doc["accessors"] = [pos_acc, col_acc, idx_acc]
        doc["meshes"] = [{"primitives": [{"attributes": {"POSITION": 0, "COLOR_0": 1}, "indices": 2, "mode": 4,
                                          "extensions": {"KHR_draco_mesh_compression": {
                                              "bufferView": 0, "attributes": draco_ids}}}]}]
        doc["extensionsUsed"] = doc["extensionsRequired"] = ["KHR_draco_mesh_compression"]
        binary = blob
    else:
        parts = [v.tobytes(), _pad(np.ascontiguousarray(c).tobytes()), f.tobytes()]
        offsets = np.cumsum([0] + [len(p) for p in parts])
        doc["bufferViews"] = [{"buffer": 0, "byteOffset": int(offsets[0]), "byteLength": len(parts[0]), "target": 34962},
                              {"buffer": 0, "byteOffset": int(offsets[1]), "byteLength": len(c) * 3, "target": 34962},
                              {"buffer": 0, "byteOffset": int(offsets[2]), "byteLength": len(parts[2]), "target": 34963}]
        for i, acc in enumerate((pos_acc, col_acc, idx_acc)):
            acc["bufferView"] = i
        doc["accessors"] = [pos_acc, col_acc, idx_acc]
        doc["meshes"] = [{"primitives": [{"attributes": {"POSITION": 0, "COLOR_0": 1}, "indices": 2, "mode": 4}]}]
        binary = b"".join(parts)
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
            plain.write_bytes(meshopt.decompress(Path(path)))
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
                    meshes.append(Mesh(np.asarray(d.points, float), np.asarray(d.faces, np.int64).reshape(-1, 3), cols))
        except (KeyError, IndexError, ValueError, RuntimeError) as exc:
            raise CorruptGeometryError(f"{Path(path).name}: broken Draco data ({exc})") from exc
        return concatenate(meshes)
    from heritage3d.inputs import read_mesh

    return read_mesh(path)


def concatenate(meshes: list[Mesh]) -> Mesh:
    if not meshes:
        raise CorruptGeometryError("the file holds no triangle mesh")
    off = np.cumsum([0] + [len(m.vertices) for m in meshes[:-1]])
    return Mesh(np.concatenate([m.vertices for m in meshes]),
                np.concatenate([m.faces + o for m, o in zip(meshes, off)]),
                np.concatenate([m.colors for m in meshes]))
