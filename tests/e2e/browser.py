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
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


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


def shot(driver, name: str) -> Image.Image:
    ARTIFACTS.mkdir(exist_ok=True)
    png = driver.get_screenshot_as_png()
    (ARTIFACTS / f"{name}.png").write_bytes(png)
    return Image.open(BytesIO(png)).convert("RGB")


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
