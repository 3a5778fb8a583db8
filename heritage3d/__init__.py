"""heritage3d: photographs, point clouds or meshes of a monument in, a web-ready 3D model out.

An engine: files and typed options in, files and a report out. It knows nothing of
Flask, Celery or the catalogue. Heavy libraries (pycolmap, open3d, cv2) are imported
lazily inside the functions that need them, so importing this package is cheap.

The entry point is :func:`heritage3d.pipeline.build_model`.
"""

from heritage3d.errors import Heritage3DError

__all__ = ["Heritage3DError", "build_model", "BuildOptions", "BuildReport"]


def __getattr__(name):  # lazy: keep `import heritage3d` free of numpy-heavy imports
    if name in ("build_model", "BuildOptions"):
        from heritage3d import pipeline

        return getattr(pipeline, name)
    if name == "BuildReport":
        from heritage3d.report import BuildReport

        return BuildReport
    raise AttributeError(name)
