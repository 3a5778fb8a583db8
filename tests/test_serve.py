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
import urllib.request

import pytest

from tests.conftest import REPO, free_port, wait_for_port, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, resp.read().decode("utf-8")


def test_serve_with_demo_reads_every_demo_page(tmp_path):
    port = free_port()
    env = {"HERITAGE_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin", "OMP_THREAD_LIMIT": "1",
           "HOME": str(tmp_path)}
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "library.cli", "serve", "--demo", "--port", str(port),
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
