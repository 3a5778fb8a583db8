"""The curator's pages: monuments, build sources and the builds' stages, points of interest, tours
and linked items, through the real forms (CSRF tokens, sign-in); every route refused to every role
without it, refusals explained in the user's language, nothing half-saved."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from library.access import Actor
from library.catalogue.models import BuildStatus, ModelVersion, PointOfInterest, TourStop
from tests.library.test_monuments import point_cloud
from tests.web.test_monument_pages import add_pages
from tests.web.test_portal import csrf_of, sign_in
from tests.web.staff_accounts import ACCOUNTS, staffed_app

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)


CURATOR_ROUTES = [  # every route of the curator's blueprint
    ("get", "/staff/monuments"), ("get", "/staff/monuments/new"), ("post", "/staff/monuments/new"),
    ("get", "/staff/monuments/1"), ("post", "/staff/monuments/1"), ("post", "/staff/monuments/1/builds"),
    ("post", "/staff/monuments/1/items"), ("post", "/staff/monuments/1/items/1/delete"),
    ("get", "/staff/monuments/1/models/1"), ("post", "/staff/monuments/1/models/1"),
    ("post", "/staff/monuments/1/models/1/inscription"),
    ("post", "/staff/monuments/1/points/1"), ("post", "/staff/monuments/1/points/1/delete"),
    ("post", "/staff/monuments/1/models/1/tours"), ("get", "/staff/monuments/1/tours/1"),
    ("post", "/staff/monuments/1/tours/1"), ("post", "/staff/monuments/1/tours/1/delete"),
    ("post", "/staff/monuments/1/tours/1/stops"), ("post", "/staff/monuments/1/stops/1"),
    ("post", "/staff/monuments/1/stops/1/move"), ("post", "/staff/monuments/1/stops/1/delete"),
]
ALLOWED = {"curator", "admin"}


@pytest.fixture
def app(settings):
    yield from staffed_app(settings)


def curator(app, role="curator"):
    client = app.test_client()
    assert sign_in(client, *ACCOUNTS[role]).status_code == 302
    return client


def post(client, path, data=None, **kwargs):
    token = csrf_of(client.get("/staff/login").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **(data or {})}, **kwargs)


def alert(html: str) -> str:
    m = re.search(r'role="alert">([^<]*)<', html)
    return m.group(1) if m else ""


def test_every_curator_route_is_listed_here(app):
    rules = {(m.lower(), re.sub(r"<int:\w+>", "1", r.rule)) for r in app.url_map.iter_rules()
             if r.endpoint.startswith("curator.") for m in r.methods - {"HEAD", "OPTIONS"}}
    assert rules == set(CURATOR_ROUTES)


@pytest.mark.parametrize("role", ["anonymous", "librarian", "archivist", "curator", "admin"])
def test_every_curator_route_refuses_every_role_without_it(app, role):
    p = app.extensions["heritage"]
    m = p.monuments.create_monument(name_vi="Văn Miếu", actor=SYSTEM)
    client = app.test_client()
    if role != "anonymous":
        sign_in(client, *ACCOUNTS[role])
    for method, path in CURATOR_ROUTES:
        r = post(client, path) if method == "post" else client.get(path)
        if role == "anonymous":
            assert r.status_code == 302 and "/staff/login" in r.headers["Location"], (method, path)
        elif role in ALLOWED:
            assert r.status_code != 403, (role, method, path, r.status_code)
        else:
            assert r.status_code == 403, (role, method, path, r.status_code)
            assert "Tài khoản của bạn không có quyền này." in r.get_data(as_text=True)
    assert p.monuments.monument(m.id).name_vi == "Văn Miếu"  # no refused request changed anything
    with p.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ModelVersion)) == 0


def test_a_curator_creates_and_edits_a_monument(app):
    client = curator(app)
    p = app.extensions["heritage"]
    assert "Thêm di tích" in client.get("/staff/monuments").get_data(as_text=True)
    assert client.post("/staff/monuments/new", data={"name_vi": "Chùa Một Cột"}).status_code == 400  # no CSRF token
    form = {"name_vi": "Chùa Một Cột", "name_en": "One Pillar Pagoda", "description_vi": "Dựng năm 1049.\nThời Lý.",
            "address": "Phố Chùa Một Cột, Ba Đình", "lat": "21,0359", "lon": "105.8336", "period": "nhà Lý",
            "year_start": "1049", "heritage_rank": "special_national"}
    r = post(client, "/staff/monuments/new", form)
    assert r.status_code == 302
    m = p.monuments.by_slug("chua-mot-cot")
    assert (m.name_en, m.lat, m.year_start, m.heritage_rank.value) == ("One Pillar Pagoda", 21.0359, 1049,
                                                                       "special_national")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Đã thêm di tích “Chùa Một Cột”." in page and 'value="One Pillar Pagoda"' in page

    again = post(client, "/staff/monuments/new", form)
    assert again.status_code == 409 and "Đã có di tích mang tên này." in again.get_data(as_text=True)
    bad = post(client, "/staff/monuments/new", dict(form, name_vi="Đền Quán Thánh", lat="hai mốt"))
    assert bad.status_code == 422 and alert(bad.get_data(as_text=True)) == "Không nhận: Vĩ độ (WGS 84): phải là một số"
    assert 'value="Đền Quán Thánh"' in bad.get_data(as_text=True)  # what was typed stays in the form
    ok = post(client, "/staff/monuments/new?lang=en", dict(form, name_vi="Đền Quán Thánh", lat="", lon=""))
    assert ok.status_code == 302 and p.monuments.by_slug("den-quan-thanh").lat is None  # no coordinates is fine
    bad = post(client, "/staff/monuments/new?lang=en", dict(form, name_vi="<b>Đền</b>"))
    assert bad.status_code == 422 and alert(bad.get_data(as_text=True)).startswith("Not accepted: monument: name_vi")

    edited = post(client, f"/staff/monuments/{m.id}", dict(form, name_en="The One Pillar Pagoda", lat="21.036"))
    assert edited.status_code == 302
    assert p.monuments.monument(m.id).name_en == "The One Pillar Pagoda" and p.monuments.monument(m.id).lat == 21.036
    refused = post(client, f"/staff/monuments/{m.id}", dict(form, lat="95", lon="105"))
    assert refused.status_code == 422 and "WGS 84" in alert(refused.get_data(as_text=True))
    assert p.monuments.monument(m.id).lat == 21.036
    assert client.get("/staff/monuments/999999").status_code == 404
    listing = client.get("/staff/monuments").get_data(as_text=True)
    assert "Chùa Một Cột" in listing and "Đền Quán Thánh" in listing


def test_build_sources_are_sent_and_the_builds_stages_shown(app, tmp_path):
    client = curator(app, "admin")
    p = app.extensions["heritage"]
    m = p.monuments.create_monument(name_vi="Khuê Văn Các", actor=SYSTEM)
    cloud = point_cloud(tmp_path / "gac.xyz")
    with open(cloud, "rb") as f:
        r = post(client, f"/staff/monuments/{m.id}/builds", {"files": (f, "gác khuê văn.xyz"), "title": "Gác",
                                                              "licence": "CC BY 4.0"},
                 content_type="multipart/form-data")
    assert r.status_code == 302 and r.headers["Location"].endswith("#builds")
    (model,) = p.monuments.models(m.id)
    (version,) = model.versions
    assert (model.title, model.licence, version.status, version.input_kind) == ("Gác", "CC BY 4.0", BuildStatus.queued,
                                                                                 "point_cloud")
    html = client.get(f"/staff/monuments/{m.id}").get_data(as_text=True)
    assert "Đã gửi bản dựng" in html and f'id="build-{version.id}" data-status="queued"' in html
    assert 'href="/staff/?lang=vi"' in html  # the live dashboard, with cancel and retry, is linked
    assert p.monuments.build(version.id) == BuildStatus.done
    html = client.get(f"/staff/monuments/{m.id}").get_data(as_text=True)
    assert f'id="build-{version.id}" data-status="done"' in html and 'value="1.0"' in html

    jpg = tmp_path / "a.jpg"  # a damaged photo, and too few anyway: refused with the reason, nothing stored
    jpg.write_bytes(b"\xff\xd8\xff\xe0 not really a photo")
    with open(jpg, "rb") as g:
        bad = post(client, f"/staff/monuments/{m.id}/builds", {"files": [(g, "a.jpg")]},
                   content_type="multipart/form-data")
    assert bad.status_code == 422 and "Không nhận tệp nguồn" in alert(bad.get_data(as_text=True))
    nothing = post(client, f"/staff/monuments/{m.id}/builds", {}, content_type="multipart/form-data")
    assert nothing.status_code == 422 and "choose at least one source file" in nothing.get_data(as_text=True)
    with open(cloud, "rb") as f:
        half = post(client, f"/staff/monuments/{m.id}/builds", {"files": (f, "gac.xyz"), "known_a": "a.jpg"},
                    content_type="multipart/form-data")
    assert half.status_code == 422 and "known_distance" in half.get_data(as_text=True)
    assert len(p.monuments.models(m.id)[0].versions) == 1


def test_points_of_interest_through_the_forms(app, tmp_path):
    from library.monuments.service import BuildSource

    client = curator(app)
    p = app.extensions["heritage"]
    m = p.monuments.create_monument(name_vi="Khuê Văn Các", actor=SYSTEM)
    other = p.monuments.create_monument(name_vi="Chùa Một Cột", actor=SYSTEM)
    v = p.monuments.submit_build(m.id, [BuildSource(point_cloud(tmp_path / "gac.xyz"), "gac.xyz")], title="Gác", actor=SYSTEM)
    p.monuments.build(v.id)
    model_id = p.monuments.published(m.id)[0].model_id
    base = f"/staff/monuments/{m.id}/models/{model_id}"
    page = client.get(base).get_data(as_text=True)
    assert 'id="curator-viewer"' in page and 'data-form="new-point"' in page and "/static/curator.js" in page

    point = {"label_vi": "Cửa sổ tròn", "label_en": "Round window", "text_vi": "Sao Khuê", "position_x": "0",
             "position_y": "0,5", "position_z": "1", "normal_x": "0", "normal_y": "0", "normal_z": "2"}
    assert post(client, base, point).status_code == 302
    (poi,) = p.guides.points(model_id)
    assert (poi.y, poi.normal_z, poi.label_en) == (0.5, 1.0, "Round window")
    page = client.get(base).get_data(as_text=True)
    assert f'slot="hotspot-poi-{poi.id}"' in page and "1. Cửa sổ tròn / Round window" in page

    for data, message in [
        (dict(point, label_vi="<script>alert(1)</script>"), "Không nhận: Nhãn (tiếng Việt): không hợp lệ"),
        (dict(point, position_y=""), "Không nhận: Vị trí trên mô hình (x, y, z mét) (y): cần điền"),
        (dict(point, position_z="1e9"), "Không nhận: Vị trí trên mô hình (x, y, z mét) (z): phải nằm trong khoảng"),
        (dict(point, normal_x="0", normal_z="0"), "Không nhận: Pháp tuyến bề mặt (x, y, z): pháp tuyến không được"),
        (dict(point, label_vi=""), "Không nhận: Nhãn (tiếng Việt): cần điền"),
    ]:
        r = post(client, base, data)
        assert r.status_code == 422 and alert(r.get_data(as_text=True)).startswith(message), (data, alert(r.get_data(as_text=True)))
    r = post(client, base + "?lang=en", dict(point, position_x="abc"))
    assert alert(r.get_data(as_text=True)) == "Not accepted: Position on the model (x, y, z metres) (x): must be a number"
    assert 'name="position_x" aria-label="Position on the model (x, y, z metres) x"' in r.get_data(as_text=True)
    r = post(client, base, dict(point, label_en="<script>alert(1)</script>"))
    html = r.get_data(as_text=True)  # the refused value is shown back, as text
    assert r.status_code == 422 and 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in html and "<script>alert" not in html
    assert len(p.guides.points(model_id)) == 1  # nothing half-saved

    r = post(client, f"/staff/monuments/{m.id}/points/{poi.id}", dict(point, label_vi="Cửa sổ", sequence="4"))
    assert r.status_code == 302 and p.guides.point(poi.id).label_vi == "Cửa sổ" and p.guides.point(poi.id).sequence == 4
    # a point reached through another monument's address does not exist there
    assert post(client, f"/staff/monuments/{other.id}/points/{poi.id}", point).status_code == 404
    assert post(client, f"/staff/monuments/{other.id}/points/{poi.id}/delete").status_code == 404
    assert client.get(f"/staff/monuments/{other.id}/models/{model_id}").status_code == 404
    assert post(client, f"/staff/monuments/{m.id}/points/{poi.id}/delete").status_code == 302
    with p.sessions() as s:
        assert s.scalar(select(func.count()).select_from(PointOfInterest)) == 0


def test_tours_through_the_forms(app):
    from library.catalogue.models import MonumentModel

    client = curator(app)
    p = app.extensions["heritage"]
    m = p.monuments.create_monument(name_vi="Khuê Văn Các", actor=SYSTEM)
    with p.sessions.begin() as s:
        model = MonumentModel(monument_id=m.id, title="Gác")
        s.add(model)
        s.flush()
        model_id = model.id
    poi = p.guides.add_point(model_id, position=(0, 1, 0), label_vi="Đỉnh gác", actor=SYSTEM)
    page = client.get(f"/staff/monuments/{m.id}/models/{model_id}").get_data(as_text=True)
    assert "Mô hình chưa có bản dựng xong" in page  # no viewer yet: coordinates are typed in

    r = post(client, f"/staff/monuments/{m.id}/models/{model_id}/tours", {"title_vi": "Quanh gác", "title_en": "Around"})
    assert r.status_code == 302
    (tour,) = p.guides.tours(model_id)
    tour_url = f"/staff/monuments/{m.id}/tours/{tour.id}"
    assert r.headers["Location"].endswith(tour_url)
    stop = {"poi_id": str(poi.id), "orbit_theta_deg": "30", "orbit_phi_deg": "60", "orbit_radius_m": "4",
            "caption_vi": "Mái gác", "dwell_s": "5"}
    assert post(client, tour_url + "/stops", stop).status_code == 302
    assert post(client, tour_url + "/stops", dict(stop, poi_id="", target_x="0", target_y="0", target_z="0.5",
                                                  caption_vi="Chân gác", field_of_view_deg="45")).status_code == 302
    first, second = p.guides.tour(tour.id).stops
    assert (first.target_y, first.dwell_s, first.field_of_view_deg) == (1.0, 5.0, 30.0)
    assert (second.target_z, second.field_of_view_deg, second.poi_id) == (0.5, 45.0, None)

    for data, message in [
        (dict(stop, orbit_radius_m=""), "Không nhận: Góc nhìn: phương vị θ (độ), góc cực φ (độ), khoảng cách (mét): cần điền"),
        (dict(stop, poi_id="", caption_vi="x"), "Không nhận: Điểm nhìn vào"),
        (dict(stop, orbit_phi_deg="200"), "Không nhận: Góc nhìn: phương vị θ (độ), góc cực φ (độ), khoảng cách (mét): phải nằm trong khoảng 0 … 180"),
        (dict(stop, field_of_view_deg="2"), "Không nhận: Góc nhìn (độ): phải nằm trong khoảng 10 … 90"),
        (dict(stop, poi_id="99999"), "Không nhận: Điểm đáng chú ý: điểm này không thuộc mô hình"),
    ]:
        r = post(client, tour_url + "/stops", data)
        assert r.status_code == 422 and alert(r.get_data(as_text=True)).startswith(message), alert(r.get_data(as_text=True))
    assert len(p.guides.tour(tour.id).stops) == 2

    assert post(client, f"/staff/monuments/{m.id}/stops/{second.id}/move", {"step": "up"}).status_code == 302
    assert [s.id for s in p.guides.tour(tour.id).stops] == [second.id, first.id]
    r = post(client, f"/staff/monuments/{m.id}/stops/{first.id}", dict(stop, caption_en="The roof", orbit_theta_deg="-45"))
    assert r.status_code == 302 and p.guides.stop(first.id).orbit_theta_deg == -45.0
    page = client.get(tour_url).get_data(as_text=True)
    assert "Quanh gác" in page and "Mái gác" in page and "Chân gác" in page
    assert post(client, tour_url, {"title_vi": "", "title_en": "x"}).status_code == 422
    assert post(client, tour_url, {"title_vi": "Vòng quanh gác"}).status_code == 302
    assert p.guides.tour(tour.id).title_vi == "Vòng quanh gác"

    public = app.test_client().get(f"/monuments/{m.slug}").get_data(as_text=True)
    assert "Vòng quanh gác" not in public  # a model without a finished build shows no tour yet
    assert post(client, f"/staff/monuments/{m.id}/stops/{second.id}/delete").status_code == 302
    assert post(client, tour_url + "/delete").status_code == 302
    with p.sessions() as s:
        assert s.scalar(select(func.count()).select_from(TourStop)) == 0


def test_items_are_linked_to_a_monument(app):
    client = curator(app)
    p = app.extensions["heritage"]
    m = p.monuments.create_monument(name_vi="Khuê Văn Các", actor=SYSTEM)
    item_id = add_pages(app, "Hà Nội xưa", ["Gác Khuê Văn.", "Giếng Thiên Quang."])
    url = f"/staff/monuments/{m.id}/items"
    r = post(client, url, {"item_id": str(item_id), "page": "2", "note": "Ảnh giếng & gác"})
    assert r.status_code == 302 and r.headers["Location"].endswith("#items")
    html = client.get(f"/staff/monuments/{m.id}").get_data(as_text=True)
    assert f'href="/items/{item_id}/pages/2?lang=vi">Hà Nội xưa</a>' in html and "Ảnh giếng &amp; gác" in html
    for data, message in [({"item_id": "999999"}, "Không nhận: Số tài liệu: không có tài liệu số 999999"),
                          ({"item_id": str(item_id), "page": "7"}, f"Không nhận: Trang (tuỳ chọn): tài liệu {item_id} không có trang 7"),
                          ({"item_id": "mười"}, "Không nhận: Số tài liệu: phải là một số"),
                          ({"item_id": ""}, "Không nhận: Số tài liệu: cần điền")]:
        r = post(client, url, data)
        assert r.status_code == 422 and alert(r.get_data(as_text=True)) == message
    (link,) = p.guides.linked_items(m.id)
    other = p.monuments.create_monument(name_vi="Chùa Một Cột", actor=SYSTEM)
    assert post(client, f"/staff/monuments/{other.id}/items/{link.link_id}/delete").status_code == 404
    assert post(client, f"/staff/monuments/{m.id}/items/{link.link_id}/delete").status_code == 302
    assert p.guides.linked_items(m.id) == []


def test_numbers_too_large_for_the_catalogue_are_not_found(app):
    client = curator(app)
    m = app.extensions["heritage"].monuments.create_monument(name_vi="Khuê Văn Các", actor=SYSTEM)
    huge = 2**40
    assert client.get(f"/staff/monuments/{huge}").status_code == 404
    assert client.get(f"/staff/monuments/{m.id}/models/{huge}").status_code == 404
    assert post(client, f"/staff/monuments/{m.id}/items/{huge}/delete").status_code == 404
    assert post(client, f"/staff/monuments/{m.id}/stops/{huge}/move").status_code == 404
    r = post(client, f"/staff/monuments/{m.id}/items", {"item_id": str(huge)})
    assert r.status_code == 422 and alert(r.get_data(as_text=True)) == f"Không nhận: Số tài liệu: không có tài liệu số {huge}"


def test_the_curators_pages_are_in_the_navigation_of_curators_only(app):
    link = 'href="/staff/monuments?lang=vi"'
    assert link in curator(app).get("/monuments").get_data(as_text=True)
    assert link in curator(app, "admin").get("/monuments").get_data(as_text=True)
    assert link not in curator(app, "librarian").get("/monuments").get_data(as_text=True)
    assert link not in app.test_client().get("/monuments").get_data(as_text=True)


def test_a_curator_marks_a_stele_face_and_publishes_its_inscription(app, tmp_path):
    """The model page's inscription form (#14): three corners (typed here as the clicks on the model would
    fill them), a title and a point of interest; the item is made and linked; a face off the model is
    refused with the reason, in the curator's language, storing nothing."""
    from library.catalogue.models import Item
    from tests.library.test_inscriptions import published_stele

    p = app.extensions["heritage"]
    m, model, corners = published_stele(p, tmp_path)
    point = p.guides.add_point(model.model_id, position=corners[0], label_vi="Bia 1442", actor=SYSTEM)
    client = curator(app)
    page = client.get(f"/staff/monuments/{m.id}/models/{model.model_id}").get_data(as_text=True)
    assert 'id="inscription-form"' in page and f'<option value="{point.id}">1. Bia 1442</option>' in page
    fields = {f"corner_{k}_{axis}": str(value) for k, corner in zip(("ll", "lr", "ul"), corners)
              for axis, value in zip("xyz", corner)}
    with p.sessions() as s:
        before = s.scalar(select(func.count()).select_from(Item))
    off = dict(fields, corner_ll_x=str(corners[0][0] + 5), corner_lr_x=str(corners[1][0] + 5),
               corner_ul_x=str(corners[2][0] + 5))
    refused = post(client, f"/staff/monuments/{m.id}/models/{model.model_id}/inscription",
                   data=dict(off, title="Bia tiến sĩ 1442", px_per_unit="200", point_id=str(point.id)))
    assert refused.status_code == 422
    assert alert(refused.get_data(as_text=True)) == ("Không nhận: Mặt bia: chỉ 0% mặt đã đánh dấu nằm trên bề mặt mô "
                                                     "hình: hãy bấm các góc ngay trên mặt đá")
    with p.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Item)) == before
    done = post(client, f"/staff/monuments/{m.id}/models/{model.model_id}/inscription",
                data=dict(fields, title="Bia tiến sĩ 1442", px_per_unit="200", point_id=str(point.id)))
    assert done.status_code == 302 and done.headers["Location"].endswith("#inscription")
    item_id = p.guides.point(point.id).item_id
    assert item_id and [r.item_id for r in p.guides.linked_items(m.id)] == [item_id]
    shown = client.get(done.headers["Location"]).get_data(as_text=True)
    assert f"tài liệu {item_id} (152×264 điểm ảnh)" in shown
