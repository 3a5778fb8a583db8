"""A model built from photos is shown with its texture atlas (issue #14): photos of a brightly patterned
pavilion built through the platform, opened in chromium on a phone-sized screen. A textured GLB has no vertex
colours, so the pattern's colours on the canvas come from the atlas alone (a texture the viewer could not
decode would leave the model white)."""

from __future__ import annotations

import json
import time
import urllib.request

import numpy as np
import pytest

from library.access import Actor
from library.container import build_platform
from library.monuments.service import BuildSource
from tests.conftest import make_settings
from tests.e2e.browser import browser, need_chromium, serving, shot, start_3d, wait_until

SYSTEM = Actor.system("tests")

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def _photos(folder):
    """16 photos of the synthetic pavilion (known cameras, a fine colour pattern on every surface)."""
    from PIL import Image

    from heritage3d.synthetic import make_scene

    folder.mkdir()
    scene = make_scene(16)
    paths = []
    for i, view in enumerate(scene.views):
        Image.fromarray(view.image).save(folder / f"{i:04d}.jpg", quality=92)
        paths.append(folder / f"{i:04d}.jpg")
    return paths, scene.views[0].K


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    need_chromium()
    tmp = tmp_path_factory.mktemp("textured")
    settings = make_settings(tmp / "data")
    photos, K = _photos(tmp / "photos")
    p = build_platform(settings)
    slugs, versions = {}, {}
    for kind, extra in (("textured", {}),):
        m = p.monuments.create_monument(name_vi=f"Đình mẫu ({kind})", name_en=f"Sample pavilion ({kind})", actor=SYSTEM)
        v = p.monuments.submit_build(m.id, [BuildSource(path, path.name) for path in photos], title=m.name_vi,
                                     settings={"intrinsics": K.tolist(), **extra}, actor=SYSTEM)
        assert p.monuments.build(v.id).value == "done", p.monuments.version(v.id).status_reason
        slugs[kind], versions[kind] = m.slug, v.id
    p.close()
    with serving(settings, tmp) as url:
        yield {"url": url, "tmp": tmp, "slugs": slugs, "versions": versions}


def _model_pixels(d, name):
    from selenium.webdriver.common.by import By

    viewer = d.find_element(By.CSS_SELECTOR, "model-viewer")
    wait_until(lambda: d.execute_script("return document.readyState") == "complete", timeout_s=20, what="loaded")
    if d.find_element(By.CSS_SELECTOR, "figure.model .model-start").is_displayed():
        start_3d(d)  # the first time; this phone then starts the viewer by itself
    wait_until(lambda: d.execute_script("return arguments[0].loaded === true", viewer), timeout_s=60,
               what="model on screen")
    d.execute_script("arguments[0].cameraOrbit = '30deg 60deg 90%'; arguments[0].jumpCameraToGoal();", viewer)
    time.sleep(1.5)
    image = shot(d, name, accessible=False)
    r = d.execute_script("const b = arguments[0].getBoundingClientRect();"
                         "return [b.left, b.top, b.width, b.height, window.devicePixelRatio];", viewer)
    box = tuple(int(v * r[4]) for v in (r[0], r[1], r[0] + r[2], r[1] + min(r[3], 844 - r[1])))
    return np.asarray(image.crop(box), dtype=float)


def _colourfulness(pixels: np.ndarray) -> float:
    """Mean chroma (largest minus smallest of R, G, B) of the pixels that differ from the page background."""
    background = np.array([0xF4, 0xF1, 0xEA], float)
    on_model = np.abs(pixels - background).max(axis=2) > 30
    assert on_model.mean() > 0.05, "no model on the canvas"
    return float((pixels.max(axis=2) - pixels.min(axis=2))[on_model].mean())


def test_a_textured_model_shows_the_photos_detail_on_a_phone(portal):
    url = portal["url"]
    with urllib.request.urlopen(f"{url}/models/{portal['versions']['textured']}/mobile.glb") as resp:
        glb = resp.read()
    doc = json.loads(glb[20:20 + int.from_bytes(glb[12:16], "little")])
    assert doc["images"][0]["mimeType"] == "image/webp" and len(glb) <= 1_000_000
    primitive = doc["meshes"][0]["primitives"][0]
    assert "COLOR_0" not in primitive["attributes"] and "KHR_draco_mesh_compression" in primitive["extensions"]
    d = browser(portal["tmp"], 390, 844)
    try:
        d.get(f"{url}/monuments/{portal['slugs']['textured']}")
        chroma = _colourfulness(_model_pixels(d, "monument-textured"))
    finally:
        d.quit()
    # the photos' pattern has a mean chroma of about 120; a white model would have about 0, the page 10
    assert chroma > 40, chroma
