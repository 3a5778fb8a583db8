"""A tourist's phone (Debian's chromium, 390×844) loses its signal at the monument: the guide, opened
once with signal, says it is saved; then the portal itself is stopped (nothing answers any more: what
no signal looks like to the phone) and the page is reloaded — the saved page comes back with its
points of interest, its tour and its 3D model drawn, and a page never opened says so in the reader's
language and lists the saved guides. Screenshots are kept in test-artifacts/."""

from __future__ import annotations

import os
import signal
import urllib.error
import urllib.request

import numpy as np
import pytest

from library.access import Actor
from library.container import build_platform
from library.monuments.service import BuildSource
from tests.conftest import make_settings
from tests.e2e.browser import browser, need_chromium, serving, shot, start_3d, wait_until
from tests.library.test_monuments import point_cloud

SYSTEM = Actor.system("tests")

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def severe_errors(d) -> list[dict]:
    return [e for e in d.get_log("browser") if e["level"] == "SEVERE"]


def model_drawn(d) -> bool:
    return bool(d.execute_script(
        "const v = document.querySelector('model-viewer'); return !!(v && v.loaded && v.modelIsVisible);"))


def test_the_guide_opened_once_works_without_signal(tmp_path):
    need_chromium()
    settings = make_settings(tmp_path / "data")
    p = build_platform(settings)
    m = p.monuments.create_monument(name_vi="Khuê Văn Các", name_en="Constellation of Literature Pavilion",
                                    lat=21.0286, lon=105.8356, actor=SYSTEM)
    v = p.monuments.submit_build(m.id, [BuildSource(point_cloud(tmp_path / "gac.xyz"), "gac.xyz")],
                                 title="Khuê Văn Các", actor=SYSTEM)
    p.monuments.build(v.id)
    model_id = p.monuments.published(m.id)[0].model_id
    top = p.guides.add_point(model_id, position=(0, 1, 0), normal=(0, 1, 0), label_vi="Đỉnh gác", label_en="Top",
                            text_vi="Mái gác hai tầng.", text_en="The two-tier roof.", actor=SYSTEM)
    tour = p.guides.add_tour(model_id, title_vi="Quanh gác", title_en="Around the pavilion", actor=SYSTEM)
    p.guides.add_stop(tour.id, poi_id=top.id, orbit=(30.0, 60.0, 3.5), target=(0.0, 1.0, 0.0),
                      field_of_view_deg=30.0, caption_vi="Đỉnh gác nhìn từ trên", dwell_s=1.5, actor=SYSTEM)
    p.close()
    with serving(settings, tmp_path, with_process=True) as (url, _port, proc):
        d = browser(tmp_path, 390, 844)
        try:
            page = f"{url}/monuments/{m.slug}?lang=vi"
            d.get(page)
            status = d.find_element("id", "offline-status")
            wait_until(lambda: status.get_attribute("data-state") == "ready", timeout_s=90, what="the guide saved")
            assert status.text == "Đã lưu hướng dẫn này để xem khi không có mạng."
            start_3d(d)  # the visitor asks for 3D once; the saved page starts it by itself from then on
            wait_until(lambda: model_drawn(d), timeout_s=90, what="the model drawn with signal")
            with_signal = shot(d, "offline-guide-1-with-signal")
            assert not severe_errors(d)

            os.killpg(proc.pid, signal.SIGKILL)  # no signal: nothing answers any more
            proc.wait(timeout=30)
            with pytest.raises((urllib.error.URLError, ConnectionError)):
                urllib.request.urlopen(page, timeout=5)

            d.get(page)
            assert d.find_element("css selector", "h2").text == "Khuê Văn Các"
            assert "Mái gác hai tầng." in d.page_source and "Quanh gác" in d.page_source
            wait_until(lambda: model_drawn(d), timeout_s=90, what="the saved model drawn without signal")
            wait_until(lambda: d.find_element("id", "offline-status").get_attribute("data-state") == "ready",
                       timeout_s=30, what="the saved guide's status")
            without = shot(d, "offline-guide-2-without-signal")
            box = d.execute_script("const b = document.querySelector('model-viewer').getBoundingClientRect();"
                                   "return [b.left, b.top, b.width, b.height, window.devicePixelRatio];")
            k = box[4]
            crop = (int(box[0] * k), int(max(box[1], 0) * k), int((box[0] + box[2]) * k), int(min(box[1] + box[3], 844) * k))
            pixels = np.asarray(without.crop(crop), dtype=int)
            assert pixels.std() > 5  # the model is drawn (not an empty viewer)
            assert with_signal.size == without.size
            assert not severe_errors(d)

            # a wide screen asks for the largest level, never saved: the level drawn stays on screen
            d.set_window_size(1280, 900)
            d.get(page)
            wait_until(lambda: model_drawn(d), timeout_s=90, what="the saved model drawn on a wide screen")
            levels = d.execute_script("return document.querySelector('model-viewer').dataset.levels.split(' ');")
            saved_levels = levels[:2]
            assert len(levels) >= 3 and levels[-1] not in saved_levels
            wait_until(lambda: d.execute_script("return document.querySelector('model-viewer').dataset.loaded") == "2",
                       timeout_s=60, what="the largest level refused and the saved level shown again")
            assert d.execute_script("return document.querySelector('model-viewer').src") in saved_levels
            assert model_drawn(d)
            d.set_window_size(390, 844)

            d.get(f"{url}/monuments/chua-luu?lang=en")  # never opened: the worker's own page, not the browser's
            missing = d.find_element("id", "offline-missing")
            assert missing.text == "You are offline, and this page was not saved on this device."
            saved = d.find_elements("css selector", "#saved-guides a")
            assert [a.text for a in saved] == ["Khuê Văn Các – Di sản Hà Nội số"]
            shot(d, "offline-guide-3-page-not-saved")
            saved[0].click()
            wait_until(lambda: d.find_element("css selector", "h2").text == "Khuê Văn Các", timeout_s=30,
                       what="the saved guide opened from the list")
        finally:
            d.quit()
