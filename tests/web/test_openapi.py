"""The API's OpenAPI 3.1 description: a valid document, served with this server as its
base, describing every ``/api/v1`` route (and no route that does not exist), and the
real answers of the API matching the schemas it gives them."""

from __future__ import annotations

import copy
import re

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from library.access import Actor
from library.catalogue.models import BuildStatus, Collection, Item
from tests.library.test_jobs import add_build
from tests.web.test_iiif import read_item  # noqa: F401  (a fixture: two pages read by the real OCR)
from tests.web.staff_accounts import basic, staffed_app

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def app(settings):
    yield from staffed_app(settings)


@pytest.fixture
def spec(app):
    r = app.test_client().get("/api/v1/openapi.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    return r.get_json()


def test_the_description_is_valid_openapi_3_1_served_with_this_server(spec):
    assert spec["openapi"].startswith("3.1")
    validate(spec)  # raises with the first problem
    assert spec["servers"] == [{"url": "http://localhost/api/v1", "description": "this server"}]
    bad = copy.deepcopy(spec)
    bad["paths"]["/jobs"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] = {"$ref": "#/nope"}
    with pytest.raises(Exception):
        validate(bad)  # the validator does look inside


def api_operations(app) -> set[tuple[str, str]]:
    """Every (method, path) the app answers under /api/v1, in OpenAPI's spelling."""
    out = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        out |= {(m, path) for m in rule.methods & METHODS}
    return out


def test_every_api_route_is_described_and_every_description_is_a_route(app, spec):
    routes = api_operations(app)
    described = {(m.upper(), path) for path, ops in spec["paths"].items() for m in ops if m.upper() in METHODS}
    assert ("GET", "/jobs") in routes and ("POST", "/items/{item_id}/cancel") in routes
    missing = sorted(routes - described)
    assert not missing, f"routes missing from web/openapi.yaml: {missing}"
    stale = sorted(described - routes)
    assert not stale, f"web/openapi.yaml describes routes that do not exist: {stale}"
    for path, ops in spec["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for method, op in ops.items():
            params = op.get("parameters", []) + ops.get("parameters", [])
            resolved = {_resolve(spec, p)["name"] for p in params if _resolve(spec, p)["in"] == "path"}
            assert resolved == names, (method, path)  # every path parameter is declared
            assert op.get("responses"), (method, path)


def _resolve(spec, node):
    return node_ref(node["$ref"], spec) if "$ref" in node else node


def node_ref(ref: str, spec: dict) -> dict:
    node = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def schema_of(spec, method, path, code, media="application/json") -> Draft202012Validator:
    """A validator for the described answer, its ``#/components/...`` references kept resolvable."""
    op = spec["paths"][path][method]
    response = op["responses"][str(code)]
    if "$ref" in response:
        response = node_ref(response["$ref"], spec)
    schema = dict(response["content"][media]["schema"])
    schema["components"] = spec["components"]  # same document: "#/components/..." resolves
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def check(spec, method, path, response, *, code=None):
    code = code or response.status_code
    assert response.status_code == code, (method, path, response.status_code, response.get_data(as_text=True)[:300])
    errors = sorted(schema_of(spec, method, path, code).iter_errors(response.get_json()), key=str)
    assert not errors, f"{method.upper()} {path} {code}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5])
    return response.get_json()


def test_real_answers_match_their_description(app, spec, platform, read_item):  # noqa: F811
    p = app.extensions["heritage"]
    item_id, pages = read_item
    p.reader.finish_item(item_id)  # what the finishing task does once every page is read
    p.indexer.flush()
    client = app.test_client()
    check(spec, "get", "/health", client.get("/api/v1/health"))
    body = check(spec, "get", "/collections", client.get("/api/v1/collections"))
    [coll] = body["collections"]
    assert coll["name"] == "Sách Hà Nội xưa" and coll["items"] == 1
    assert coll["links"]["iiif"] == f"http://localhost/iiif/collection/{coll['id']}"
    one = check(spec, "get", "/collections/{collection_id}", client.get(f"/api/v1/collections/{coll['id']}"))
    assert [i["id"] for i in one["item_list"]] == [item_id] and one["item_list"][0]["status"] == "done"
    assert one["item_list"][0]["links"]["manifest"] == f"http://localhost/iiif/{item_id}/manifest"
    check(spec, "get", "/collections/{collection_id}", client.get("/api/v1/collections/999999"), code=404)
    check(spec, "get", "/collections/{collection_id}", client.get(f"/api/v1/collections/{coll['id']}?page=x"),
          code=422)
    check(spec, "get", "/items", client.get("/api/v1/items"))
    check(spec, "get", "/items/{item_id}", client.get(f"/api/v1/items/{item_id}"))
    check(spec, "get", "/items/{item_id}", client.get("/api/v1/items/999999"), code=404)
    page = check(spec, "get", "/pages/{page_id}", client.get(f"/api/v1/pages/{pages[0].id}"))
    assert page["words"] and page["text"]
    hits = check(spec, "get", "/search", client.get("/api/v1/search?q=van+mieu"))
    assert hits["total"] >= 1 and hits["hits"][0]["spans"][0]["boxes"]
    check(spec, "get", "/search", client.get("/api/v1/search?q=x&page=abc"), code=422)
    check(spec, "get", "/suggest", client.get("/api/v1/suggest?q=van"))

    m = p.monuments.create_monument(name_vi="Khuê Văn Các", actor=SYSTEM)
    queued = add_build(p, m.id, status=BuildStatus.queued)
    board = check(spec, "get", "/jobs", client.get("/api/v1/jobs", headers=basic("archivist")))
    assert board["items"][0]["item_id"] == item_id and board["rates"]["page_samples"] == 2
    check(spec, "get", "/jobs", client.get("/api/v1/jobs"), code=401)
    check(spec, "get", "/jobs/items/{item_id}", client.get(f"/api/v1/jobs/items/{item_id}", headers=basic("admin")))
    check(spec, "get", "/jobs/builds/{version_id}", client.get(f"/api/v1/jobs/builds/{queued}",
                                                              headers=basic("curator")))
    check(spec, "post", "/items/{item_id}/cancel", client.post(f"/api/v1/items/{item_id}/cancel",
                                                              headers=basic("librarian")))
    check(spec, "post", "/items/{item_id}/retry", client.post(f"/api/v1/items/{item_id}/retry",
                                                             headers=basic("librarian")))
    check(spec, "post", "/items/{item_id}/retry", client.post("/api/v1/items/999999/retry",
                                                             headers=basic("librarian")), code=404)
    check(spec, "post", "/builds/{version_id}/cancel", client.post(f"/api/v1/builds/{queued}/cancel",
                                                                  headers=basic("curator")))
    check(spec, "post", "/builds/{version_id}/retry", client.post(f"/api/v1/builds/{queued}/retry",
                                                                 headers=basic("curator")))
    check(spec, "post", "/builds/{version_id}/retry", client.post(f"/api/v1/builds/{queued}/retry",
                                                                 headers=basic("curator")), code=409)
    check(spec, "post", "/builds/{version_id}/cancel", client.post(f"/api/v1/builds/{queued}/cancel",
                                                                  headers=basic("archivist")), code=403)


def test_collections_are_listed_with_their_sizes_and_paged(app, spec):
    p = app.extensions["heritage"]
    with p.sessions.begin() as s:
        a = Collection(slug="bao-chi", name="Báo chí <Hà Nội>", description="Báo xuất bản ở Hà Nội")
        b = Collection(slug="sach", name="Sách")
        s.add_all([a, b])
        s.flush()
        s.add_all(Item(title=f"Số {n}", collection_id=a.id) for n in range(1, 6))
        ids = (a.id, b.id)
    client = app.test_client()
    body = check(spec, "get", "/collections", client.get("/api/v1/collections"))
    assert [(c["name"], c["items"]) for c in body["collections"]] == [("Báo chí <Hà Nội>", 5), ("Sách", 0)]
    page2 = check(spec, "get", "/collections/{collection_id}",
                  client.get(f"/api/v1/collections/{ids[0]}?page=2&per_page=2"))
    assert [i["title"] for i in page2["item_list"]] == ["Số 3", "Số 4"] and page2["items"] == 5
    empty = check(spec, "get", "/collections/{collection_id}", client.get(f"/api/v1/collections/{ids[1]}"))
    assert empty["item_list"] == [] and empty["description"] is None
    big = client.get(f"/api/v1/collections/{ids[0]}?per_page=100000").get_json()
    assert big["per_page"] == 100  # capped
