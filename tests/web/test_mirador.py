"""An item in Mirador: the page (Mirador 3.4.3 from npm, served by the portal, no inline
script), linked from the item page; and the item's manifest checked offline against the
rules of the IIIF Presentation API 3.0 that a JSON Schema can state (no schema package
for Presentation 3 installs beside this project's Pillow: iiif-prezi3 pins Pillow ≤ 12),
plus the ones it cannot (unique ids, painting targets, the context order)."""

from __future__ import annotations

import json
import re

import pytest
from jsonschema import Draft202012Validator

from library.catalogue.models import Item, ItemType, Page, PageStatus, StoredFile
from tests.web.test_iiif import TITLE, read_item  # noqa: F401  (a fixture: two pages read by the real OCR)
from web import create_app

HTTP_URI = {"type": "string", "pattern": r"^https?://[^\s]+$"}
LANG_MAP = {"type": "object", "minProperties": 1,
            "propertyNames": {"pattern": r"^(none|[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*)$"},
            "additionalProperties": {"type": "array", "minItems": 1, "items": {"type": "string"}}}
LABEL_VALUE = {"type": "object", "required": ["label", "value"],
               "properties": {"label": {"$ref": "#/$defs/lang"}, "value": {"$ref": "#/$defs/lang"}}}
REFERENCE = {"type": "object", "required": ["id", "type"], "properties": {"id": HTTP_URI, "type": {"type": "string"},
                                                                          "label": {"$ref": "#/$defs/lang"},
                                                                          "format": {"type": "string"}}}
# The MUSTs of https://iiif.io/api/presentation/3.0/ for what our manifests contain
PRESENTATION_3 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$defs": {
        "lang": LANG_MAP,
        "image_service": {"type": "object", "required": ["id", "type", "profile"], "properties": {
            "id": HTTP_URI, "type": {"const": "ImageService3"}, "profile": {"enum": ["level0", "level1", "level2"]}}},
        "image": {"type": "object", "required": ["id", "type", "format"], "properties": {
            "id": HTTP_URI, "type": {"const": "Image"}, "format": {"pattern": r"^image/"},
            "width": {"type": "integer", "minimum": 1}, "height": {"type": "integer", "minimum": 1},
            "service": {"type": "array", "items": {"$ref": "#/$defs/image_service"}}},
            "dependentRequired": {"width": ["height"], "height": ["width"]}},
        "annotation": {"type": "object", "required": ["id", "type", "motivation", "body", "target"], "properties": {
            "id": HTTP_URI, "type": {"const": "Annotation"}, "motivation": {"const": "painting"},
            "body": {"$ref": "#/$defs/image"}, "target": HTTP_URI}},
        "annotation_page": {"type": "object", "required": ["id", "type", "items"], "properties": {
            "id": HTTP_URI, "type": {"const": "AnnotationPage"},
            "items": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/annotation"}}}},
        "canvas": {"type": "object", "required": ["id", "type", "width", "height", "items"], "properties": {
            "id": HTTP_URI, "type": {"const": "Canvas"}, "label": {"$ref": "#/$defs/lang"},
            "width": {"type": "integer", "minimum": 1}, "height": {"type": "integer", "minimum": 1},
            "thumbnail": {"type": "array", "items": {"$ref": "#/$defs/image"}},
            "seeAlso": {"type": "array", "items": REFERENCE},
            "items": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/annotation_page"}}}},
    },
    "type": "object",
    "required": ["@context", "id", "type", "label", "items"],
    "properties": {
        "@context": {"oneOf": [{"const": "http://iiif.io/api/presentation/3/context.json"},
                               {"type": "array", "items": {"type": "string"}, "minItems": 1}]},
        "id": HTTP_URI,
        "type": {"const": "Manifest"},
        "label": {"$ref": "#/$defs/lang"},
        "summary": {"$ref": "#/$defs/lang"},
        "metadata": {"type": "array", "items": LABEL_VALUE},
        "requiredStatement": LABEL_VALUE,
        "rights": {"type": "string", "pattern": r"^https?://(creativecommons\.org|rightsstatements\.org)/"},
        "thumbnail": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/image"}},
        "homepage": {"type": "array", "items": {**REFERENCE, "required": ["id", "type", "label"]}},
        "seeAlso": {"type": "array", "items": REFERENCE},
        "partOf": {"type": "array", "items": REFERENCE},
        "service": {"type": "array", "items": {"type": "object", "anyOf": [
            {"required": ["id", "type"]}, {"required": ["@id", "@type"]}]}},
        "items": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/canvas"}},
    },
}


def presentation_3_problems(manifest: dict) -> list[str]:
    validator = Draft202012Validator(PRESENTATION_3)
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(manifest)]
    context = manifest.get("@context")
    if isinstance(context, list) and context[-1] != "http://iiif.io/api/presentation/3/context.json":
        problems.append("@context: the Presentation 3 context must come last")
    ids = [c["id"] for c in manifest.get("items", [])]
    ids += [p["id"] for c in manifest.get("items", []) for p in c.get("items", [])]
    ids += [a["id"] for c in manifest.get("items", []) for p in c.get("items", []) for a in p.get("items", [])]
    if len(ids) != len(set(ids)):
        problems.append("canvas, annotation page and annotation ids must be unique")
    for canvas in manifest.get("items", []):
        for page in canvas.get("items", []):
            for anno in page.get("items", []):
                if anno.get("target", "").split("#")[0] != canvas["id"]:
                    problems.append(f"{anno.get('id')}: a painting annotation must target its canvas")
    return problems


@pytest.fixture
def client(settings):
    app = create_app({"TESTING": True}, settings=settings)
    yield app.test_client()
    app.extensions["heritage"].close()


def test_the_manifest_keeps_the_rules_of_presentation_3(read_item, client):  # noqa: F811
    item_id, pages = read_item
    manifest = client.get(f"/iiif/{item_id}/manifest").get_json(force=True)
    assert presentation_3_problems(manifest) == []
    assert len(manifest["items"]) == len(pages)
    # the check does catch what a viewer would trip on
    broken = json.loads(json.dumps(manifest))
    del broken["items"][0]["height"]
    broken["label"] = "a bare string"
    broken["items"][1]["items"][0]["items"][0]["target"] = "http://localhost/elsewhere"
    broken["items"][1]["id"] = broken["items"][0]["id"]
    problems = " | ".join(presentation_3_problems(broken))
    assert "'height' is a required property" in problems and "label: 'a bare string' is not of type" in problems
    assert "must target its canvas" in problems and "must be unique" in problems


def test_the_manifest_and_collections_validate_with_the_iiif_communitys_models(read_item, client):  # noqa: F811
    """iiif-prezi3's pydantic models (generated from the Presentation 3 JSON Schema). Installed by
    scripts/setup.sh without its dependencies: it pins Pillow <= 12, which only its file helpers use."""
    from iiif_prezi3 import Collection, Manifest
    from pydantic import ValidationError

    item_id, pages = read_item
    manifest = client.get(f"/iiif/{item_id}/manifest").get_json(force=True)
    assert len(Manifest(**manifest).items) == len(pages)
    top = client.get("/iiif/collection/top").get_json(force=True)
    Collection(**top)
    for ref in top["items"]:
        Collection(**client.get(ref["id"].removeprefix("http://localhost")).get_json(force=True))
    broken = json.loads(json.dumps(manifest))
    broken["items"][0]["type"] = "Page"
    with pytest.raises(ValidationError):  # the models do refuse what is not Presentation 3
        Manifest(**broken)


def test_an_item_opens_in_mirador_from_its_page(read_item, client):  # noqa: F811
    item_id, _ = read_item
    item_page = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert f'href="/items/{item_id}/mirador?lang=vi"' in item_page and "Xem trong Mirador" in item_page
    r = client.get(f"/items/{item_id}/mirador")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert f'data-manifest="http://localhost/iiif/{item_id}/manifest"' in html and 'data-lang="vi"' in html
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts == ['<script src="/static/vendor/mirador/mirador.min.js">', '<script src="/static/mirador-init.js">',
                       '<script src="/static/menu.js" defer>']  # the portal's own, the header's menu last
    assert not re.search(r"<script[^>]*>[^<]", html)  # no inline script: the CSP forbids it
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    vendor = client.get("/static/vendor/mirador/mirador.min.js")
    assert vendor.status_code == 200 and b"Mirador" in vendor.data[:2_000_000]
    vendor.close()
    assert 'data-lang="en"' in client.get(f"/items/{item_id}/mirador?lang=en").get_data(as_text=True)
    assert TITLE.split('"')[0] in html


def test_mirador_waits_for_a_read_page_and_escapes_the_title(settings, client):
    from library.container import build_platform

    p = build_platform(settings)
    with p.sessions.begin() as s:
        s.merge(StoredFile(sha256="f" * 64, size_bytes=1, media_type="image/png", original_name="x.png"))
        item = Item(title="<script>alert(1)</script> Đang đọc", languages="vie", item_type=ItemType.book)
        item.pages.append(Page(sequence=1, source_sha256="f" * 64, source_name="x.png", status=PageStatus.queued))
        s.add(item)
        s.flush()
        item_id = item.id
    p.close()
    r = client.get(f"/items/{item_id}/mirador")
    html = r.get_data(as_text=True)
    assert r.status_code == 409 and "chưa có trang nào đọc xong" in html and 'id="mirador"' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Đang đọc" in html and "<script>alert(1)" not in html
    missing = client.get("/items/999999/mirador?lang=en")
    assert missing.status_code == 404 and "There is no item 999999." in missing.get_data(as_text=True)
