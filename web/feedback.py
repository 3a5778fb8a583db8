"""Readers' feedback in the portal: report a text error on a page, comment on
and rate an item or a monument (no account needed); staff moderate a queue,
answer, publish or hide, and put a suggested correction into the text. Also
``/api/v1/feedback`` (public POST, staff GET with HTTP Basic).

Every form carries CSRF; a honeypot field turns bots away; submissions are
rate-limited per client address (``HERITAGE_FEEDBACK_PER_WINDOW`` in
``HERITAGE_FEEDBACK_WINDOW_S``) and answered 429 past the limit.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for

from library.access import may
from library.errors import Conflict, InputRejected, NotFound, PermissionDenied
from library.discovery.feedback import MODERATORS, FeedbackRejected, Submission
from library.catalogue.models import Role
from web import guard
from web.auth import require_user
from web.i18n import add, current_lang, words
from web.pages import PAGES_PER_SCREEN, window_start
from web.security import RateLimiter
from web.staff import login_required
from web.viewer import current_actor

bp = Blueprint("feedback", __name__)
api_bp = Blueprint("feedback_api", __name__, url_prefix="/api/v1/feedback")

HONEYPOT = "contact_url"  # hidden from people by CSS; a bot that fills every field gives itself away
FORM_FIELDS = ("page", "line", "word", "quoted", "suggestion", "body", "rating", "name", "email")
PER_PAGE = 30

add(vi={
    "fb_title": "Góp ý của bạn đọc", "fb_none": "Chưa có góp ý nào được công bố.",
    "fb_rating_summary": "{mean} / 5 sao · {n} đánh giá", "fb_no_ratings": "Chưa có đánh giá nào.",
    "fb_stars": "{n} sao", "fb_anonymous": "Bạn đọc", "fb_answer": "Trả lời",
    "fb_kind_text_error": "Báo lỗi văn bản", "fb_kind_comment": "Nhận xét", "fb_kind_rating": "Đánh giá",
    "fb_report_link": "Báo lỗi chữ trên trang này", "fb_report_title": "Báo lỗi văn bản",
    "fb_report_help": "Chọn dòng có lỗi, chép lại chữ sai như trên trang và viết chữ đúng. Thư viện sẽ xem và trả lời.",
    "fb_f_page": "Trang", "fb_f_line": "Dòng", "fb_any_line": "— không rõ dòng nào —",
    "fb_f_quoted": "Chữ sai (chép như trên trang)", "fb_f_suggestion": "Nên sửa thành",
    "fb_f_body": "Nội dung", "fb_f_note": "Ghi chú (không bắt buộc)", "fb_f_rating": "Số sao",
    "fb_f_name": "Tên của bạn (không bắt buộc, sẽ hiện công khai)",
    "fb_f_email": "Email (không bắt buộc, không công khai; để nhân viên trả lời riêng)",
    "fb_f_honeypot": "Đừng điền ô này", "fb_f_kind": "Loại góp ý", "fb_f_target": "Đối tượng",
    "fb_f_language": "Ngôn ngữ", "fb_f_item": "Tài liệu", "fb_f_monument": "Di tích", "fb_f_answer": "Trả lời",
    "fb_f_line_text": "Dòng sau khi sửa", "fb_f_ids": "Góp ý đã chọn", "fb_f_status": "Trạng thái",
    "fb_send": "Gửi", "fb_comment_title": "Viết nhận xét", "fb_rate_title": "Đánh giá của bạn",
    "fb_thanks": "Cảm ơn bạn! Góp ý sẽ hiện ở đây sau khi nhân viên duyệt.",
    "fb_too_many": "Bạn đã gửi nhiều góp ý trong ít phút; vui lòng thử lại sau.",
    "fb_honeypot": "Chưa gửi: ô “Đừng điền ô này” phải để trống.",
    "fb_held": "Mọi góp ý được nhân viên duyệt trước khi công bố.",
    "fb_applied": "Đã sửa trong văn bản (phiên bản {v}).", "fb_page_line": "trang {page}, dòng {line}",
    "fb_page_only": "trang {page}", "fb_not_sent": "Chưa gửi được", "fb_about": "Về",
    "fb_e_too_long": "{field}: dài {length} ký tự; tối đa {max} ký tự.", "fb_e_required": "{field}: vui lòng điền.",
    "fb_e_control_char": "{field}: có ký tự điều khiển ({char}); hãy xoá ký tự đó.",
    "fb_e_bad_email": "{field}: không phải địa chỉ email.", "fb_e_not_text": "{field}: phải là chữ.",
    "fb_e_not_number": "{field}: phải là số nguyên.", "fb_e_out_of_range": "{field}: phải từ {lo} đến {hi}.",
    "fb_e_bad_kind": "Loại góp ý không hợp lệ.", "fb_e_unexpected": "{field}: không dùng cho loại góp ý này.",
    "fb_e_one_target": "Góp ý phải về một tài liệu hoặc một di tích.",
    "fb_e_text_error_on_item": "Lỗi văn bản chỉ báo được trên một trang của tài liệu.",
    "fb_e_no_page": "Tài liệu không có trang {page}.", "fb_e_page_not_read": "Trang {page} chưa có văn bản.",
    "fb_e_no_line": "Trang có {count} dòng, không có dòng {line}.",
    "fb_e_quoted_not_found": "Không thấy “{quoted}” ở dòng hay trang đã chọn; hãy chép đúng chữ như trên trang.",
    "fb_e_nothing_to_report": "Hãy viết chữ đúng hoặc mô tả lỗi.", "fb_e_bad_language": "Ngôn ngữ không hợp lệ.",
    "fb_e_bad_status": "Trạng thái không hợp lệ.", "fb_e_bad_target": "Đối tượng không hợp lệ.",
    "fb_e_unchanged": "Dòng {line} vốn đã như vậy.", "fb_e_too_many": "Tối đa {max} góp ý mỗi lần.",
    "fb_queue": "Góp ý", "fb_queue_title": "Góp ý của bạn đọc", "fb_filter": "Lọc", "fb_all": "tất cả",
    "fb_status_pending": "chờ duyệt", "fb_status_published": "đã công bố", "fb_status_hidden": "đã ẩn",
    "fb_target_item": "tài liệu", "fb_target_monument": "di tích", "fb_publish": "Công bố", "fb_hide": "Ẩn",
    "fb_unpublish": "Đưa về chờ duyệt", "fb_answer_publish": "Trả lời và công bố", "fb_answer_save": "Lưu trả lời",
    "fb_answered_by": "trả lời bởi {who}", "fb_accept": "Đưa vào văn bản",
    "fb_accept_title": "Sửa văn bản theo góp ý",
    "fb_accept_help": "Kiểm tra dòng trước khi lưu: việc này tạo một phiên bản mới của văn bản trang.",
    "fb_current_line": "Dòng hiện nay", "fb_saved_version": "Đã lưu phiên bản {v} của văn bản trang.",
    "fb_note_default": "Theo góp ý số {id} của bạn đọc", "fb_selected": "Với các góp ý đã chọn:",
    "fb_select": "Chọn", "fb_pending_count": "{n} chờ duyệt", "fb_empty_queue": "Không có góp ý nào.",
    "fb_updated": "Đã cập nhật góp ý số {id}.", "fb_updated_many": "Đã cập nhật {n} góp ý.",
    "fb_suggested": "Bạn đọc đề nghị",
}, en={
    "fb_title": "Readers' feedback", "fb_none": "No feedback published yet.",
    "fb_rating_summary": "{mean} / 5 stars · {n} ratings", "fb_no_ratings": "No ratings yet.",
    "fb_stars": "{n} stars", "fb_anonymous": "A reader", "fb_answer": "Answer",
    "fb_kind_text_error": "Text error", "fb_kind_comment": "Comment", "fb_kind_rating": "Rating",
    "fb_report_link": "Report a text error on this page", "fb_report_title": "Report a text error",
    "fb_report_help": "Choose the line with the error, copy the wrong words as the page shows them and write the "
                      "right ones. The library will check and answer.",
    "fb_f_page": "Page", "fb_f_line": "Line", "fb_any_line": "— line not known —",
    "fb_f_quoted": "Wrong words (as the page shows them)", "fb_f_suggestion": "Should read",
    "fb_f_body": "Your comment", "fb_f_note": "Note (optional)", "fb_f_rating": "Stars",
    "fb_f_name": "Your name (optional, shown publicly)",
    "fb_f_email": "E-mail (optional, never shown; for a private answer)",
    "fb_f_honeypot": "Leave this field empty", "fb_f_kind": "Kind", "fb_f_target": "About",
    "fb_f_language": "Language", "fb_f_item": "Item", "fb_f_monument": "Monument", "fb_f_answer": "Answer",
    "fb_f_line_text": "The line corrected", "fb_f_ids": "Chosen feedback", "fb_f_status": "Status",
    "fb_send": "Send", "fb_comment_title": "Write a comment", "fb_rate_title": "Your rating",
    "fb_thanks": "Thank you! Your feedback will appear here once staff have reviewed it.",
    "fb_too_many": "You have sent a lot of feedback in a few minutes; please try again later.",
    "fb_honeypot": "Not sent: the field “Leave this field empty” must stay empty.",
    "fb_held": "All feedback is reviewed by staff before it is published.",
    "fb_applied": "Corrected in the text (version {v}).", "fb_page_line": "page {page}, line {line}",
    "fb_page_only": "page {page}", "fb_not_sent": "Not sent", "fb_about": "About",
    "fb_e_too_long": "{field}: {length} characters long; at most {max}.", "fb_e_required": "{field}: please fill this in.",
    "fb_e_control_char": "{field}: contains a control character ({char}); please remove it.",
    "fb_e_bad_email": "{field}: not an e-mail address.", "fb_e_not_text": "{field}: must be text.",
    "fb_e_not_number": "{field}: must be a whole number.", "fb_e_out_of_range": "{field}: must be from {lo} to {hi}.",
    "fb_e_bad_kind": "Unknown kind of feedback.", "fb_e_unexpected": "{field}: not used for this kind of feedback.",
    "fb_e_one_target": "Feedback is about one item or one monument.",
    "fb_e_text_error_on_item": "A text error is reported on a page of an item.",
    "fb_e_no_page": "This item has no page {page}.", "fb_e_page_not_read": "Page {page} has no text yet.",
    "fb_e_no_line": "The page has {count} lines, not line {line}.",
    "fb_e_quoted_not_found": "“{quoted}” is not on the chosen line or page; copy the words as the page shows them.",
    "fb_e_nothing_to_report": "Write the right words or say what is wrong.", "fb_e_bad_language": "Unknown language.",
    "fb_e_bad_status": "Unknown status.", "fb_e_bad_target": "Unknown target.",
    "fb_e_unchanged": "Line {line} reads so already.", "fb_e_too_many": "At most {max} at a time.",
    "fb_queue": "Feedback", "fb_queue_title": "Readers' feedback", "fb_filter": "Filter", "fb_all": "all",
    "fb_status_pending": "waiting", "fb_status_published": "published", "fb_status_hidden": "hidden",
    "fb_target_item": "items", "fb_target_monument": "monuments", "fb_publish": "Publish", "fb_hide": "Hide",
    "fb_unpublish": "Back to waiting", "fb_answer_publish": "Answer and publish", "fb_answer_save": "Save answer",
    "fb_answered_by": "answered by {who}", "fb_accept": "Put into the text",
    "fb_accept_title": "Correct the text from feedback",
    "fb_accept_help": "Check the line before saving: this makes a new version of the page's text.",
    "fb_current_line": "The line now", "fb_saved_version": "Saved as version {v} of the page's text.",
    "fb_note_default": "From reader feedback no. {id}", "fb_selected": "With the chosen feedback:",
    "fb_select": "Choose", "fb_pending_count": "{n} waiting", "fb_empty_queue": "No feedback.",
    "fb_updated": "Feedback no. {id} updated.", "fb_updated_many": "{n} updated.",
    "fb_suggested": "The reader suggests",
})


def _platform():
    return current_app.extensions["heritage"]


def _service():
    return _platform().feedback


@bp.record_once
def _make_limiter(state) -> None:
    settings = state.app.config["HERITAGE_SETTINGS"]
    state.app.extensions["feedback_limiter"] = RateLimiter(settings.feedback_per_window, settings.feedback_window_s,
                                                           store=settings.data_dir / "rate-limits-feedback.sqlite")


@bp.app_context_processor
def _feedback_helpers():
    return {"feedback_board": _board}


def _board(target: str, target_id: int):
    """The published feedback and rating summary of an item or a monument (called by the page templates)."""
    if target == "item":
        return _service().board(item_id=target_id)
    return _service().board(monument_id=target_id)


def message_for(exc: InputRejected, t: dict[str, str]) -> str:
    """A refusal in the reader's language (the service's English when no words exist for it)."""
    if not isinstance(exc, FeedbackRejected):
        return str(exc)
    label = t.get(f"fb_f_{exc.field}", exc.field)
    try:
        return t[f"fb_e_{exc.reason}"].format(field=label, **exc.params)
    except (KeyError, IndexError):
        return f"{label}: {exc.problem}"


def _limited() -> bool:
    return current_app.extensions["feedback_limiter"].blocked(request.remote_addr or "-")


def _count_one() -> None:
    current_app.extensions["feedback_limiter"].hit(request.remote_addr or "-")


# --------------------------------------------------------------- readers
@bp.get("/items/<int:item_id>/report")
def report_form(item_id: int):
    """The form for reporting a text error on one page, with the page's lines to choose from;
    ``?word=`` (the word's number on the page, as the text's links give it) opens it on one word."""
    return _render_report(item_id, request.args.get("page", "1"), {}, None, 200, word_arg=request.args.get("word"))


@bp.post("/items/<int:item_id>/feedback")
def item_feedback(item_id: int):
    try:
        item, _decision = guard.item_content(item_id)  # only on an item the reader may read (library.access)
    except NotFound:
        abort(404)
    return _submit(dict(item_id=item.id), url_for("pages.item", item_id=item.id, lang=current_lang()),
                   title=item.title, report_item=item.id)


@bp.post("/monuments/<slug>/feedback")
def monument_feedback(slug: str):
    try:
        m = _platform().monuments.by_slug(slug)
    except NotFound:
        abort(404)
    name = m.name_en if current_lang() == "en" and m.name_en else m.name_vi
    return _submit(dict(monument_id=m.id), url_for("monuments.monument", slug=m.slug, lang=current_lang()),
                   title=name)


def _submit(target: dict, back: str, *, title: str, report_item: int | None = None):
    t = words()
    form = request.form
    values = {k: form.get(k, "") for k in FORM_FIELDS}
    kind = form.get("kind", "")
    if _limited():
        return _refused(kind, values, t["fb_too_many"], 429, back=back, title=title, report_item=report_item)
    if form.get(HONEYPOT):
        _count_one()
        return _refused(kind, values, t["fb_honeypot"], 422, back=back, title=title, report_item=report_item)
    try:
        _service().submit(current_actor(), Submission(kind=kind, language=current_lang(), **target,
                                     **{k: (v if v != "" else None) for k, v in values.items()}))
    except InputRejected as exc:
        return _refused(kind, values, message_for(exc, t), 422, back=back, title=title, report_item=report_item)
    _count_one()
    flash(t["fb_thanks"], "feedback")
    return redirect(back + "#feedback", code=303)


def _refused(kind: str, values: dict, error: str, code: int, *, back: str, title: str, report_item: int | None):
    """The form again, with what was sent and why it was not taken."""
    if kind == "text_error" and report_item is not None:
        return _render_report(report_item, values.get("page") or "1", values, error, code)
    return render_template("feedback_form.html", t=words(), lang=current_lang(), kind=kind, values=values,
                           error=error, back=back, title=title, action=request.path), code


def _render_report(item_id: int, page_arg: str, values: dict, error: str | None, code: int,
                   word_arg: str | None = None):
    p = _platform()
    try:
        item, _decision = guard.item_content(item_id)  # the form shows the page's lines: content (library.access)
    except NotFound:
        abort(404)
    wanted = int(page_arg) if str(page_arg or "").isdigit() and len(str(page_arg)) < 10 else 1
    # the read pages of the window holding the page asked (never every page of the item)
    pages = p.catalogue.readable_pages(item_id, start=window_start(wanted), count=PAGES_PER_SCREEN)
    if not pages:
        pages = p.catalogue.readable_pages(item_id, start=1, count=PAGES_PER_SCREEN)
    page = next((pg for pg in pages if pg.sequence == wanted), pages[0] if pages else None)
    lines = p.corrections.review(page.id).lines if page is not None else []
    chosen = _int(word_arg if word_arg is not None else values.get("word"))
    word = next(((w, ln.number + 1) for ln in lines for w in ln.words if w.sequence == chosen), None)
    if word is not None and word_arg is not None:  # opened from the word: the form points at it
        values = {**values, "word": str(word[0].sequence), "line": str(word[1]), "quoted": word[0].text}
    return render_template("feedback_report.html", t=words(), lang=current_lang(), item=item, pages=pages,
                           page=page, lines=lines, values=values, error=error, word=word), code


# ----------------------------------------------------------------- staff
QUEUE_ROLES = set(MODERATORS)


def _queue_args() -> dict:
    a = request.args
    status = a.get("status", "pending")
    return dict(kind=a.get("kind") or None, status=None if status == "all" else status or None,
                target=a.get("target") or None, item_id=_int(a.get("item")), monument_id=_int(a.get("monument")))


def _int(raw):
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 10 else None


@bp.get("/staff/feedback")
@login_required(QUEUE_ROLES)
def queue():
    return _render_queue({}, None, 200)


def _render_queue(drafts: dict[int, str], error: str | None, code: int):
    t = words()
    actor = current_actor()
    here = request.full_path if request.endpoint == "feedback.queue" else _queue_url()
    offset = max(0, _int(request.args.get("offset")) or 0)
    view = dict(t=t, lang=current_lang(), error=error, drafts=drafts, args=request.args, here=here,
                can_correct=may(actor, "correct_text"), prev_link=None, next_link=None)
    try:
        page = _service().queue(actor, limit=PER_PAGE, offset=offset, **_queue_args())
    except InputRejected as exc:
        return render_template("feedback_queue.html", page=None, targets=[], **{**view, "error": message_for(exc, t)}), 422
    except PermissionDenied:
        abort(403, t["not_allowed"])
    base = [(k, v) for k, v in request.args.items(multi=True) if k != "offset"]
    if offset > 0:
        view["prev_link"] = "?" + urlencode(base + [("offset", max(0, offset - PER_PAGE))])
    if offset + PER_PAGE < page.total:
        view["next_link"] = "?" + urlencode(base + [("offset", offset + PER_PAGE)])
    return render_template("feedback_queue.html", page=page, targets=sorted(page.pending),
                           reported=_service().reported_words(page.entries), **view), code


def _queue_url() -> str:
    target = request.form.get("next", "")
    if not (target == "/staff/feedback" or target.startswith("/staff/feedback?")):
        target = url_for("feedback.queue", lang=current_lang())
    return target


def _back_to_queue():
    return redirect(_queue_url(), code=303)


def _staff_action(action):
    """Run one moderation action; a refusal shows the queue again with the reason (403 for a role without it)."""
    t = words()
    try:
        return action()
    except PermissionDenied:
        abort(403, t["not_allowed"])
    except NotFound:
        abort(404)
    except InputRejected as exc:
        return None, message_for(exc, t)


@bp.post("/staff/feedback/<int:feedback_id>/answer")
@login_required(QUEUE_ROLES)
def answer(feedback_id: int):
    text = request.form.get("answer", "")
    publish = request.form.get("publish") == "1"

    def run():
        _service().answer(current_actor(), feedback_id, text, publish=publish)
        return True, None

    done, error = _staff_action(run)
    if not done:
        return _render_queue({feedback_id: text}, error, 422)
    flash(words()["fb_updated"].format(id=feedback_id), "feedback")
    return _back_to_queue()


@bp.post("/staff/feedback/<int:feedback_id>/status")
@login_required(QUEUE_ROLES)
def set_status(feedback_id: int):
    status = request.form.get("status", "")

    def run():
        _service().set_status(current_actor(), feedback_id, status)
        return True, None

    done, error = _staff_action(run)
    if not done:
        return _render_queue({}, error, 422)
    flash(words()["fb_updated"].format(id=feedback_id), "feedback")
    return _back_to_queue()


@bp.post("/staff/feedback/bulk")
@login_required(QUEUE_ROLES)
def set_status_many():
    ids = [int(x) for x in request.form.getlist("id") if x.isascii() and x.isdigit() and len(x) < 10]
    status = request.form.get("status", "")

    def run():
        return _service().set_status_many(current_actor(), ids, status), None

    n, error = _staff_action(run)
    if error:
        return _render_queue({}, error, 422)
    flash(words()["fb_updated_many"].format(n=n), "feedback")
    return _back_to_queue()


@bp.route("/staff/feedback/<int:feedback_id>/accept", methods=["GET", "POST"])
@login_required({Role.librarian, Role.admin})
def accept(feedback_id: int):
    """Put a reported correction into the page's text, as a new version, after checking the line."""
    t = words()
    svc, actor = _service(), current_actor()
    error, values, code = None, {}, 200
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in ("line", "line_text", "note", "revision")}
        try:
            version = svc.accept_correction(actor, feedback_id, line_number=values["line"],
                                            line_text=values["line_text"], revision=_int(values["revision"]) or 0,
                                            note=values["note"] or None)
            flash(t["fb_saved_version"].format(v=version), "feedback")
            return _back_to_queue()
        except PermissionDenied:
            abort(403, t["not_allowed"])
        except NotFound:
            abort(404)
        except Conflict as exc:
            error, code = str(exc), 409
        except InputRejected as exc:
            error, code = message_for(exc, t), 422
    try:
        proposal = svc.correction_proposal(actor, feedback_id)
    except PermissionDenied:
        abort(403, t["not_allowed"])
    except NotFound:
        abort(404)
    except Conflict as exc:
        return render_template("feedback_accept.html", t=t, lang=current_lang(), proposal=None, error=str(exc),
                               values={}, next=request.args.get("next", "")), 409
    return render_template("feedback_accept.html", t=t, lang=current_lang(), proposal=proposal, error=error,
                           values=values, next=request.values.get("next", "")), code


# ------------------------------------------------------------------- API
@api_bp.post("")
def api_submit():
    """Public: ``{"kind": "text_error" | "comment" | "rating", "item_id" | "monument_id", "page", "line", "word",
    "quoted", "suggestion", "body", "rating", "name", "email", "language"}``; 201 with the id, held for moderation.
    ``word`` is the number of a word of the page (0-based, reading order, as ``/api/v1/pages/{id}`` lists them)."""
    if _limited():
        return jsonify(error="TooManyRequests", message=words()["fb_too_many"]), 429
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InputRejected("request", "send a JSON object")
    known = {"kind", "item_id", "monument_id", "page", "line", "word", "quoted", "suggestion", "body", "rating",
             "name", "email", "language"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputRejected(unknown[0], f"unknown field; use {', '.join(sorted(known))}")
    if isinstance(data.get("item_id"), int) and not isinstance(data.get("item_id"), bool):
        guard.item_content(data["item_id"])  # feedback only on an item the sender may read
    fid = _service().submit(current_actor(), Submission(**{"language": "vi", **data}))
    _count_one()
    return jsonify(id=fid, status="pending"), 201


@api_bp.get("")
def api_queue():
    """Staff (HTTP Basic): the feedback they moderate, filtered by ``kind``, ``status``, ``target``, ``item``,
    ``monument``; ``limit`` and ``offset`` page through it."""
    require_user()  # 401 without credentials
    limit = min(_int(request.args.get("limit")) or 50, 200)
    page = _service().queue(current_actor(), limit=limit, offset=_int(request.args.get("offset")) or 0, **_queue_args_api())
    return jsonify(total=page.total, pending=page.pending, items=[e.as_dict() for e in page.entries])


def _queue_args_api() -> dict:
    args = _queue_args()
    args["status"] = request.args.get("status") or None
    return args


@api_bp.get("/board")
def api_board():
    """Public: the published feedback and rating summary of ``item_id`` or ``monument_id``."""
    item_id, monument_id = _int(request.args.get("item_id")), _int(request.args.get("monument_id"))
    if (item_id is None) == (monument_id is None):
        raise InputRejected("request", "give item_id or monument_id (a whole number)")
    if item_id is not None:
        guard.item_content(item_id)
    board = _service().board(item_id=item_id, monument_id=monument_id)
    return jsonify(ratings=board.ratings.as_dict(), total=board.total, items=[e.as_dict() for e in board.entries])

