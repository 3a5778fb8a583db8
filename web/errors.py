"""One table from domain errors to HTTP status codes; JSON for the API, text otherwise."""

from __future__ import annotations

from flask import Flask, jsonify, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from library import errors as e
from search.errors import SearchError
from web.security import UPLOAD_ENDPOINTS
from library.access import Refused

STATUS = [
    (e.PermissionDenied, 403),  # web.auth.CredentialsRequired (a PermissionDenied) is 401: see status_for
    (e.NotFound, 404),
    (e.Conflict, 409),
    (e.InputRejected, 422),
    (e.OcrTimeout, 503),
    (e.SearchOffline, 503),
    (e.Unavailable, 503),
    (e.StoreFull, 507),  # Insufficient Storage: send it again once there is room
    (e.HeritageError, 500),
]
CATALOGUE_DOWN = ("Kho dữ liệu tạm thời không trả lời; xin thử lại sau ít phút / "
                  "the catalogue is not answering right now; please try again in a few minutes")
SEARCH_OFFLINE = ("Tìm kiếm tạm thời không hoạt động; xin thử lại sau ít phút / "
                  "search is not available right now; please try again in a few minutes")


def status_for(exc: e.HeritageError) -> int:
    from web.auth import CredentialsRequired

    if isinstance(exc, CredentialsRequired):
        return 401
    for cls, code in STATUS:
        if isinstance(exc, cls):
            return code
    return 500


def _size_text(n_bytes: int) -> str:
    mib = n_bytes / (1024 * 1024)
    return f"{mib:g} MB ({n_bytes} bytes)" if mib >= 1 else f"{n_bytes} bytes"


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
        message = SEARCH_OFFLINE if isinstance(exc, e.SearchOffline) else str(exc)
        if wants_page():
            resp = app.make_response(error_page(code, message if code < 500 or code in (503, 507) else None))
        else:
            body = {"error": type(exc).__name__, "message": message}
            if isinstance(exc, e.InputRejected):
                body.update(source=exc.source, problem=exc.problem)
            resp = app.make_response((jsonify(body), code))
        if code == 401:
            from web.auth import BASIC_REALM

            resp.headers["WWW-Authenticate"] = BASIC_REALM
        if code == 503:
            resp.headers["Retry-After"] = "60"
        return resp

    @app.errorhandler(OperationalError)
    def _catalogue_down(exc):
        """The catalogue's database does not answer (restarting, unreachable): 503 with a reason and
        Retry-After, not a bare 500. Nothing was changed: the transaction did not commit."""
        app.logger.warning("the catalogue does not answer: %s", str(exc).splitlines()[0][:200])
        return _domain(e.CatalogueUnavailable(CATALOGUE_DOWN))

    @app.errorhandler(SearchError)
    def _search_down(exc: SearchError):
        """A search engine error that no service translated (an outage, an index to rebuild): 503."""
        return _domain(e.SearchOffline(str(exc)))

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
        limit = request.max_content_length or app.config["MAX_CONTENT_LENGTH"]
        message = (f"the upload is larger than the limit of {_size_text(limit)}"
                   if request.endpoint in UPLOAD_ENDPOINTS else
                   f"the request body is larger than the limit of {_size_text(limit)} for this address")
        if wants_page():
            return error_page(413, message)
        return jsonify(error="LimitExceeded", message=message, limit_bytes=limit), 413

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if request.path.startswith("/api/"):
            resp = app.make_response((jsonify(error=exc.name, message=exc.description), exc.code))
            original = exc.get_response().headers
            for header in ("Retry-After", "Allow", "WWW-Authenticate"):
                if header in original:
                    resp.headers[header] = original[header]
            return resp
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
