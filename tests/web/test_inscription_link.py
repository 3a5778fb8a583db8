"""The tourist at a stele opens its inscription: a point of interest whose stele face was published from
the model (#14) links to the item's reader page on the monument page; not when the reader may not see the
item."""

from __future__ import annotations

from library.access import Actor
from tests.library.test_inscriptions import published_stele
from tests.web.test_monument_pages import app  # noqa: F401 (the portal on the test's platform, a fixture)

SYSTEM = Actor.system("tests")


def test_a_point_of_interest_opens_the_inscription_published_from_the_model(app, tmp_path):
    p = app.extensions["heritage"]
    m, model, corners = published_stele(p, tmp_path)
    point = p.guides.add_point(model.model_id, position=corners[0], label_vi="Bia tiến sĩ khoa Nhâm Tuất",
                               label_en="Stele of the 1442 examination", actor=SYSTEM)
    done = p.inscriptions.publish(m.id, model.version_id, corners, px_per_unit=200, title="Bia tiến sĩ 1442",
                                  point_id=point.id, actor=SYSTEM)
    client = app.test_client()
    html = client.get(f"/monuments/{m.slug}").get_data(as_text=True)
    link = f'<a class="point-item" href="/items/{done.item_id}/pages/1?lang=vi">Đọc văn bản (chữ Hán, âm Hán Việt)</a>'
    assert link in html
    assert f'href="/items/{done.item_id}/pages/1?lang=en">Read its text' in client.get(
        f"/monuments/{m.slug}?lang=en").get_data(as_text=True)
    assert client.get(f"/items/{done.item_id}/pages/1").status_code == 200
    api = client.get(f"/api/v1/monuments/{m.slug}").get_json()
    assert api["models"][0]["points"][0]["item"] == {"item_id": done.item_id,
                                                     "url": f"http://localhost/items/{done.item_id}/pages/1"}

    p.access_admin.set_item_access(SYSTEM, done.item_id, "staff")
    hidden = client.get(f"/monuments/{m.slug}?lang=vi").get_data(as_text=True)
    assert "point-item" not in hidden and "Bia tiến sĩ khoa Nhâm Tuất" in hidden  # the point stays, the link goes
    assert client.get(f"/api/v1/monuments/{m.slug}").get_json()["models"][0]["points"][0]["item"] is None
