"""One table from domain errors to HTTP status codes; JSON for the API, text otherwise."""

from __future__ import annotations

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from library import errors as e
from library.access import Refused

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


MACHINE_PREFIXES = ("/api/", "/iiif/", "/models/", "/static/")


def wants_page() -> bool:
    """A person's browser asking for a page (an HTML answer), not a program asking for data."""
    if request.path.startswith(MACHINE_PREFIXES):
        return False
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "text/html"


def error_page(code: int, message: str | None = None):
    from flask import render_template

    from web.i18n import current_lang, words

    t = words()
    return render_template("error.html", t=t, lang=current_lang(), code=code,
                           title=t.get(f"error_{code}", t["error_other"]), message=message), code


def init_app(app: Flask) -> None:
    from web.i18n import add

    add(vi={"error_400": "Yêu cầu không hợp lệ", "error_403": "Bạn không có quyền xem trang này",
            "error_404": "Không tìm thấy trang", "error_410": "Tài liệu này đã được rút khỏi thư viện số", "error_405": "Không dùng được cách gửi này",
            "error_409": "Chưa làm được lúc này", "error_413": "Tệp quá lớn", "error_422": "Dữ liệu không hợp lệ",
            "error_429": "Quá nhiều yêu cầu; vui lòng thử lại sau ít phút",
            "error_500": "Đã có lỗi ở máy chủ; xin thử lại sau", "error_503": "Dịch vụ tạm thời chưa sẵn sàng",
            "error_other": "Đã có lỗi", "error_home": "Về trang chủ"},
        en={"error_400": "Bad request", "error_403": "You may not see this page", "error_404": "Page not found", "error_410": "This item has been withdrawn",
            "error_405": "This way of sending is not accepted", "error_409": "Not possible right now",
            "error_413": "The file is too large", "error_422": "The data is not valid",
            "error_429": "Too many requests; please try again in a few minutes",
            "error_500": "Something went wrong on the server; please try again later",
            "error_503": "The service is not available right now", "error_other": "Something went wrong",
            "error_home": "Back to the home page"})

    @app.errorhandler(e.HeritageError)
    def _domain(exc: e.HeritageError):
        code = status_for(exc)
        if wants_page():
            return error_page(code, str(exc) if code < 500 else None)
        body = {"error": type(exc).__name__, "message": str(exc)}
        if isinstance(exc, e.InputRejected):
            body.update(source=exc.source, problem=exc.problem)
        return jsonify(body), code

    @app.errorhandler(Refused)
    def _refused(exc: Refused):
        """library.access refused: 404 (as if it did not exist), 403 (its record is public) or 410 (withdrawn)."""
        code = exc.status
        message = {404: None, 403: exc.decision.reason, 410: exc.decision.reason}.get(code)
        if wants_page():
            return error_page(code, message)
        return jsonify(error={404: "NotFound", 403: "Forbidden", 410: "Gone"}.get(code, "Refused"),
                       message=message or "not found"), code

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc):
        limit = app.config["MAX_CONTENT_LENGTH"]
        message = f"the upload is larger than the limit of {limit} bytes"
        if wants_page():
            return error_page(413, message)
        return jsonify(error="LimitExceeded", message=message), 413

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if request.path.startswith("/api/"):
            return jsonify(error=exc.name, message=exc.description), exc.code
        if wants_page() and exc.code and exc.code >= 400:
            custom = exc.description if exc.description != type(exc).description else None
            page, code = error_page(exc.code, custom)
            resp = app.make_response((page, code))
            original = exc.get_response().headers
            for header in ("Retry-After", "Allow", "WWW-Authenticate"):
                if header in original:
                    resp.headers[header] = original[header]
            return resp
        return exc
