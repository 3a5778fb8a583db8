"""One table from domain errors to HTTP status codes; JSON for the API, text otherwise."""

from __future__ import annotations

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from library import errors as e

STATUS = [
    (e.PermissionDenied, 403),
    (e.NotFound, 404),
    (e.Conflict, 409),
    (e.InputRejected, 422),
    (e.OcrTimeout, 503),
    (e.HeritageError, 500),
]


def status_for(exc: e.HeritageError) -> int:
    for cls, code in STATUS:
        if isinstance(exc, cls):
            return code
    return 500


def init_app(app: Flask) -> None:
    @app.errorhandler(e.HeritageError)
    def _domain(exc: e.HeritageError):
        body = {"error": type(exc).__name__, "message": str(exc)}
        if isinstance(exc, e.InputRejected):
            body.update(source=exc.source, problem=exc.problem)
        return jsonify(body), status_for(exc)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc):
        limit = app.config["MAX_CONTENT_LENGTH"]
        return jsonify(error="LimitExceeded", message=f"the upload is larger than the limit of {limit} bytes"), 413

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if request.path.startswith("/api/"):
            return jsonify(error=exc.name, message=exc.description), exc.code
        return exc
