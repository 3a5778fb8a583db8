"""Front-end packages are sent Brotli- or gzip-compressed to browsers that take it, byte-exact otherwise."""

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
    import brotli

    original = (VENDOR / "model-viewer.min.js").read_bytes()
    with client.get("/static/vendor/model-viewer.min.js", headers={"Accept-Encoding": "gzip"}) as r:
        assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
        assert r.mimetype in ("text/javascript", "application/javascript") and "Accept-Encoding" in r.headers["Vary"]
        assert len(r.data) < len(original) / 3 and gzip.decompress(r.data) == original
        assert r.cache_control.max_age == 7 * 86400
        gzipped = len(r.data)
    # what chromium asks for (it sends "gzip, deflate, br, zstd" to http://127.0.0.1 too): the smaller Brotli copy
    with client.get("/static/vendor/model-viewer.min.js", headers={"Accept-Encoding": "gzip, deflate, br, zstd"}) as r:
        assert r.status_code == 200 and r.headers["Content-Encoding"] == "br" and "Accept-Encoding" in r.headers["Vary"]
        assert brotli.decompress(r.data) == original and len(r.data) < 0.9 * gzipped
        assert r.mimetype in ("text/javascript", "application/javascript")
    with client.get("/static/vendor/draco/draco_decoder.wasm", headers={"Accept-Encoding": "br"}) as r:
        assert r.headers["Content-Encoding"] == "br" and r.mimetype == "application/wasm"
        assert brotli.decompress(r.data) == (VENDOR / "draco" / "draco_decoder.wasm").read_bytes()
    with client.get("/static/vendor/model-viewer.min.js", headers={"Accept-Encoding": "identity"}) as plain:
        assert "Content-Encoding" not in plain.headers and plain.data == original
    site_css = (VENDOR.parent / "site.css").read_bytes()
    import brotli

    # no .gz copy: compressed as it is sent, chunk by chunk (Brotli or zstd: Flask-Compress streams no gzip)
    with client.get("/static/site.css", headers={"Accept-Encoding": "gzip, deflate, br, zstd"}) as css:
        assert css.status_code == 200 and css.headers["Content-Encoding"] in ("br", "zstd")
        if css.headers["Content-Encoding"] == "br":
            assert brotli.decompress(css.data) == site_css
    with client.get("/static/site.css", headers={"Accept-Encoding": "br"}) as css:
        assert brotli.decompress(css.data) == site_css and len(css.data) < len(site_css) / 3
    with client.get("/static/site.css", headers={"Accept-Encoding": "br", "Range": "bytes=0-99"}) as part:
        assert part.status_code == 206 and "Content-Encoding" not in part.headers and part.data == site_css[:100]
    assert client.get("/static/../pyproject.toml").status_code == 404
    assert client.get("/static/vendor/..%2f..%2f__init__.py").status_code == 404


def test_pages_go_compressed_as_the_browser_accepts(client):
    import brotli

    plain = client.get("/search?lang=en&q=x").get_data()
    assert len(plain) > 1024
    r = client.get("/search?lang=en&q=x", headers={"Accept-Encoding": "gzip"})
    assert r.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in r.headers["Vary"]
    assert gzip.decompress(r.get_data()) == plain and len(r.get_data()) < len(plain) / 2
    br = client.get("/search?lang=en&q=x", headers={"Accept-Encoding": "br"})
    assert br.headers["Content-Encoding"] == "br" and brotli.decompress(br.get_data()) == plain
    small = client.get("/health/live", headers={"Accept-Encoding": "gzip"})
    assert small.status_code == 200 and "Content-Encoding" not in small.headers  # under 1 KB: as it is


def test_the_font_is_preloaded_and_never_swapped_in_under_drawn_text(client):
    """Every page preloads the regular and bold latin and Vietnamese Noto Sans files it draws its text with,
    each one that fonts.css declares and the portal serves as woff2; fonts.css lets a font that comes late
    be skipped (font-display: optional) rather than swapped in, which moved every page's text."""
    import re

    html = client.get("/?lang=vi").get_data(as_text=True)
    preloads = re.findall(r'<link rel="preload" href="([^"]+)" as="font" type="font/woff2" crossorigin>', html)
    assert len(preloads) == 4 and any("vietnamese-700" in p for p in preloads)
    with client.get("/static/vendor/noto-sans/fonts.css") as sheet:
        css = sheet.get_data(as_text=True)
    assert css.count("font-display: optional;") == css.count("@font-face") > 0 and "swap" not in css
    for href in preloads:
        assert f"url(files/{href.rsplit('/', 1)[1]})" in css
        with client.get(href) as font:
            assert font.status_code == 200 and font.data[:4] == b"wOF2"


def _faces(css: str) -> list[tuple[str, str, str, list[tuple[int, int]]]]:
    """fonts.css's @font-face rules in declaration order: (subset, weight, style, unicode ranges)."""
    import re

    out = []
    for m in re.finditer(r"/\* noto-sans-([a-z-]+)-(\d+)-(normal|italic) \*/\s*@font-face \{(.*?)\}", css, re.S):
        ranges = []
        for part in re.search(r"unicode-range: ([^;]+);", m.group(4)).group(1).split(","):
            lo, _, hi = part.strip()[2:].partition("-")
            ranges.append((int(lo, 16), int(hi or lo, 16)))
        out.append((m.group(1), m.group(2), m.group(3), ranges))
    return out


def test_vietnamese_letters_come_from_the_vietnamese_font_file_never_latin_ext(client):
    """Where the subsets' ranges overlap, a browser fetches the face declared last (CSS Fonts 4): every
    Vietnamese letter, NFC or with its combining marks, must fall to the small latin or vietnamese files
    a page preloads, never to latin-ext's 55-59 KB (fontsource declares latin-ext after vietnamese, and
    its range holds ỳ ỵ ỷ ỹ: Lighthouse saw the search page fetch it at the highest priority)."""
    import unicodedata

    with client.get("/static/vendor/noto-sans/fonts.css") as sheet:
        faces = _faces(sheet.get_data(as_text=True))
    assert {(w, s) for _, w, s, _ in faces} == {("400", "normal"), ("700", "normal"), ("400", "italic")}
    letters = set("abcdefghijklmnopqrstuvwxyzđ" + "\u0300\u0301\u0303\u0309\u0323")
    for vowel in "aăâeêioôơuưy":
        for tone in ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"):
            letters.add(unicodedata.normalize("NFC", vowel + tone))
    letters |= {c.upper() for c in letters if len(c) == 1 and c.isalpha()}
    assert len(letters) > 140 and "ỹ" in letters and "Ỳ" in letters

    def fetched(ch: str, weight: str, style: str) -> str | None:
        for subset, w, s, ranges in reversed(faces):
            if (w, s) == (weight, style) and any(lo <= ord(ch) <= hi for lo, hi in ranges):
                return subset
        return None

    for weight, style in (("400", "normal"), ("700", "normal"), ("400", "italic")):
        got = {ch: fetched(ch, weight, style) for ch in letters}
        assert {ch for ch, subset in got.items() if subset not in ("latin", "vietnamese")} == set(), (weight, style)
        assert got["ỹ"] == got["ơ"] == "vietnamese" and got["a"] == "latin"
        assert fetched("ā", weight, style) == "latin-ext" and fetched("œ", weight, style) == "latin"  # other letters
