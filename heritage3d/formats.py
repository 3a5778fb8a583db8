"""The one list of the file types a 3D build accepts (no imports: the catalogue and the web process read
it without loading numpy). :mod:`heritage3d.inputs` reads these types; the catalogue's upload checks
against the same sets, so nothing is accepted at upload that the engine refuses later."""

PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff"})
CLOUD_SUFFIXES = frozenset({".xyz", ".las", ".laz"})
MESH_SUFFIXES = frozenset({".obj", ".glb", ".gltf", ".stl", ".off"})  # OBJ by our reader, the others by trimesh
EITHER_SUFFIXES = frozenset({".ply"})  # a mesh when it declares faces, else a point cloud
OBJ_COMPANION_SUFFIXES = frozenset({".mtl", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"})
