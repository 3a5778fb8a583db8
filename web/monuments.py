"""Monuments for tourists: a list and a map, and a page per monument with its
3D models (the smallest level first, better ones once it is on screen), the
labelled points of interest, guided tours, AR where the phone supports it and
the library items that speak of the monument, in Vietnamese or English; and
the same as JSON under /api/v1/monuments."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

from flask import (Blueprint, abort, current_app, jsonify, make_response, render_template, request, send_file,
                   url_for)

from library.errors import NotFound
from library.monuments.guides import MAX_ID
from web import guard, i18n
from web.i18n import current_lang, words
from web.pages import highlight, item_page_url
from web.security import CSP
from web.site_plan import Place, site_plan

bp = Blueprint("monuments", __name__)
api_bp = Blueprint("monuments_api", __name__, url_prefix="/api/v1")

i18n.add(
    vi={
        "mon_map": "Bản đồ di tích", "mon_model_alt": "Mô hình 3D của {name} ({title}).",
        "mon_model_alt_points": "Các điểm đáng chú ý trên mô hình được kể bằng chữ bên dưới.", "mon_open": "Xem di tích",
        "mon_plan": "Sơ đồ khu di tích", "mon_plan_north": "B",
        "mon_plan_note": "Sơ đồ vẽ theo toạ độ của các di tích, không có bản đồ nền; phía bắc ở trên.",
        "mon_plan_page": "Sơ đồ chỉ gồm các di tích của trang này; các di tích khác ở những trang khác.",
        "mon_plan_unplaced": "{n} di tích chưa có toạ độ nên không có trên sơ đồ.",
        "mon_points": "Các điểm đáng chú ý", "mon_tour": "Tham quan có hướng dẫn", "mon_play": "Phát",
        "mon_point_item": "Đọc văn bản (chữ Hán, âm Hán Việt)",
        "mon_pause": "Tạm dừng", "mon_next_stop": "Điểm sau", "mon_prev_stop": "Điểm trước",
        "mon_stop": "Điểm dừng {n}/{total}", "mon_ar": "Xem trong không gian thực (AR)",
        "mon_related": "Tài liệu nói về di tích", "mon_linked": "Do người phụ trách chọn",
        "mon_found": "Tìm thấy trong văn bản", "mon_no_related": "Chưa có tài liệu nào nói về di tích này.",
        "mon_search_offline": "Tìm kiếm đang tạm ngừng; chỉ hiện các tài liệu do người phụ trách chọn.",
        "mon_no_model": "Mô hình 3D của di tích này đang được dựng.", "mon_address": "Địa chỉ",
        "mon_period": "Thời kỳ", "mon_rank": "Xếp hạng", "mon_model_help": "Kéo để xoay, chụm hai ngón để phóng to.",
        "mon_start": "Xem mô hình 3D", "mon_start_failed": "Chưa tải được trình xem 3D. Bấm để thử lại.",
        "rank_special_national": "Di tích quốc gia đặc biệt", "rank_national": "Di tích quốc gia",
        "rank_city": "Di tích cấp thành phố", "rank_none": "Chưa xếp hạng",
        "mon_walk": "Đi bộ theo tour", "mon_walk_stop": "Dừng đi bộ", "mon_walk_waiting": "Đang lấy vị trí của bạn…",
        "mon_walk_to": "Điểm tiếp theo: {name}, cách {distance} về hướng {direction}.",
        "mon_walk_arrived": "Bạn đã đến: {name}.", "mon_walk_end": "Hết tour.",
        "mon_walk_stopped": "Đã dừng đi bộ theo tour.",
        "mon_walk_error": "Không lấy được vị trí: {reason}",
        "mon_walk_denied": "bạn chưa cho phép trang này dùng vị trí của máy.",
        "mon_walk_unavailable": "máy chưa xác định được vị trí.", "mon_walk_timeout": "chờ vị trí quá lâu.",
        "mon_walk_unsupported": "trình duyệt này không chia sẻ vị trí.",
        "mon_walk_compass": "bắc|đông bắc|đông|đông nam|nam|tây nam|tây|tây bắc", "mon_walk_decimal": ",",
        "mon_walk_help": "Trang chỉ hỏi vị trí của máy khi bạn bấm nút, và không gửi vị trí đi đâu.",
    },
    en={
        "mon_map": "Map of monuments", "mon_model_alt": "3D model of {name} ({title}).",
        "mon_model_alt_points": "Its points of interest are listed as text below.", "mon_open": "Open the monument",
        "mon_plan": "Site plan", "mon_plan_north": "N",
        "mon_plan_note": "Drawn from the monuments' coordinates, without a base map; north is up.",
        "mon_plan_page": "The plan shows only this page's monuments; the others are on the other pages.",
        "mon_plan_unplaced": "Monuments without coordinates, not on the plan: {n}.",
        "mon_points": "Points of interest", "mon_tour": "Guided tour",
        "mon_point_item": "Read its text (Hán script, Sino-Vietnamese reading)",
        "mon_play": "Play", "mon_pause": "Pause", "mon_next_stop": "Next stop", "mon_prev_stop": "Previous stop",
        "mon_stop": "Stop {n} of {total}", "mon_ar": "View in your space (AR)",
        "mon_related": "Library items about this monument", "mon_linked": "Chosen by the curator",
        "mon_found": "Found in the text", "mon_no_related": "No library item speaks of this monument yet.",
        "mon_search_offline": "Search is unavailable right now; only the items the curator chose are shown.",
        "mon_no_model": "The 3D model of this monument is being built.", "mon_address": "Address",
        "mon_period": "Period", "mon_rank": "Heritage rank", "mon_model_help": "Drag to turn, pinch to zoom.",
        "mon_start": "View in 3D", "mon_start_failed": "The 3D viewer could not be loaded. Press to try again.",
        "rank_special_national": "Special national monument", "rank_national": "National monument",
        "rank_city": "City-level monument", "rank_none": "Not ranked",
        "mon_walk": "Walk this tour", "mon_walk_stop": "Stop walking", "mon_walk_waiting": "Finding your position…",
        "mon_walk_to": "Next stop: {name}, {distance} to the {direction}.",
        "mon_walk_arrived": "You have arrived: {name}.", "mon_walk_end": "End of the tour.",
        "mon_walk_stopped": "You stopped walking the tour.",
        "mon_walk_error": "Your position is not available: {reason}",
        "mon_walk_denied": "this page was not allowed to use the phone's position.",
        "mon_walk_unavailable": "the phone could not tell where it is.", "mon_walk_timeout": "it took too long.",
        "mon_walk_unsupported": "this browser does not share its position.",
        "mon_walk_compass": "north|north-east|east|south-east|south|south-west|west|north-west", "mon_walk_decimal": ".",
        "mon_walk_help": "The page asks for the phone's position only when you press the button, and sends it nowhere.",
    },
)


def _platform():
    return current_app.extensions["heritage"]


def in_lang(obj, field: str, lang: str) -> str | None:
    """A field in the reader's language, falling back to the Vietnamese one (``label`` → ``label_en``/``label_vi``)."""
    if lang == "en":
        value = getattr(obj, f"{field}_en", None)
        if value:
            return value
    return getattr(obj, f"{field}_vi", None)


def num(value: float) -> str:
    """A number for a model-viewer attribute: short, no exponent for ordinary sizes."""
    text = f"{float(value):.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def map_settings() -> tuple[str, str]:
    settings = _platform().settings
    return settings.map_tiles.strip(), settings.map_attribution.strip()


def tile_origin(template: str) -> str | None:
    """The origin a tile URL template fetches from, as a CSP source (``{s}`` subdomains become ``*``)."""
    parts = urlsplit(template.replace("{s}", "tiles-subdomain"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.netloc.replace("tiles-subdomain", "*")
    return f"{parts.scheme}://{host}"


def _page_arg() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) <= 10_000 else 1


@bp.get("/monuments")
def index():
    tiles, attribution = map_settings()
    origin = tile_origin(tiles) if tiles else None
    page = _page_arg()
    monuments, more = _platform().monuments.monuments_page(page)
    lang = current_lang()
    # no tile server: a plan of this page's monuments drawn by the server (web/site_plan.py), no Leaflet
    plan = None if origin else site_plan([
        Place(in_lang(m, "name", lang), url_for("monuments.monument", slug=m.slug, lang=lang), m.lat, m.lon)
        for m in monuments])
    html = render_template("monuments.html", t=words(), lang=lang, monuments=monuments,
                           page=page, more=more, plan=plan,
                           tiles=tiles if origin else "", attribution=attribution, in_lang=in_lang,
                           mapped=[m for m in monuments if m.lat is not None and m.lon is not None])
    resp = make_response(html)
    if origin:  # the tile server is the one other place this page may load images from
        resp.headers["Content-Security-Policy"] = CSP.replace("img-src 'self'", f"img-src 'self' {origin}", 1)
    return resp


@bp.get("/monuments/<slug>")
def monument(slug: str):
    p = _platform()
    try:
        m = p.monuments.by_slug(slug)
    except NotFound:
        abort(404)
    models = p.monuments.published(m.id)
    guides = p.guides.guides(model.model_id for model in models)
    from web.viewer import current_actor

    # the items points of interest open (a stele's inscription), those the reader may see (library.access)
    point_items = guard.visible_item_ids([pt.item_id for g in guides.values() for pt in g.points if pt.item_id])
    return render_template("monument.html", t=words(), lang=current_lang(), m=m, models=models, guides=guides,
                           point_items=point_items,
                           related=visible_related(p.guides.related_items(m.id, actor=current_actor())),
                           in_lang=in_lang, num=num, placed=placed,
                           walkable=any(placed(tour) for g in guides.values() for tour in g.tours),
                           highlight=highlight, download=download_size)


def download_size(model, lang: str) -> str:
    """What a phone downloads to show the model (its two smallest levels, viewer.js), as "1,2 MB"."""
    size = sum(level[2] or 0 for level in model.levels[:2])
    text = f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{max(1, round(size / 1e3))} kB"
    return text.replace(".", ",") if lang == "vi" else text


def placed(tour) -> list:
    """The stops of a tour that have a place on the ground, in order: those a visitor can walk to."""
    return [st for st in tour.stops if st.lat is not None and st.lon is not None]


def visible_related(related):
    """The monument's linked and found items without those the reader may not see (library.access)."""
    visible = guard.visible_item_ids([r.item_id for r in related.linked + related.found])
    return dataclasses.replace(related, linked=[r for r in related.linked if r.item_id in visible],
                               found=[r for r in related.found if r.item_id in visible])


@bp.get("/models/<int:version_id>/<name>")
def model_file(version_id: int, name: str):
    if not 0 < version_id <= MAX_ID:
        abort(404)
    path = _platform().monuments.model_file(version_id, name)
    mimetype = {"glb": "model/gltf-binary", "png": "image/png", "webp": "image/webp",
                "json": "application/json"}[name.rsplit(".", 1)[1]]
    resp = send_file(path, mimetype=mimetype, conditional=True, max_age=86400)
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


# ------------------------------------------------------------------ JSON
def _summary(m) -> dict:
    return {"id": m.id, "slug": m.slug, "name_vi": m.name_vi, "name_en": m.name_en, "lat": m.lat, "lon": m.lon,
            "address": m.address, "period": m.period, "year_start": m.year_start, "year_end": m.year_end,
            "heritage_rank": m.heritage_rank.value,
            "url": url_for("monuments.monument", slug=m.slug, _external=True),
            "api": url_for("monuments_api.monument_json", slug=m.slug, _external=True)}


def _point(p, visible: set[int]) -> dict:
    """A point of interest; ``item``: the library item it opens (a stele's inscription), when the reader may
    see it (``visible``: the item ids that pass library.access)."""
    opens = ({"item_id": p.item_id, "url": url_for("reader.page", item_id=p.item_id, sequence=1, _external=True)}
             if p.item_id in visible else None)
    return {"id": p.id, "sequence": p.sequence, "position": [p.x, p.y, p.z],
            "normal": [p.normal_x, p.normal_y, p.normal_z], "label_vi": p.label_vi, "label_en": p.label_en,
            "text_vi": p.text_vi, "text_en": p.text_en, "item": opens}


def _tour(tour) -> dict:
    return {"id": tour.id, "title_vi": tour.title_vi, "title_en": tour.title_en,
            "stops": [{"id": st.id, "sequence": st.sequence, "poi_id": st.poi_id,
                       "orbit": {"theta_deg": st.orbit_theta_deg, "phi_deg": st.orbit_phi_deg,
                                 "radius_m": st.orbit_radius_m},
                       "target": [st.target_x, st.target_y, st.target_z], "field_of_view_deg": st.field_of_view_deg,
                       "caption_vi": st.caption_vi, "caption_en": st.caption_en, "dwell_s": st.dwell_s,
                       "lat": st.lat, "lon": st.lon}
                      for st in tour.stops]}


@api_bp.get("/monuments")
def monuments_json():
    """The monuments by name, 100 a page (``?page=``); ``next`` is the next page's URL (None at the end)."""
    page = _page_arg()
    monuments, more = _platform().monuments.monuments_page(page)
    return jsonify(monuments=[_summary(m) for m in monuments], page=page,
                   next=url_for("monuments_api.monuments_json", page=page + 1, _external=True) if more else None)


@api_bp.get("/monuments/<slug>")
def monument_json(slug: str):
    """A monument with its published models (levels smallest first), their points of interest and tours,
    and the library items that speak of it."""
    p = _platform()
    m = p.monuments.by_slug(slug)  # NotFound → 404 JSON
    models = p.monuments.published(m.id)
    guides = p.guides.guides(model.model_id for model in models)
    from web.viewer import current_actor

    related = visible_related(p.guides.related_items(m.id, actor=current_actor()))
    point_items = guard.visible_item_ids([pt.item_id for g in guides.values() for pt in g.points if pt.item_id])
    body = _summary(m)
    body.update(description_vi=m.description_vi, description_en=m.description_en, models=[{
        "model_id": model.model_id, "title": model.title, "licence": model.licence, "version_id": model.version_id,
        "version": model.version,
        "thumbnail": url_for("monuments.model_file", version_id=model.version_id, name=model.thumbnail,
                             _external=True) if model.thumbnail else None,
        "levels": [{"name": name, "bytes": size,
                    "url": url_for("monuments.model_file", version_id=model.version_id, name=file, _external=True)}
                   for name, file, size in model.levels],
        "points": [_point(pt, point_items) for pt in guides[model.model_id].points],
        "tours": [_tour(tour) for tour in guides[model.model_id].tours],
    } for model in models])

    def item(r, how: str) -> dict:
        return {"item_id": r.item_id, "title": r.title, "page": r.page_sequence, "note": r.note, "how": how,
                "snippet": r.snippet.text if r.snippet is not None else None,
                "url": (url_for("reader.page", item_id=r.item_id, sequence=r.page_sequence, _external=True)
                        if r.page_sequence else item_page_url(r.item_id, external=True))}

    body.update(items=[item(r, "linked") for r in related.linked] + [item(r, "found") for r in related.found],
                search_offline=related.search_offline)
    return jsonify(body)
