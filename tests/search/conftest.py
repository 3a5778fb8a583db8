"""Search engines for the contract tests: tantivy always, a real OpenSearch 2.19 node, Elasticsearch 8 when ES_URL is set.

The OpenSearch node is started once per session by ``scripts/opensearch.sh``
(jars fetched with Maven into ``.cache/opensearch/``, then ``java -cp``) on a
free loopback port, and stopped at the end. Set ``HERITAGE_OPENSEARCH_URL`` to
use a node that is already running instead. Without Java or Maven the
OpenSearch tests are skipped with the reason (in CI, where ``CI`` is set, they
fail instead: CI always has both).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import REPO

OPENSEARCH_START_TIMEOUT_S = 180
_timings: dict[str, float] = {}


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _base_port() -> int:
    # the runner answers on the first free port above its base and refuses ports above 9299
    for base in range(9200 + (os.getpid() % 40), 9290):
        if _port_free(base + 1):
            return base
    raise RuntimeError("no free port between 9201 and 9290 for OpenSearch")


def _cluster_health(url: str) -> dict | None:
    import json
    import urllib.request

    try:
        with urllib.request.urlopen(f"{url}/_cluster/health", timeout=2) as r:
            return json.loads(r.read())
    except (OSError, ValueError):
        return None


def _missing_tools() -> str | None:
    for tool in ("java", "mvn"):
        if not shutil.which(tool):
            return f"{tool} is not installed (OpenSearch runs on Java 17; its jars are fetched with Maven)"
    return None


@pytest.fixture(scope="session")
def opensearch_url(tmp_path_factory):
    """URL of a real OpenSearch 2.19.1 node on loopback, for the whole session."""
    if os.environ.get("HERITAGE_OPENSEARCH_URL"):
        yield os.environ["HERITAGE_OPENSEARCH_URL"].rstrip("/")
        return
    missing = _missing_tools()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the OpenSearch tests, but {missing}")
        pytest.skip(missing)
    script = REPO / "scripts" / "opensearch.sh"
    t0 = time.monotonic()
    fetch = subprocess.run(["bash", str(script), "fetch"], cwd=REPO, capture_output=True, text=True, timeout=900)
    if fetch.returncode != 0:
        pytest.fail(f"fetching OpenSearch with Maven failed:\n{fetch.stderr[-3000:]}")
    _timings["fetch"] = time.monotonic() - t0

    base = Path(f"/tmp/heritage-os-{uuid.uuid4().hex[:8]}")
    base.mkdir()
    log_path = base / "runner.log"
    cluster = f"heritage-test-{uuid.uuid4().hex[:6]}"
    t1 = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(["bash", str(script), "start", str(base / "node"), str(_base_port()), cluster],
                                cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = None
    try:
        deadline = time.monotonic() + OPENSEARCH_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"OpenSearch exited with {proc.returncode}:\n{log_path.read_text(errors='replace')[-4000:]}")
            if url is None:
                m = re.search(r"HTTP Port:\s+(\d+)", log_path.read_text(errors="replace"))
                if m:
                    url = f"http://127.0.0.1:{m.group(1)}"
            if url:
                health = _cluster_health(url)
                if health and health.get("cluster_name") == cluster and health.get("status") in ("green", "yellow"):
                    break
            time.sleep(0.25)
        else:
            pytest.fail(f"OpenSearch did not start in {OPENSEARCH_START_TIMEOUT_S} s:\n"
                        f"{log_path.read_text(errors='replace')[-4000:]}")
        _timings["start"] = time.monotonic() - t1
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        shutil.rmtree(base, ignore_errors=True)


def pytest_terminal_summary(terminalreporter):
    if _timings:
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in _timings.items())
        terminalreporter.write_line(f"OpenSearch node: {parts}")


ES_SKIP = ("ES_URL is not set: the Elasticsearch 8 tests run when it points at a server "
           "(see the README for starting one)")
ENGINES = [
    "tantivy",
    pytest.param("opensearch", marks=pytest.mark.integration),
    pytest.param("elasticsearch", marks=[pytest.mark.integration,
                                         pytest.mark.skipif(not os.environ.get("ES_URL"), reason=ES_SKIP)]),
]


def make_engine(request, kind: str, folder: Path):
    """A fresh, empty engine of one kind; dropped by the caller's finaliser."""
    from search import open_engine

    if kind == "tantivy":
        return open_engine(folder / "index")
    if kind == "opensearch":
        url = request.getfixturevalue("opensearch_url")
    else:
        url = os.environ.get("ES_URL")
        if not url:
            pytest.skip(ES_SKIP)
    engine = open_engine(url, index=f"test-{uuid.uuid4().hex[:10]}")
    assert engine.health().engine == kind, f"{url} is not {kind}"
    return engine


@pytest.fixture(params=ENGINES)
def empty_engine(request, tmp_path):
    """A new, empty engine of each kind, for tests that write."""
    engine = make_engine(request, request.param, tmp_path)
    yield engine
    engine.drop()
    engine.close()
