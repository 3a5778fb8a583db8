"""The first public pages: the collections being digitised, with progress per
item and per page, in Vietnamese (default) or English. The full portal
(search, viewers, staff tools) is built on this blueprint later."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from library.errors import NotFound

bp = Blueprint("pages", __name__)

TEXT = {
    "vi": {
        "site": "Di sản Hà Nội số", "items": "Tài liệu", "status": "Trạng thái", "pages": "Trang",
        "queued": "đang chờ", "running": "đang đọc", "done": "xong", "failed": "lỗi", "processing": "đang xử lý",
        "empty": "Chưa có tài liệu nào.", "confidence": "Độ tin cậy", "review": "cần soát lại",
        "text": "Văn bản", "back": "Tất cả tài liệu", "creator": "Tác giả", "date": "Năm",
        "collection": "Bộ sưu tập", "switch": "English", "switch_lang": "en",
    },
    "en": {
        "site": "Hanoi Heritage Online", "items": "Items", "status": "Status", "pages": "Pages",
        "queued": "queued", "running": "reading", "done": "done", "failed": "failed", "processing": "processing",
        "empty": "No items yet.", "confidence": "Confidence", "review": "needs review",
        "text": "Text", "back": "All items", "creator": "Creator", "date": "Date",
        "collection": "Collection", "switch": "Tiếng Việt", "switch_lang": "vi",
    },
}


def _lang() -> str:
    lang = request.args.get("lang") or request.cookies.get("lang") or "vi"
    return lang if lang in TEXT else "vi"


@bp.get("/")
def home():
    lang = _lang()
    rows = current_app.extensions["heritage"].catalogue.item_statuses()
    busy = any(r.status == "processing" for r in rows)
    resp = current_app.make_response(render_template("home.html", rows=rows, t=TEXT[lang], lang=lang, busy=busy))
    resp.set_cookie("lang", lang, samesite="Lax", httponly=True)
    return resp


@bp.get("/items/<int:item_id>")
def item(item_id: int):
    lang = _lang()
    c = current_app.extensions["heritage"].catalogue
    try:
        it = c.item(item_id)
    except NotFound:
        return render_template("home.html", rows=[], t=TEXT[lang], lang=lang, busy=False), 404
    pages = c.page_statuses(item_id)
    texts = {p.id: p.text for p in it.pages}
    busy = it.status.value == "processing"
    return render_template("item.html", item=it, pages=pages, texts=texts, t=TEXT[lang], lang=lang, busy=busy)
