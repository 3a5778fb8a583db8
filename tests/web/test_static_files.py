"""Front-end packages are sent gzip-compressed to browsers that take it, byte-exact otherwise."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from web import create_app

VENDOR = Path(__file__).resolve().parents[2] / "web" / "static" / "vendor"


@pytest.fixture
def client(settings):
    app = create_app({"TESTING": True}, settings=settings)
    yield app.test_client()
    app.extensions["heritage"].close()


def test_the_viewer_script_goes_compressed_to_browsers_that_accept_gzip(client):
    original = (VENDOR / "model-viewer.min.js").read_bytes()
    with client.get("/static/vendor/model-viewer.min.js", headers={"Accept-Encoding": "gzip, br"}) as r:
        assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
        assert r.mimetype in ("text/javascript", "application/javascript") and "Accept-Encoding" in r.headers["Vary"]
        assert len(r.data) < len(original) / 3 and gzip.decompress(r.data) == original
        assert r.cache_control.max_age == 7 * 86400
    with client.get("/static/vendor/model-viewer.min.js", headers={"Accept-Encoding": "identity"}) as plain:
        assert "Content-Encoding" not in plain.headers and plain.data == original
    with client.get("/static/site.css", headers={"Accept-Encoding": "gzip"}) as css:  # no .gz copy: as it is
        assert css.status_code == 200 and "Content-Encoding" not in css.headers
    assert client.get("/static/../pyproject.toml").status_code == 404
    assert client.get("/static/vendor/..%2f..%2f__init__.py").status_code == 404
