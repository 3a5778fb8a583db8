"""An item in Mirador 3 (served by the portal itself, from npm): the viewer opens the
item's IIIF Presentation 3 manifest, with search inside through the manifest's
Content Search service. No inline script: the page's script reads its settings from
data attributes."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, url_for
from sqlalchemy import select

from library.errors import NotFound
from library.catalogue.models import Page, PageStatus
from web import guard, i18n
from web.i18n import current_lang, words

bp = Blueprint("mirador", __name__)

i18n.add(
    vi={
        "mirador": "Xem trong Mirador",
        "mirador_not_ready": ("Tài liệu này chưa có trang nào đọc xong, nên chưa xem được trong Mirador. Hãy thử lại"
                              " khi các trang đã đọc xong."),
        "mirador_noscript": "Mirador cần JavaScript.",
    },
    en={
        "mirador": "View in Mirador",
        "mirador_not_ready": ("No page of this item has been read yet, so it cannot be shown in Mirador. Try again"
                              " once its pages are done."),
        "mirador_noscript": "Mirador needs JavaScript.",
    },
)


@bp.get("/items/<int:item_id>/mirador")
def item(item_id: int):
    lang = current_lang()
    t = words()
    try:
        it, _decision = guard.item_content(item_id)  # a hidden item answers as a missing one; 403 or 410 with the reason
    except NotFound:
        return render_template("mirador.html", t=t, lang=lang, item=None, item_id=item_id, manifest=None), 404
    with current_app.extensions["heritage"].sessions() as s:  # one row at most, on pages.item_id
        ready = s.scalar(select(Page.id).where(Page.item_id == item_id, Page.status == PageStatus.done,
                                               Page.width.is_not(None)).limit(1)) is not None
    manifest = url_for("iiif.manifest", item_id=item_id, _external=True) if ready else None
    code = 200 if ready else 409
    return render_template("mirador.html", t=t, lang=lang, item=it, manifest=manifest), code
