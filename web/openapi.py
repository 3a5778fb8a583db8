"""The JSON API's OpenAPI 3.1 description: written by hand in ``web/openapi.yaml``
(next to the code it describes; a test checks that every ``/api/v1`` route is in
it and that it is a valid OpenAPI 3.1 document), served as JSON at
``/api/v1/openapi.json`` with this server as its base URL."""

from __future__ import annotations

import copy
import functools
from pathlib import Path

from flask import Blueprint, jsonify, request

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")

SPEC_PATH = Path(__file__).with_name("openapi.yaml")


@functools.cache
def description() -> dict:
    """The description as written (parsed once per process)."""
    import yaml

    with open(SPEC_PATH, encoding="utf-8") as f:
        return yaml.safe_load(f)


@bp.get("/openapi.json")
def openapi_json():
    spec = copy.deepcopy(description())
    spec["servers"] = [{"url": request.url_root.rstrip("/") + "/api/v1", "description": "this server"}]
    resp = jsonify(spec)
    resp.cache_control.public = True
    resp.cache_control.max_age = 300
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp
