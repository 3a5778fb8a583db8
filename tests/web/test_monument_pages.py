"""Monument pages for tourists: the 3D model's smallest level first, files served safely."""

from __future__ import annotations

import pytest

from library.monuments import BuildSource
from tests.library.test_monuments import point_cloud
from web import create_app

pytestmark = pytest.mark.slow


@pytest.fixture
def app(settings):
    app = create_app({"TESTING": True}, settings=settings)
    yield app
    app.extensions["heritage"].close()


def test_a_monument_page_shows_its_model(app, tmp_path):
    p = app.extensions["heritage"]
    m = p.monuments.create_monument(name_vi="Khuê Văn Các", name_en="Constellation of Literature Pavilion",
                                    description_vi="Gác Khuê Văn dựng năm 1805.",
                                    description_en="The pavilion was built in 1805.")
    v = p.monuments.submit_build(m.id, [BuildSource(point_cloud(tmp_path / "gac.xyz"), "gac.xyz")],
                                 title="Khuê Văn Các (mô hình)", licence="CC BY 4.0")
    p.monuments.build(v.id)
    client = app.test_client()
    assert "Khuê Văn Các" in client.get("/monuments").get_data(as_text=True)
    html = client.get(f"/monuments/{m.slug}").get_data(as_text=True)
    assert "Gác Khuê Văn dựng năm 1805." in html and "<model-viewer" in html and " ar " in html
    published = p.monuments.published(m.id)[0]
    smallest = published.levels[0][1]
    assert f'src="/models/{v.id}/{smallest}"' in html
    assert "/static/vendor/model-viewer.min.js" in html and "/static/viewer.js" in html
    en = client.get(f"/monuments/{m.slug}?lang=en").get_data(as_text=True)
    assert "Constellation of Literature Pavilion" in en and "built in 1805" in en
    with client.get(f"/models/{v.id}/{smallest}") as glb:
        assert glb.status_code == 200 and glb.data[:4] == b"glTF" and glb.mimetype == "model/gltf-binary"
    for bad in ("..%2Freport.json", "../../secret_key", "report.json%00.glb", "HIGH.GLB", "x" * 60 + ".glb"):
        assert client.get(f"/models/{v.id}/{bad}").status_code == 404
    with client.get(f"/models/{v.id}/report.json") as report:
        assert report.json["input_kind"] == "point_cloud"
    assert client.get("/monuments/khong-co").status_code == 404
    csp = client.get(f"/monuments/{m.slug}").headers["Content-Security-Policy"]
    assert "'wasm-unsafe-eval'" in csp and "https:" not in csp
