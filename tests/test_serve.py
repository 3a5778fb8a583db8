"""The README's first command: `heritage serve --demo` starts the web and the
workers on the embedded defaults, builds the demo collection and the demo
monuments, and the pages are read and the 3D models built while a browser watches."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import pytest

from library.access import Actor
from tests.conftest import free_port, wait_for_port, wait_until
from tests.e2e.browser import serving

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, resp.read().decode("utf-8")


def test_serve_with_demo_reads_every_demo_page(tmp_path):
    port = free_port()
    env = {"HERITAGE_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin", "OMP_THREAD_LIMIT": "1",
           "HOME": str(tmp_path)}
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "console", "serve", "--demo", "--port", str(port),
                             "--sweep-every", "5"], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, timeout_s=60)
        base = f"http://127.0.0.1:{port}"

        def all_done():
            items = json.loads(get(f"{base}/api/v1/items")[1])["items"]
            return len(items) == 4 and all(i["status"] == "done" for i in items) and items

        items = wait_until(all_done, timeout_s=400, interval_s=2, what="demo collection read")
        assert sum(i["pages"]["done"] for i in items) >= 8
        status, html = get(f"{base}/")
        assert status == 200 and "Văn Miếu – Quốc Tử Giám" in html and "xong" in html
        van_mieu = next(i for i in items if i["title"].startswith("Văn Miếu"))
        item = json.loads(get(f"{base}/api/v1/items/{van_mieu['id']}")[1])
        assert item["collection"] == "Bộ sưu tập mẫu – Di sản Hà Nội" and item["date"] == "1998"
        page = json.loads(get(f"{base}/api/v1/pages/{item['pages'][0]['id']}")[1])
        assert "Quốc Tử Giám" in page["text"] and "1070" in page["text"] and "Lý Thánh Tông" in page["text"]
        assert page["mean_confidence"] > 80 and len(page["words"]) > 100
        assert "Văn Miếu" in get(f"{base}/items/{van_mieu['id']}")[1]
        def model_published():
            html = get(f"{base}/monuments/van-mieu-quoc-tu-giam")[1]
            return "mobile.glb" in html and html

        html = wait_until(model_published, timeout_s=300, interval_s=2, what="demo model of Khuê Văn Các built")
        assert "Khuê Văn Các" in html and "<model-viewer" in html
        assert "Cửa sổ tròn" in html and "Một vòng quanh Khuê Văn Các" in html  # points of interest and a tour
        assert "Chùa Một Cột" in get(f"{base}/monuments")[1]
        version = int(re.search(r'/models/(\d+)/mobile\.glb', html).group(1))
        with urllib.request.urlopen(f"{base}/models/{version}/mobile.glb", timeout=10) as resp:
            glb = resp.read()
        assert glb[:4] == b"glTF" and 1000 < len(glb) < 1_000_000  # a real, phone-sized model
        children = [int(x) for x in subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                                   text=True).stdout.split()]
        assert len(children) == 2  # the web server and the worker
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
            log.close()
    assert proc.returncode == 0, (tmp_path / "serve.log").read_text(errors="replace")[-3000:]
    for pid in children:  # Ctrl-C stops the web server and the workers too
        assert not os.path.exists(f"/proc/{pid}") or "zombie" in open(f"/proc/{pid}/status").read().lower()


def listening_pids(port: int, pids: list[int]) -> set[int]:
    """Which of ``pids`` hold a socket listening on ``port`` (read from /proc, no tools needed)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == "0A":  # 0A: LISTEN
                    inodes.add(cols[9])
    found = set()
    for pid in pids:
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            continue
        if any(link.startswith("socket:[") and link[8:-1] in inodes for link in links):
            found.add(pid)
    return found


def test_two_web_processes_share_the_port_and_the_sign_in_limit(tmp_path):
    import http.cookiejar

    from library.container import build_platform
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "data")
    p = build_platform(settings)
    p.users.create(Actor.system("tests"), "thu.thu", "mat-khau-thu-thu", "librarian")
    p.close()
    with serving(settings, tmp_path, "--no-workers", "--web-processes", "2", with_process=True) as (base, port, proc):
        children = [int(x) for x in subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                                   text=True).stdout.split()]
        wait_until(lambda: len(listening_pids(port, children)) == 2, timeout_s=60, what="both web processes listening")
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        answers = []
        for attempt in range(8):  # every request is a new connection, shared out by the kernel
            html = opener.open(f"{base}/staff/login", timeout=10).read().decode()
            token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
            data = urllib.parse.urlencode({"username": "thu.thu", "password": "sai", "csrf_token": token}).encode()
            try:
                opener.open(f"{base}/staff/login", data=data, timeout=10)
            except urllib.error.HTTPError as exc:
                answers.append(exc.code)
        assert answers == [401] * 5 + [429] * 3  # the limit counts across both processes
        status, _ = get(f"{base}/")
        assert status == 200
