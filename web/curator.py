"""Curators' pages (curators and admins only): monuments, the sources of their
3D builds and the builds' stages, points of interest, guided tours, and the
library items that speak of each monument.

Each view parses the form, calls one service of ``library`` and shows the
answer; a refused value is shown beside the form (HTTP 422) in the user's
language. The live progress of builds, with cancel and retry, is on the staff
dashboard; these pages link to it.
"""

from __future__ import annotations

import shutil
import uuid

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from library.access import roles_for
from library.errors import Conflict, InputRejected, NotFound
from library.monuments.guides import MAX_ID, FieldRejected
from library.catalogue.models import BuildStatus, HeritageRank, Role
from library.monuments.service import BuildSource
from web import i18n
from web.i18n import current_lang, words
from web.monuments import in_lang, num
from web.staff import login_required, signed_in_user
from web.viewer import current_actor

bp = Blueprint("curator", __name__, url_prefix="/staff/monuments")

CURATOR_ROLES = roles_for("manage_monuments")
MONUMENT_FIELDS = ("name_vi", "name_en", "description_vi", "description_en", "address", "lat", "lon", "period",
                   "year_start", "year_end", "heritage_rank")

i18n.add(
    vi={
        "cur_title": "Quản lý di tích", "cur_new": "Thêm di tích", "cur_edit": "Sửa thông tin di tích",
        "cur_name_vi": "Tên (tiếng Việt)", "cur_name_en": "Tên (tiếng Anh)",
        "cur_description_vi": "Giới thiệu (tiếng Việt)", "cur_description_en": "Giới thiệu (tiếng Anh)",
        "cur_address": "Địa chỉ", "cur_lat": "Vĩ độ (WGS 84)", "cur_lon": "Kinh độ (WGS 84)",
        "cur_period": "Thời kỳ, triều đại", "cur_year_start": "Từ năm", "cur_year_end": "Đến năm",
        "cur_heritage_rank": "Xếp hạng di tích", "cur_created": "Đã thêm di tích “{name}”.", "cur_saved": "Đã lưu.",
        "cur_view": "Xem trang công khai", "cur_models": "Mô hình 3D và các bản dựng",
        "cur_build_new": "Dựng mô hình mới từ tệp nguồn",
        "cur_sources": "Tệp nguồn: ảnh chụp (JPEG, hoặc một tệp zip), một đám mây điểm (PLY, LAS, LAZ, XYZ) hoặc một lưới (OBJ, PLY, GLB)",
        "cur_model_title": "Tên mô hình", "cur_model_for": "Mô hình", "cur_model_new": "mô hình mới",
        "cur_licence": "Giấy phép", "cur_known": "Khoảng cách đã biết (tuỳ chọn): ảnh A, ảnh B, số mét",
        "cur_submit_build": "Gửi dựng", "cur_build_sent": "Đã gửi bản dựng {n} vào hàng đợi.", "cur_version": "Bản",
        "cur_input": "Dữ liệu vào", "cur_stage": "Giai đoạn", "cur_progress": "Tiến độ", "cur_reason": "Lý do",
        "cur_when": "Lúc", "cur_follow": "Theo dõi, huỷ hoặc thử lại ở trang Tiến độ xử lý",
        "cur_no_models": "Chưa có mô hình nào.", "cur_guide": "Điểm đáng chú ý và tham quan",
        "cur_points": "Điểm đáng chú ý", "cur_point_new": "Thêm điểm", "cur_label_vi": "Nhãn (tiếng Việt)",
        "cur_label_en": "Nhãn (tiếng Anh)", "cur_text_vi": "Lời giới thiệu (tiếng Việt)",
        "cur_text_en": "Lời giới thiệu (tiếng Anh)", "cur_position": "Vị trí trên mô hình (x, y, z mét)",
        "cur_normal": "Pháp tuyến bề mặt (x, y, z)", "cur_order": "Thứ tự", "cur_delete": "Xoá",
        "cur_pick": "Bấm vào mô hình để lấy vị trí và pháp tuyến cho điểm mới.",
        "cur_insc": "Văn bia: công bố một mặt khắc chữ thành tài liệu thư viện",
        "cur_insc_help": "Chọn một góc rồi bấm vào góc ấy trên mô hình (nhìn thẳng vào mặt bia): dưới trái, "
                         "dưới phải, trên trái. Mặt bia được chụp thẳng từ bề mặt của mô hình, đọc bằng bộ đọc "
                         "chữ Hán, và trở thành tài liệu gắn với di tích (và với điểm đáng chú ý đã chọn).",
        "cur_insc_pick_none": "Bấm vào mô hình để đặt điểm mới", "cur_insc_ll": "Góc dưới trái",
        "cur_insc_lr": "Góc dưới phải", "cur_insc_ul": "Góc trên trái", "cur_insc_title": "Tên tài liệu",
        "cur_insc_px": "Điểm ảnh trên mỗi mét", "cur_insc_lang": "Ngôn ngữ (lzh: chữ Hán)",
        "cur_insc_point": "Điểm đáng chú ý mở văn bia", "cur_insc_no_point": "(không)",
        "cur_insc_go": "Công bố văn bia", "cur_insc_face": "Mặt bia",
        "cur_err_face_corners": "cần ba góc, mỗi góc ba số",
        "cur_err_face_same_point": "hai góc dưới trùng nhau: hãy đánh dấu góc dưới trái và góc dưới phải",
        "cur_err_face_line": "ba góc nằm trên một đường thẳng: góc trên trái phải ở phía trên góc dưới trái",
        "cur_err_face_empty": "với số điểm ảnh trên mỗi mét này ảnh sẽ trống",
        "cur_err_face_too_large": "ảnh sẽ quá giới hạn số điểm ảnh: hãy chọn ít điểm ảnh trên mỗi mét hơn",
        "cur_err_face_px": "số điểm ảnh trên mỗi mét phải là một số dương",
        "cur_err_face_off": "chỉ {share}% mặt đã đánh dấu nằm trên bề mặt mô hình: hãy bấm các góc ngay trên mặt đá",
        "cur_err_face_blank": "mặt bia trên mô hình trống hoặc cháy sáng, không có gì để đọc (hãy chụp lại khi ánh sáng dịu hơn)", "cur_insc_done": "Đã công bố: tài liệu {item} ({w}×{h} điểm ảnh) đang chờ đọc.",
        "cur_no_points": "Chưa có điểm nào.", "cur_tours": "Các chuyến tham quan",
        "cur_tour_new": "Thêm chuyến tham quan", "cur_title_vi": "Tên (tiếng Việt)",
        "cur_title_en": "Tên (tiếng Anh)", "cur_stops": "Các điểm dừng", "cur_stop_new": "Thêm điểm dừng",
        "cur_poi": "Điểm đáng chú ý", "cur_none": "(không)",
        "cur_orbit": "Góc nhìn: phương vị θ (độ), góc cực φ (độ), khoảng cách (mét)",
        "cur_target": "Điểm nhìn vào (x, y, z mét; để trống thì lấy vị trí của điểm đáng chú ý)",
        "cur_fov": "Góc nhìn (độ)", "cur_caption_vi": "Lời dẫn (tiếng Việt)",
        "cur_caption_en": "Lời dẫn (tiếng Anh)", "cur_dwell": "Dừng (giây)", "cur_up": "Lên", "cur_down": "Xuống",
        "cur_camera": "Lấy góc nhìn hiện tại của mô hình", "cur_no_stops": "Chưa có điểm dừng nào.",
        "cur_no_tours": "Chưa có chuyến tham quan nào.", "cur_items": "Tài liệu nói về di tích",
        "cur_item_id": "Số tài liệu", "cur_page_seq": "Trang (tuỳ chọn)", "cur_note": "Ghi chú",
        "cur_link": "Gắn tài liệu", "cur_linked": "Đã gắn tài liệu {n}.", "cur_unlinked": "Đã bỏ gắn.",
        "cur_no_items": "Chưa gắn tài liệu nào; trang di tích vẫn tự tìm các tài liệu nhắc tên di tích.",
        "cur_removed": "Đã xoá.",
        "cur_not_published": "Mô hình chưa có bản dựng xong; vẫn có thể nhập toạ độ bằng tay.",
        "cur_back": "Quay lại di tích",
        "cur_stage_published": "đã công bố", "cur_kind_photos": "ảnh chụp", "cur_kind_point_cloud": "đám mây điểm",
        "cur_kind_mesh": "lưới", "cur_err_required": "cần điền", "cur_err_number": "phải là một số",
        "cur_err_range": "phải nằm trong khoảng {low} … {high}", "cur_err_normal": "pháp tuyến không được là (0, 0, 0)",
        "cur_err_text": "không hợp lệ ({detail})", "cur_err_model": "điểm này không thuộc mô hình của chuyến tham quan",
        "cur_err_item": "không có tài liệu số {item}", "cur_err_page": "tài liệu {item} không có trang {page}",
        "cur_err_exists": "Đã có di tích mang tên này.", "cur_err_upload": "Không nhận tệp nguồn: {detail}",
        "cur_stop_place": "Nơi đứng ngoài thực địa", "cur_stop_place_help": "tuỳ chọn: nơi khách đứng khi đến điểm dừng này",
        "cur_stop_lat": "Vĩ độ (WGS 84, độ)", "cur_stop_lon": "Kinh độ (WGS 84, độ)",
        "cur_err_pair": "cần điền cả vĩ độ và kinh độ, hoặc để trống cả hai",
    },
    en={
        "cur_title": "Monuments (curator)", "cur_new": "Add a monument", "cur_edit": "Edit the monument",
        "cur_name_vi": "Name (Vietnamese)", "cur_name_en": "Name (English)",
        "cur_description_vi": "Description (Vietnamese)", "cur_description_en": "Description (English)",
        "cur_address": "Address", "cur_lat": "Latitude (WGS 84)", "cur_lon": "Longitude (WGS 84)",
        "cur_period": "Period or dynasty", "cur_year_start": "From year", "cur_year_end": "To year",
        "cur_heritage_rank": "Heritage rank", "cur_created": "Monument “{name}” added.", "cur_saved": "Saved.",
        "cur_view": "Public page", "cur_models": "3D models and their builds",
        "cur_build_new": "Build a model from source files",
        "cur_sources": "Source files: photographs (JPEG, or a zip of them), a point cloud (PLY, LAS, LAZ, XYZ) or a mesh (OBJ, PLY, GLB)",
        "cur_model_title": "Model title", "cur_model_for": "Model", "cur_model_new": "a new model",
        "cur_licence": "Licence", "cur_known": "A known distance (optional): photo A, photo B, metres",
        "cur_submit_build": "Build", "cur_build_sent": "Build {n} is in the queue.", "cur_version": "Version",
        "cur_input": "Input", "cur_stage": "Stage", "cur_progress": "Progress", "cur_reason": "Reason",
        "cur_when": "When", "cur_follow": "Follow, cancel or retry builds on the processing dashboard",
        "cur_no_models": "No model yet.", "cur_guide": "Points of interest and tours",
        "cur_points": "Points of interest", "cur_point_new": "Add a point", "cur_label_vi": "Label (Vietnamese)",
        "cur_label_en": "Label (English)", "cur_text_vi": "Text (Vietnamese)", "cur_text_en": "Text (English)",
        "cur_position": "Position on the model (x, y, z metres)", "cur_normal": "Surface normal (x, y, z)",
        "cur_order": "Order", "cur_delete": "Delete",
        "cur_pick": "Click the model to take the position and normal for a new point.",
        "cur_insc": "Inscription: publish an inscribed face as a library item",
        "cur_insc_help": "Choose a corner, then click that corner on the model (facing the stele): lower left, "
                         "lower right, upper left. The face is rendered straight on from the model's surface, read "
                         "by the Hán engine, and becomes an item linked to the monument (and to the point chosen).",
        "cur_insc_pick_none": "Clicks place a new point", "cur_insc_ll": "Lower left corner",
        "cur_insc_lr": "Lower right corner", "cur_insc_ul": "Upper left corner", "cur_insc_title": "Item title",
        "cur_insc_px": "Pixels per metre", "cur_insc_lang": "Languages (lzh: Hán script)",
        "cur_insc_point": "Point of interest that opens it", "cur_insc_no_point": "(none)",
        "cur_insc_go": "Publish the inscription", "cur_insc_face": "The face",
        "cur_err_face_corners": "three corners of three numbers each are needed",
        "cur_err_face_same_point": "the lower corners are one point: mark the lower left and the lower right corner",
        "cur_err_face_line": "the three corners lie on one line: the upper left corner must be above the lower left",
        "cur_err_face_empty": "at these pixels per metre the picture would be empty",
        "cur_err_face_too_large": "the picture would be over the pixel limit: choose fewer pixels per metre",
        "cur_err_face_px": "pixels per metre must be a positive number",
        "cur_err_face_off": "only {share}% of the marked face lies on the model's surface: click the corners on the stone itself",
        "cur_err_face_blank": "the face is blank or burnt out in the model: nothing to read (take photos in softer light)", "cur_insc_done": "Published: item {item} ({w}×{h} px) is waiting to be read.",
        "cur_no_points": "No point yet.", "cur_tours": "Guided tours", "cur_tour_new": "Add a tour",
        "cur_title_vi": "Title (Vietnamese)", "cur_title_en": "Title (English)", "cur_stops": "Stops",
        "cur_stop_new": "Add a stop", "cur_poi": "Point of interest", "cur_none": "(none)",
        "cur_orbit": "Camera: azimuth θ (degrees), polar angle φ (degrees), distance (metres)",
        "cur_target": "Looking at (x, y, z metres; empty: the point of interest's position)",
        "cur_fov": "Field of view (degrees)", "cur_caption_vi": "Caption (Vietnamese)",
        "cur_caption_en": "Caption (English)", "cur_dwell": "Stay (seconds)", "cur_up": "Up", "cur_down": "Down",
        "cur_camera": "Take the model's current camera", "cur_no_stops": "No stop yet.",
        "cur_no_tours": "No tour yet.", "cur_items": "Library items about the monument",
        "cur_item_id": "Item number", "cur_page_seq": "Page (optional)", "cur_note": "Note",
        "cur_link": "Link the item", "cur_linked": "Item {n} linked.", "cur_unlinked": "Link removed.",
        "cur_no_items": "No item linked; the monument's page still finds the items that name it.",
        "cur_removed": "Deleted.",
        "cur_not_published": "The model has no finished build yet; coordinates can still be typed in.",
        "cur_back": "Back to the monument",
        "cur_stage_published": "published", "cur_kind_photos": "photographs", "cur_kind_point_cloud": "point cloud",
        "cur_kind_mesh": "mesh", "cur_err_required": "is required", "cur_err_number": "must be a number",
        "cur_err_range": "must be between {low} and {high}", "cur_err_normal": "the normal cannot be (0, 0, 0)",
        "cur_err_text": "is not accepted ({detail})", "cur_err_model": "this point is not on the tour's model",
        "cur_err_item": "there is no item {item}", "cur_err_page": "item {item} has no page {page}",
        "cur_err_exists": "A monument with this name exists already.",
        "cur_err_upload": "The source files were not accepted: {detail}",
        "cur_stop_place": "Place on the ground", "cur_stop_place_help": "optional: where the visitor stands for this stop",
        "cur_stop_lat": "Latitude (WGS 84, degrees)", "cur_stop_lon": "Longitude (WGS 84, degrees)",
        "cur_err_pair": "give both the latitude and the longitude, or neither",
    },
)

FIELD_WORDS = {  # a refused field → the word for it on the form
    "label_vi": "cur_label_vi", "label_en": "cur_label_en", "text_vi": "cur_text_vi", "text_en": "cur_text_en",
    "title_vi": "cur_title_vi", "title_en": "cur_title_en", "caption_vi": "cur_caption_vi",
    "caption_en": "cur_caption_en", "sequence": "cur_order", "normal": "cur_normal", "target": "cur_target",
    "poi": "cur_poi", "orbit": "cur_orbit", "orbit_theta_deg": "cur_orbit", "orbit_phi_deg": "cur_orbit",
    "orbit_radius_m": "cur_orbit", "field_of_view_deg": "cur_fov", "dwell_s": "cur_dwell", "item": "cur_item_id",
    "page": "cur_page_seq", "note": "cur_note", "position": "cur_position", "item_id": "cur_item_id",
    "lat": "cur_lat", "lon": "cur_lon", "year_start": "cur_year_start", "year_end": "cur_year_end",
    "known_m": "cur_known", "model_id": "cur_model_for", "face": "cur_insc_face",
}


def _platform():
    return current_app.extensions["heritage"]


@bp.app_context_processor
def _curator_link():
    """``is_curator()`` for the navigation: asked only on pages of a signed-in user."""
    def is_curator() -> bool:
        user = signed_in_user()
        return user is not None and user.role in CURATOR_ROLES

    return {"is_curator": is_curator}


def explain(exc: InputRejected) -> str:
    """A refusal in the user's language: the field's name on the form and what is wrong with it."""
    t = words()
    if isinstance(exc, FieldRejected):
        base = exc.field.rsplit("_", 1)[0] if exc.field[-2:] in ("_x", "_y", "_z") else exc.field
        label = t.get(FIELD_WORDS.get(base, ""), exc.field)
        axis = f" ({exc.field[-1]})" if exc.field[-2:] in ("_x", "_y", "_z") else ""
        params = dict(exc.params, detail=exc.problem)
        params = {k: (f"{v:g}" if isinstance(v, float) else v) for k, v in params.items()}
        return f"{t['rejected']} {label}{axis}: {t['cur_err_' + exc.code].format(**params)}"
    return f"{t['rejected']} {exc}"


def _number(name: str, *, integer: bool = False):
    """A number typed on a form; ``None`` when empty (the service refuses what is missing or wrong)."""
    raw = request.form.get(name, "").strip().replace(",", ".") if not integer else request.form.get(name, "").strip()
    if raw == "":
        return None
    try:
        return int(raw) if integer else float(raw)
    except ValueError:
        raise FieldRejected(name, "number", f"{raw[:40]!r} is not a number") from None


def _required(name: str) -> float:
    value = _number(name)
    if value is None:
        raise FieldRejected(name, "required", "a value is required")
    return value


def _triple(prefix: str, *, required: bool = True):
    values = [_number(f"{prefix}_{axis}") for axis in "xyz"]
    if all(v is None for v in values) and not required:
        return None
    for axis, v in zip("xyz", values):
        if v is None:
            raise FieldRejected(f"{prefix}_{axis}", "required", "a value is required")
    return tuple(values)


def _text(name: str) -> str | None:
    return request.form.get(name) or None


def _check(monument_id: int, **owner) -> None:
    """404 unless the model, point, tour or stop in the URL belongs to the monument in the URL."""
    if not all(0 < n <= MAX_ID for n in (monument_id, *owner.values())):
        abort(404)
    try:
        if _platform().guides.monument_of(**owner) != monument_id:
            abort(404)
    except NotFound:
        abort(404)


def _monument(monument_id: int):
    if not 0 < monument_id <= MAX_ID:
        abort(404)
    try:
        return _platform().monuments.monument(monument_id)
    except NotFound:
        abort(404)


def _render(template: str, code: int = 200, **context):
    return render_template(template, t=words(), lang=current_lang(), in_lang=in_lang, num=num, **context), code


# ------------------------------------------------------------------ monuments
@bp.get("")
@login_required(CURATOR_ROLES)
def index():
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and len(page) <= 4 else 1
    rows, more = _platform().monuments.monuments_page(page)  # a page at a time, never every monument
    return _render("curator_monuments.html", monuments=rows, page=page, more=more)[0]


def _monument_form() -> dict:
    values = {k: _text(k) for k in MONUMENT_FIELDS}
    values["heritage_rank"] = values["heritage_rank"] or "none"
    return values


def _monument_values(form: dict) -> dict:
    values = dict(form)
    values["lat"], values["lon"] = _number("lat"), _number("lon")
    values["year_start"], values["year_end"] = _number("year_start", integer=True), _number("year_end", integer=True)
    return values


@bp.route("/new", methods=["GET", "POST"])
@login_required(CURATOR_ROLES)
def new():
    form, error, code = {"heritage_rank": "none"}, None, 200
    if request.method == "POST":
        form = _monument_form()
        try:
            m = _platform().monuments.create_monument(**_monument_values(form), actor=current_actor())
            flash(words()["cur_created"].format(name=m.name_vi))
            return redirect(url_for("curator.monument", monument_id=m.id))
        except InputRejected as exc:
            error, code = explain(exc), 422
        except Conflict:
            error, code = words()["cur_err_exists"], 409
    return _render("curator_monument_form.html", code, form=form, error=error, m=None, ranks=list(HeritageRank))


@bp.route("/<int:monument_id>", methods=["GET", "POST"])
@login_required(CURATOR_ROLES)
def monument(monument_id: int):
    """The monument's details (editable), its models and builds, the upload of build sources, the items linked."""
    p = _platform()
    m = _monument(monument_id)
    form = {k: (getattr(m, k).value if k == "heritage_rank" else getattr(m, k)) for k in MONUMENT_FIELDS}
    error, code = None, 200
    if request.method == "POST":
        form = _monument_form()
        try:
            p.monuments.update_monument(monument_id, **_monument_values(form), actor=current_actor())
            flash(words()["cur_saved"])
            return redirect(url_for("curator.monument", monument_id=monument_id))
        except InputRejected as exc:
            error, code = explain(exc), 422
    return _monument_page(m, form=form, error=error, code=code)


def _monument_page(m, *, form=None, error=None, build_error=None, link_error=None, code=200):
    p = _platform()
    if form is None:
        form = {k: (getattr(m, k).value if k == "heritage_rank" else getattr(m, k)) for k in MONUMENT_FIELDS}
    return _render("curator_monument.html", code, m=m, form=form, error=error, build_error=build_error,
                   link_error=link_error, ranks=list(HeritageRank), models=p.monuments.models(m.id),
                   links=p.guides.linked_items(m.id), running={BuildStatus.queued, BuildStatus.running})


@bp.post("/<int:monument_id>/builds")
@login_required(CURATOR_ROLES)
def submit_build(monument_id: int):
    """Source files (photos, a zip, a point cloud or a mesh) for a new model or a new version of one."""
    p = _platform()
    m = _monument(monument_id)
    files = [f for f in request.files.getlist("files") if f and f.filename]
    folder = p.settings.work_dir / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    try:
        model_id = _number("model_id", integer=True)
        if model_id is not None and not 0 < model_id <= MAX_ID:
            abort(404)
        settings = {}
        known = [request.form.get(k, "").strip() for k in ("known_a", "known_b")]
        metres = _number("known_m")
        if any(known) or metres is not None:
            if not all(known) or metres is None or metres <= 0:
                raise InputRejected("known_distance", "name both photos and a distance in metres above 0")
            settings["known_distance"] = [known[0], known[1], metres]
        uploads = []
        for n, f in enumerate(files):
            target = folder / f"{n:04d}"
            f.save(target)  # our name on disk; the curator's name is only a label
            uploads.append(BuildSource(target, f.filename))
        if not uploads:
            raise InputRejected("files", "choose at least one source file")
        version = p.monuments.submit_build(monument_id, uploads, title=_text("title"), model_id=model_id,
                                           licence=_text("licence"), settings=settings or None,
                                           actor=current_actor())
    except NotFound:
        abort(404)
    except InputRejected as exc:
        detail = explain(exc) if isinstance(exc, FieldRejected) else str(exc)
        return _monument_page(m, build_error=words()["cur_err_upload"].format(detail=detail), code=422)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    flash(words()["cur_build_sent"].format(n=version.id))
    return redirect(url_for("curator.monument", monument_id=monument_id) + "#builds")


# ------------------------------------------------------------ items
@bp.post("/<int:monument_id>/items")
@login_required(CURATOR_ROLES)
def link_item(monument_id: int):
    m = _monument(monument_id)
    try:
        item_id = _number("item_id", integer=True)
        if item_id is None:
            raise FieldRejected("item", "required", "an item number is required")
        _platform().guides.link_item(monument_id, item_id, page_sequence=_number("page", integer=True),
                                     note=_text("note"), actor=current_actor())
    except InputRejected as exc:
        return _monument_page(m, link_error=explain(exc), code=422)
    flash(words()["cur_linked"].format(n=item_id))
    return redirect(url_for("curator.monument", monument_id=monument_id) + "#items")


@bp.post("/<int:monument_id>/items/<int:link_id>/delete")
@login_required(CURATOR_ROLES)
def unlink_item(monument_id: int, link_id: int):
    g = _platform().guides
    try:
        if not 0 < link_id <= MAX_ID or g.link(link_id).monument_id != monument_id:
            abort(404)
        g.unlink_item(link_id, actor=current_actor())
    except NotFound:
        abort(404)
    flash(words()["cur_unlinked"])
    return redirect(url_for("curator.monument", monument_id=monument_id) + "#items")


# ------------------------------------------------------------ points of interest
def _point_args() -> dict:
    return dict(position=_triple("position"), normal=_triple("normal", required=False) or (0.0, 1.0, 0.0),
                label_vi=_text("label_vi"), label_en=_text("label_en"), text_vi=_text("text_vi"),
                text_en=_text("text_en"), sequence=_number("sequence", integer=True))


def _model_page(monument_id: int, model_id: int, *, error=None, form=None, code=200):
    p = _platform()
    m = _monument(monument_id)
    published = next((pm for pm in p.monuments.published(monument_id) if pm.model_id == model_id), None)
    return _render("curator_model.html", code, m=m, model=p.guides.model(model_id), published=published,
                   points=p.guides.points(model_id), tours=p.guides.tours(model_id), error=error, form=form or {})


@bp.route("/<int:monument_id>/models/<int:model_id>", methods=["GET", "POST"])
@login_required(CURATOR_ROLES)
def model(monument_id: int, model_id: int):
    """A model's points of interest (a new one by POST) and its tours."""
    _check(monument_id, model_id=model_id)
    if request.method == "POST":
        try:
            _platform().guides.add_point(model_id, **_point_args(), actor=current_actor())
        except InputRejected as exc:
            return _model_page(monument_id, model_id, error=explain(exc), form=request.form, code=422)
        flash(words()["cur_saved"])
        return redirect(url_for("curator.model", monument_id=monument_id, model_id=model_id) + "#points")
    return _model_page(monument_id, model_id)


@bp.post("/<int:monument_id>/points/<int:point_id>")
@login_required(CURATOR_ROLES)
def update_point(monument_id: int, point_id: int):
    _check(monument_id, point_id=point_id)
    g = _platform().guides
    model_id = g.point(point_id).model_id
    try:
        g.update_point(point_id, **_point_args(), actor=current_actor())
    except InputRejected as exc:
        return _model_page(monument_id, model_id, error=explain(exc), code=422)
    flash(words()["cur_saved"])
    return redirect(url_for("curator.model", monument_id=monument_id, model_id=model_id) + f"#point-{point_id}")


@bp.post("/<int:monument_id>/points/<int:point_id>/delete")
@login_required(CURATOR_ROLES)
def delete_point(monument_id: int, point_id: int):
    _check(monument_id, point_id=point_id)
    g = _platform().guides
    model_id = g.point(point_id).model_id
    g.remove_point(point_id, actor=current_actor())
    flash(words()["cur_removed"])
    return redirect(url_for("curator.model", monument_id=monument_id, model_id=model_id) + "#points")


@bp.post("/<int:monument_id>/models/<int:model_id>/inscription")
@login_required(CURATOR_ROLES)
def publish_inscription(monument_id: int, model_id: int):
    """A stele's face marked on the model (three corners) published as a library item (#14)."""
    _check(monument_id, model_id=model_id)
    p = _platform()
    published = next((pm for pm in p.monuments.published(monument_id) if pm.model_id == model_id), None)
    if published is None:
        abort(404)
    try:
        corners = [_triple(f"corner_{k}") for k in ("ll", "lr", "ul")]
        px = _number("px_per_unit")
        point = _number("point_id", integer=True)
        done = p.inscriptions.publish(monument_id, published.version_id, corners,
                                      px_per_unit=px if px is not None else 400.0,
                                      title=(_text("title") or "").strip(), languages=_text("languages") or "lzh",
                                      point_id=point, actor=current_actor())
    except InputRejected as exc:
        return _model_page(monument_id, model_id, error=explain(exc), form=request.form, code=422)
    except NotFound:
        abort(404)
    flash(words()["cur_insc_done"].format(item=done.item_id, w=done.width_px, h=done.height_px))
    return redirect(url_for("curator.model", monument_id=monument_id, model_id=model_id) + "#inscription")


# ------------------------------------------------------------------ tours
@bp.post("/<int:monument_id>/models/<int:model_id>/tours")
@login_required(CURATOR_ROLES)
def new_tour(monument_id: int, model_id: int):
    _check(monument_id, model_id=model_id)
    try:
        tour = _platform().guides.add_tour(model_id, title_vi=_text("title_vi"), title_en=_text("title_en"),
                                           actor=current_actor())
    except InputRejected as exc:
        return _model_page(monument_id, model_id, error=explain(exc), code=422)
    return redirect(url_for("curator.tour", monument_id=monument_id, tour_id=tour.id))


def _stop_args() -> dict:
    fov, dwell = _number("field_of_view_deg"), _number("dwell_s")
    return dict(orbit=tuple(_required(k) for k in ("orbit_theta_deg", "orbit_phi_deg", "orbit_radius_m")),
                target=_triple("target", required=False), poi_id=_number("poi_id", integer=True),
                field_of_view_deg=30.0 if fov is None else fov, caption_vi=_text("caption_vi"),
                caption_en=_text("caption_en"), dwell_s=6.0 if dwell is None else dwell,
                sequence=_number("sequence", integer=True), lat=_number("lat"), lon=_number("lon"))


def _tour_page(monument_id: int, tour_id: int, *, error=None, form=None, code=200):
    p = _platform()
    tour = p.guides.tour(tour_id)
    published = next((pm for pm in p.monuments.published(monument_id) if pm.model_id == tour.model_id), None)
    return _render("curator_tour.html", code, m=_monument(monument_id), tour=tour, model=p.guides.model(tour.model_id),
                   points=p.guides.points(tour.model_id), published=published, error=error, form=form or {})


@bp.route("/<int:monument_id>/tours/<int:tour_id>", methods=["GET", "POST"])
@login_required(CURATOR_ROLES)
def tour(monument_id: int, tour_id: int):
    """A tour's title (changed by POST) and its stops."""
    _check(monument_id, tour_id=tour_id)
    if request.method == "POST":
        try:
            _platform().guides.update_tour(tour_id, title_vi=_text("title_vi"), title_en=_text("title_en"),
                                           actor=current_actor())
        except InputRejected as exc:
            return _tour_page(monument_id, tour_id, error=explain(exc), code=422)
        flash(words()["cur_saved"])
        return redirect(url_for("curator.tour", monument_id=monument_id, tour_id=tour_id))
    return _tour_page(monument_id, tour_id)


@bp.post("/<int:monument_id>/tours/<int:tour_id>/delete")
@login_required(CURATOR_ROLES)
def delete_tour(monument_id: int, tour_id: int):
    _check(monument_id, tour_id=tour_id)
    g = _platform().guides
    model_id = g.tour(tour_id).model_id
    g.remove_tour(tour_id, actor=current_actor())
    flash(words()["cur_removed"])
    return redirect(url_for("curator.model", monument_id=monument_id, model_id=model_id) + "#tours")


@bp.post("/<int:monument_id>/tours/<int:tour_id>/stops")
@login_required(CURATOR_ROLES)
def new_stop(monument_id: int, tour_id: int):
    _check(monument_id, tour_id=tour_id)
    try:
        _platform().guides.add_stop(tour_id, **_stop_args(), actor=current_actor())
    except InputRejected as exc:
        return _tour_page(monument_id, tour_id, error=explain(exc), form=request.form, code=422)
    flash(words()["cur_saved"])
    return redirect(url_for("curator.tour", monument_id=monument_id, tour_id=tour_id) + "#stops")


@bp.post("/<int:monument_id>/stops/<int:stop_id>")
@login_required(CURATOR_ROLES)
def update_stop(monument_id: int, stop_id: int):
    _check(monument_id, stop_id=stop_id)
    g = _platform().guides
    tour_id = g.stop(stop_id).tour_id
    try:
        g.update_stop(stop_id, **_stop_args(), actor=current_actor())
    except InputRejected as exc:
        return _tour_page(monument_id, tour_id, error=explain(exc), code=422)
    flash(words()["cur_saved"])
    return redirect(url_for("curator.tour", monument_id=monument_id, tour_id=tour_id) + f"#stop-{stop_id}")


@bp.post("/<int:monument_id>/stops/<int:stop_id>/move")
@login_required(CURATOR_ROLES)
def move_stop(monument_id: int, stop_id: int):
    _check(monument_id, stop_id=stop_id)
    step = -1 if request.form.get("step") == "up" else 1
    tour = _platform().guides.move_stop(stop_id, step, actor=current_actor())
    return redirect(url_for("curator.tour", monument_id=monument_id, tour_id=tour.id) + f"#stop-{stop_id}")


@bp.post("/<int:monument_id>/stops/<int:stop_id>/delete")
@login_required(CURATOR_ROLES)
def delete_stop(monument_id: int, stop_id: int):
    _check(monument_id, stop_id=stop_id)
    g = _platform().guides
    tour_id = g.stop(stop_id).tour_id
    g.remove_stop(stop_id, actor=current_actor())
    flash(words()["cur_removed"])
    return redirect(url_for("curator.tour", monument_id=monument_id, tour_id=tour_id) + "#stops")
