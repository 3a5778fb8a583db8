"""A curator marks a stele's face on the model in the browser (#14): with a corner chosen, a click on the
model (Debian's chromium, model-viewer drawing through SwiftShader) fills that corner with the point under
the pointer and chooses the next corner; three clicks and a title publish the face as an item, which the
monument's page then opens from its point of interest."""

from __future__ import annotations

import pytest

from library.access import Actor
from library.container import build_platform
from tests.conftest import make_settings
from tests.e2e.browser import browser, need_chromium, serving, shot, sign_in, wait_until
from tests.library.test_inscriptions import published_stele

SYSTEM = Actor.system("tests")

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_three_clicks_on_the_model_mark_the_face_and_publish_it(tmp_path):
    from selenium.webdriver.common.by import By

    need_chromium()
    settings = make_settings(tmp_path / "data")
    p = build_platform(settings)
    m, model, corners = published_stele(p, tmp_path)
    point = p.guides.add_point(model.model_id, position=corners[0], label_vi="Bia tiến sĩ 1442", actor=SYSTEM)
    p.users.create(SYSTEM, "bao.tang", "mat-khau-dai-lam", "curator")
    p.close()
    z_face = corners[0][2]
    with serving(settings, tmp_path) as url:
        d = browser(tmp_path, 1000, 1400)
        try:
            sign_in(d, url, "bao.tang", "mat-khau-dai-lam")
            d.get(f"{url}/staff/monuments/{m.id}/models/{model.model_id}")
            viewer = d.find_element(By.ID, "curator-viewer")
            wait_until(lambda: d.execute_script("return arguments[0].loaded === true", viewer), timeout_s=60,
                       what="the model drawn")
            d.execute_script("arguments[0].scrollIntoView({block: 'center'})", viewer)
            form = d.find_element(By.ID, "inscription-form")
            d.execute_script("arguments[0].checked = true",
                             form.find_element(By.CSS_SELECTOR, "input[name=corner_target][value=ll]"))
            box = d.execute_script("const b = arguments[0].getBoundingClientRect(); "
                                   "return [b.left, b.top, b.width, b.height];", viewer)
            clicks = ((0.42, 0.62), (0.58, 0.62), (0.42, 0.38))  # of the viewer: inside the face
            seen = []

            def still():  # the face under every click, and the camera at rest (as a person sees before clicking)
                points = d.execute_script(
                    "const v = arguments[0]; return arguments[1].map(([x, y]) => {"
                    " const h = v.positionAndNormalFromPoint(x, y);"
                    " return h ? [h.position.x, h.position.y, h.position.z] : null; });",
                    viewer, [[box[0] + fx * box[2], box[1] + fy * box[3]] for fx, fy in clicks])
                seen.append(points)
                return (None not in points and len(seen) > 1 and None not in seen[-2]
                        and all(abs(a - b) < 1e-4 for p, q in zip(points, seen[-2]) for a, b in zip(p, q)))

            wait_until(still, timeout_s=60, what="the model at rest under the pointer")
            for fx, fy in clicks:
                x, y = box[0] + fx * box[2], box[1] + fy * box[3]
                for kind in ("mousePressed", "mouseReleased"):  # a click where a person would click
                    d.execute_cdp_cmd("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left",
                                                                   "clickCount": 1})
            names = [f"corner_{k}_{a}" for k in ("ll", "lr", "ul") for a in "xyz"]
            wait_until(lambda: all(form.find_element(By.NAME, n).get_attribute("value") for n in names),
                       timeout_s=10, what="the three corners filled")
            values = {name: form.find_element(By.NAME, name).get_attribute("value") for name in names}
            assert all(values.values()), values  # every corner filled by a click
            assert all(abs(float(values[f"corner_{k}_z"]) - z_face) < 0.02 for k in ("ll", "lr", "ul"))
            assert float(values["corner_lr_x"]) > float(values["corner_ll_x"])  # right of the first click
            assert float(values["corner_ul_y"]) > float(values["corner_ll_y"])  # above it
            assert form.find_element(By.CSS_SELECTOR, "input[name=corner_target][value='']").is_selected()
            # a click now places a new point again (the point form), not a corner
            form.find_element(By.NAME, "title").send_keys("Bia tiến sĩ khoa Nhâm Tuất")
            form.find_element(By.NAME, "px_per_unit").clear()
            form.find_element(By.NAME, "px_per_unit").send_keys("300")
            d.execute_script("arguments[0].value = arguments[1]", form.find_element(By.NAME, "point_id"), str(point.id))
            d.execute_script("arguments[0].requestSubmit()", form)
            wait_until(lambda: "Đã công bố: tài liệu" in d.page_source, timeout_s=60, what="published")
            shot(d, "inscription-published")
            d.get(f"{url}/monuments/{m.slug}?lang=vi")
            link = d.find_element(By.CSS_SELECTOR, "a.point-item")
            assert link.get_attribute("textContent") == "Đọc văn bản (chữ Hán, âm Hán Việt)"
        finally:
            d.quit()
