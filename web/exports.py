"""Downloads of a whole item, for every reader: a searchable PDF (the page
images with their current text, corrections included, invisible over the
words), the item's text (UTF-8) and a zip of its pages' ALTO files.

Routes (blueprint ``exports``), public:

- ``/items/<id>/download.pdf``
- ``/items/<id>/download.txt``
- ``/items/<id>/download-alto.zip``
- ``/items/<id>/download-mets.zip`` (METS with MODS and DC, the originals, each page's ALTO)

An export is made on first request and kept (see :mod:`library.discovery.exports`);
later requests are served from the store with an ETag and byte ranges. An
item still being read answers 409 with a page that says how far it has got
(never a partial PDF), an unknown item 404, in the reader's language.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, send_file

from library.errors import NotFound
from library.discovery.exports import ItemNotReady
from web import guard, i18n
from web.i18n import current_lang, words

bp = Blueprint("exports", __name__)

RETRY_AFTER_S = 30  # while an item is being read

i18n.add(
    vi={
        "exp_title": "Tải về toàn bộ tài liệu", "exp_pdf": "PDF (tìm kiếm được)", "exp_text": "Văn bản (UTF-8)",
        "exp_alto": "ALTO (zip)", "exp_mets": "METS/ALTO (zip)",
        "exp_pdf_help": "Ảnh các trang kèm văn bản ẩn đặt đúng chỗ từng chữ: chọn, sao chép và tìm được trong "
                        "trình đọc PDF; đã gồm mọi chỗ thủ thư sửa.",
        "exp_unavailable": "Chưa tải về được",
        "exp_reading": "Tài liệu này đang được đọc: {done}/{total} trang đã xong. Bản tải về sẽ có khi mọi trang "
                       "đã đọc xong; vui lòng quay lại sau ít phút.",
        "exp_failed": "Không đọc được {n} trang của tài liệu này (trang {pages}). Thủ thư cần đọc lại các trang "
                      "đó trước khi tải về được.",
        "exp_cancelled": "{n} trang của tài liệu này đã bị dừng trước khi được đọc (trang {pages}). Thủ thư cần "
                         "đưa chúng vào hàng đợi lại trước khi tải về được.",
        "exp_changed": "Tài liệu vừa thay đổi trong lúc tạo bản tải về; vui lòng thử lại.",
        "exp_no_item": "Không có tài liệu số {id}.", "exp_back": "Quay lại tài liệu",
    },
    en={
        "exp_title": "Download the whole item", "exp_pdf": "PDF (searchable)", "exp_text": "Text (UTF-8)",
        "exp_alto": "ALTO (zip)", "exp_mets": "METS/ALTO (zip)",
        "exp_pdf_help": "The page images with their text invisible over each word: select, copy and search it in "
                        "a PDF reader; every librarian's correction included.",
        "exp_unavailable": "Not available for download yet",
        "exp_reading": "This item is still being read: {done} of {total} pages done. The download will be ready "
                       "once every page is read; please come back in a few minutes.",
        "exp_failed": "{n} page(s) of this item could not be read (page {pages}). A librarian must have them read "
                      "again before the item can be downloaded.",
        "exp_cancelled": "{n} page(s) of this item were cancelled before they were read (page {pages}). A librarian "
                         "must put them back in the queue before the item can be downloaded.",
        "exp_changed": "The item changed while its download was being made; please try again.",
        "exp_no_item": "There is no item {id}.", "exp_back": "Back to the item",
    },
)


@bp.get("/items/<int:item_id>/download.pdf")
def pdf(item_id: int):
    return _download(item_id, "pdf")


@bp.get("/items/<int:item_id>/download.txt")
def text(item_id: int):
    return _download(item_id, "txt")


@bp.get("/items/<int:item_id>/download-alto.zip")
def alto(item_id: int):
    return _download(item_id, "alto")


@bp.get("/items/<int:item_id>/download-mets.zip")
def mets(item_id: int):
    return _download(item_id, "mets")


def _download(item_id: int, kind: str):
    exports = current_app.extensions["heritage"].exports
    try:
        item, decision = guard.item_content(item_id)  # a hidden item answers as a missing one
        export = exports.export(item_id, kind)
    except NotFound:
        return _refusal(item_id, 404, words()["exp_no_item"].format(id=item_id), show_item=False)
    except ItemNotReady as exc:
        resp = _refusal(item_id, 409, _reason(exc))
        if not exc.failed and not exc.cancelled:
            resp.headers["Retry-After"] = str(RETRY_AFTER_S)
        return resp
    resp = send_file(export.path, mimetype=export.media_type, as_attachment=True, download_name=export.filename,
                     etag=export.etag, conditional=True, max_age=0)
    resp.cache_control.public = True
    resp.cache_control.no_cache = True  # the same URL gives a new file after a correction: revalidate (ETag)
    return guard.keep_private(resp, item, decision)


def _reason(exc: ItemNotReady) -> str:
    t = words()
    if exc.failed:
        return t["exp_failed"].format(n=len(exc.failed), pages=", ".join(map(str, exc.failed[:10])))
    if exc.cancelled:
        return t["exp_cancelled"].format(n=len(exc.cancelled), pages=", ".join(map(str, exc.cancelled[:10])))
    if exc.total:
        return t["exp_reading"].format(done=exc.done, total=exc.total)
    return t["exp_changed"]


def _refusal(item_id: int, status: int, reason: str, *, show_item: bool = True):
    html = render_template("export_unavailable.html", t=words(), lang=current_lang(), reason=reason,
                           item_id=item_id if show_item else None)
    resp = current_app.make_response((html, status))
    resp.cache_control.no_store = True
    return resp
