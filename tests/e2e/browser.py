"""What every browser test needs: Debian's chromium through Selenium, screenshots
kept in test-artifacts/, and the real server (``heritage serve`` with its workers)
started on a data folder the test prepared."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from io import BytesIO

import pytest
from PIL import Image

from tests.conftest import REPO, free_port, settings_env, wait_for_port
from tests.conftest import wait_until as _wait_until

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def need_chromium() -> None:
    if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: install chromium and chromium-driver (scripts/setup.sh)")
        pytest.skip("Debian's chromium and chromium-driver are not installed")


@contextlib.contextmanager
def serving(settings, tmp, *options: str, with_process: bool = False):
    """``heritage serve`` (waitress + workers + sweeper, or what ``options`` say) on a free port;
    yields its base URL (and with ``with_process`` the URL, the port and the process)."""
    port = free_port()
    log = open(tmp / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "console", "serve", "--port", str(port), "--sweep-every", "5",
                             *options], env=settings_env(settings), cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        wait_for_port(port, timeout_s=60)
        url = f"http://127.0.0.1:{port}"
        yield (url, port, proc) if with_process else url
    finally:
        try:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout=60)
        except ProcessLookupError:  # a test stopped the server itself (the offline guide)
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@contextlib.contextmanager
def served_in_process(app):
    """``app`` (a Flask app built by the test) served by werkzeug on a free port in this process; yields
    its base URL. For tests that prepare the platform through the app's own objects."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def sign_in(driver, url: str, username: str, password: str) -> None:
    """Sign in on the staff login page as a person does, and wait for the staff page."""
    from selenium.webdriver.common.by import By

    driver.get(f"{url}/staff/login")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    _wait_until(lambda: driver.current_url.rstrip("/").endswith("/staff"), timeout_s=15, what="signed in")


def browser(tmp, width: int, height: int):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tmp / f"profile-{time.monotonic_ns()}"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                "--use-angle=swiftshader", "--enable-unsafe-swiftshader", f"--user-data-dir={profile}",
                f"--window-size={width},{height}"):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service(DRIVER), options=opts)


def shot(driver, name: str, *, accessible: bool = True) -> Image.Image:
    """The screen as the test sees it, kept in test-artifacts/; unless ``accessible`` is False the page is
    also checked against WCAG 2.1 AA by axe-core first (:func:`assert_accessible`)."""
    if accessible:
        assert_accessible(driver, name)
    ARTIFACTS.mkdir(exist_ok=True)
    png = driver.get_screenshot_as_png()
    (ARTIFACTS / f"{name}.png").write_bytes(png)
    return Image.open(BytesIO(png)).convert("RGB")


def start_3d(driver, index: int = 0) -> None:
    """Press a monument page's "View in 3D" under the model's picture, as a visitor does (on a phone the
    viewer starts only when asked for: web/static/viewer.js)."""
    from selenium.webdriver.common.by import By

    driver.find_elements(By.CSS_SELECTOR, "figure.model .model-start")[index].click()


def wait_until(predicate, timeout_s: float = 120.0, interval_s: float = 0.25, what: str = "condition"):
    """``tests.conftest.wait_until`` for live pages: when the page's script re-draws an element
    between finding it and reading it (Selenium's stale element), the condition is simply
    not reached yet and is asked again, until the same deadline."""
    from selenium.common.exceptions import StaleElementReferenceException

    def asked():
        try:
            return predicate()
        except StaleElementReferenceException:
            return None

    return _wait_until(asked, timeout_s=timeout_s, interval_s=interval_s, what=what)


AXE = REPO / "web" / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]  # WCAG 2.1 AA


def serious_violations(driver) -> list[str]:
    """axe-core (from the npm registry, ``web/frontend``) run on the page the browser shows, against WCAG
    2.1 A and AA: each serious or critical violation as ``rule: selectors (impact)``."""
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed ({AXE}): run scripts/frontend.sh")
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    driver.set_script_timeout(60)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))))"
        ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));", AXE_TAGS)
    return [f"{v['id']}: {', '.join(v['nodes'])} ({v['impact']}; {v['help']})" for v in result
            if v["impact"] in ("serious", "critical")]


def assert_accessible(driver, what: str) -> None:
    found = serious_violations(driver)
    assert not found, f"{what}: WCAG 2.1 AA violations (axe-core):\n" + "\n".join(found)
