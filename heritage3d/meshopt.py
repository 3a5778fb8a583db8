"""meshopt compression (EXT_meshopt_compression) through gltfpack, meshoptimizer's own glTF packer.

gltfpack comes from npm as a WebAssembly build (package ``gltfpack``, pinned in
``heritage3d/node/package.json`` and its lockfile, installed by ``scripts/setup.sh`` with
``npm ci``) and is run with ``node``; no native binary is downloaded. ``HERITAGE3D_NODE`` and
``HERITAGE3D_GLTFPACK`` point at another node or another ``cli.js``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from heritage3d.errors import CorruptGeometryError, ToolError

NODE_DIR = Path(__file__).resolve().parent / "node"
_INSTALL = "install it with scripts/setup.sh (npm ci in heritage3d/node; node 18 or newer)"


def tool() -> list[str]:
    """The command that runs gltfpack: ``[node, cli.js]``. Raises ToolError saying what is missing."""
    node = os.environ.get("HERITAGE3D_NODE") or shutil.which("node")
    if not node or not Path(node).is_file():
        raise ToolError(f"meshopt compression needs node, which was not found ({node or 'not on PATH'}); {_INSTALL}")
    cli = Path(os.environ.get("HERITAGE3D_GLTFPACK") or NODE_DIR / "node_modules" / "gltfpack" / "cli.js")
    if not cli.is_file():
        raise ToolError(f"meshopt compression needs gltfpack, which is not installed ({cli} is missing); {_INSTALL}")
    return [node, str(cli)]


def version() -> str:
    """gltfpack's version line, e.g. ``'gltfpack 1.3'``."""
    return _run(["-v"]).strip().splitlines()[0]


def _run(args: list[str], timeout_s: float = 600) -> str:
    cmd = tool() + args
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolError(f"gltfpack could not run ({exc})") from exc
    if done.returncode != 0:
        raise ToolError(f"gltfpack failed: {(done.stderr or done.stdout).strip()[-500:]}")
    return done.stdout


def compress(glb: bytes, *, position_bits: int = 14) -> bytes:
    """A plain GLB compressed with meshopt (``-cc``, EXT_meshopt_compression with KHR_mesh_quantization):
    positions quantised to ``position_bits`` bits, colours to 8 bits."""
    with tempfile.TemporaryDirectory(prefix="heritage3d-gltfpack-") as d:
        src, dst = Path(d) / "in.glb", Path(d) / "out.glb"
        src.write_bytes(glb)
        _run(["-i", str(src), "-o", str(dst), "-cc", "-ce", "ext", "-vp", str(position_bits)])
        return dst.read_bytes()


def decompress(path: Path) -> bytes:
    """The plain GLB (no compression, no quantisation) of a meshopt-compressed GLB file."""
    with tempfile.TemporaryDirectory(prefix="heritage3d-gltfpack-") as d:
        dst = Path(d) / "out.glb"
        try:
            _run(["-i", str(path), "-o", str(dst), "-noq"])
        except ToolError as exc:
            if "gltfpack failed" in str(exc):
                raise CorruptGeometryError(f"{Path(path).name}: broken meshopt data ({exc})") from exc
            raise
        return dst.read_bytes()


def simplify(glb: bytes, ratio: float, *, aggressive: bool = False) -> bytes:
    """A plain GLB simplified by meshoptimizer to about ``ratio`` of its triangles (``-si``), positions and
    texture coordinates left as floats (``-noq``). The simplifier keeps texture seams where they are unless
    ``aggressive`` (``-sa``), which lets it move them when they would hold it far above the ratio."""
    with tempfile.TemporaryDirectory(prefix="heritage3d-gltfpack-") as d:
        src, dst = Path(d) / "in.glb", Path(d) / "out.glb"
        src.write_bytes(glb)
        _run(["-i", str(src), "-o", str(dst), "-noq", "-si", f"{min(max(ratio, 1e-4), 1.0):.6f}"]
             + (["-sa"] if aggressive else []))
        return dst.read_bytes()
