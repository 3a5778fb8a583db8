"""The cluster deployment, whole: deploy/images.sh builds the images with podman, deploy/up.sh brings
PostgreSQL, Redis, OpenSearch, two web processes, two workers, the sweeper and the TLS proxy up on
loopback, and every request below goes through the proxy over HTTPS, checked against the proxy's own
certificate. A real UNLV magazine page is uploaded by a librarian, read by a worker, found by a word
of its text, and a IIIF tile of it comes back as a JPEG. The stack is always taken down, volumes and
all. Without podman the test fails (CI must notice a missing tool)."""

from __future__ import annotations

import io
import os
import secrets
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
from PIL import Image

pytestmark = [pytest.mark.slow, pytest.mark.deploy]

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PROJECT = "heritage-ci"
HTTPS_PORT = int(os.environ.get("HERITAGE_CI_HTTPS_PORT", "18443"))
OPENSEARCH_PORT = int(os.environ.get("HERITAGE_CI_OPENSEARCH_PORT", "19201"))
PAGE = "unlv-magazine/8071_093.3B.tif"  # English magazine page; "adoration" is in its first column
WORD = "adoration"
READ_TIMEOUT_S = 300.0


def _env() -> dict[str, str]:
    return dict(os.environ, COMPOSE_PROJECT_NAME=PROJECT, HERITAGE_HTTPS_PORT=str(HTTPS_PORT),
                HERITAGE_OPENSEARCH_PORT=str(OPENSEARCH_PORT), HERITAGE_HTTPS_BIND="127.0.0.1")


def _run(*cmd: str, timeout_s: float, **kw) -> subprocess.CompletedProcess:
    out = subprocess.run(cmd, env=_env(), cwd=ROOT, capture_output=True, text=True, timeout=timeout_s, **kw)
    assert out.returncode == 0, f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """Images built, stack up and ready; yields (base URL, the proxy's certificate). Always torn down."""
    for tool in ("podman", "podman-compose", "mmdebstrap", "runc"):
        assert shutil.which(tool), f"{tool} is not installed (scripts/setup.sh installs the deployment's tools)"
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    _run(str(DEPLOY / "images.sh"), timeout_s=1800)
    timings["images_s"] = time.monotonic() - t0
    try:
        _run(str(DEPLOY / "down.sh"), "--volumes", timeout_s=120)  # what a killed earlier run left
        t1 = time.monotonic()
        _run(str(DEPLOY / "up.sh"), timeout_s=600)
        timings["up_s"] = time.monotonic() - t1
        cert = tmp_path_factory.mktemp("tls") / "cert.pem"
        _run("podman", "cp", f"{PROJECT}_proxy_1:/etc/heritage-tls/cert.pem", str(cert), timeout_s=30)
        yield f"https://127.0.0.1:{HTTPS_PORT}", str(cert)
    finally:
        subprocess.run([str(DEPLOY / "down.sh"), "--volumes"], env=_env(), cwd=ROOT, capture_output=True,
                       timeout=180)
        timings["total_s"] = time.monotonic() - t0
        print("deploy timings:", {k: round(v, 1) for k, v in timings.items()})


def _add_librarian(name: str, password: str) -> None:
    _run("podman", "exec", "-e", f"HERITAGE_NEW_PASSWORD={password}", f"{PROJECT}_web1_1",
         "/usr/local/bin/heritage-entrypoint", "heritage", "user", "add", name, "--role", "librarian",
         timeout_s=120)


def _wait_until_read(session: requests.Session, base: str, item_id: int) -> dict:
    deadline = time.monotonic() + READ_TIMEOUT_S
    while True:
        item = session.get(f"{base}/api/v1/items/{item_id}", timeout=30)
        assert item.status_code == 200, item.text
        pages = item.json()["pages"]
        statuses = {p["status"] for p in pages}
        assert "failed" not in statuses, pages
        if statuses == {"done"}:
            return pages[0]
        assert time.monotonic() < deadline, f"page not read after {READ_TIMEOUT_S}s: {pages}"
        time.sleep(2)


def test_upload_read_search_and_tile_through_the_tls_proxy(stack, shared_data):
    base, cert = stack
    password = secrets.token_urlsafe(18)
    _add_librarian("smoke-librarian", password)
    staff = requests.Session()
    staff.trust_env = False  # else REQUESTS_CA_BUNDLE would replace the certificate below, and proxies apply
    staff.verify = cert  # the proxy's self-signed certificate: real TLS verification, not verify=False
    staff.auth = ("smoke-librarian", password)

    health = staff.get(f"{base}/api/v1/health", timeout=30)
    assert health.status_code == 200 and health.json()["status"] == "ok"

    page_path = shared_data / "ocr" / PAGE
    with page_path.open("rb") as f:
        created = staff.post(f"{base}/api/v1/items", timeout=120,
                             files={"file": (page_path.name, f, "image/tiff")},
                             data={"title": "Deployment smoke page", "language": "eng", "type": "magazine"})
    assert created.status_code == 201, created.text
    report = created.json()
    assert report["ok"] and report["items"][0]["status"] == "created" and report["items"][0]["pages"] == 1
    item_id = report["items"][0]["item_id"]

    page = _wait_until_read(staff, base, item_id)

    reader = requests.Session()
    reader.trust_env = False
    reader.verify = cert
    deadline = time.monotonic() + 60  # the index follows the commit (and refreshes each second): not always at once
    while True:
        found = reader.get(f"{base}/api/v1/search", params={"q": WORD}, timeout=60)
        assert found.status_code == 200, found.text
        hits = [h for h in found.json()["hits"] if h.get("item_id") == item_id]
        if hits or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    assert hits, found.json()
    page_hits = [h for h in hits if h.get("kind") == "page"]
    assert page_hits and page_hits[0]["page_id"] == page["id"]
    spans = [s for h in page_hits for s in h.get("spans", [])]
    assert any(WORD in s["text"].lower() and s["boxes"] for s in spans), spans

    tile = reader.get(f"{base}/iiif/image/p{page['id']}/0,0,512,512/256,/0/default.jpg", timeout=60)
    assert tile.status_code == 200, tile.text[:500]
    assert tile.headers["Content-Type"].startswith("image/jpeg")
    with Image.open(io.BytesIO(tile.content)) as im:
        assert im.format == "JPEG" and im.size == (256, 256)

    # the same answer from either web process: the proxy spreads requests and both see the shared store
    answers = {reader.get(f"{base}/api/v1/search", params={"q": WORD}, timeout=60).status_code for _ in range(4)}
    assert answers == {200}
