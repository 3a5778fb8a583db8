"""Fixtures on the production seams: real SQLite files and a real PostgreSQL
server, real Redis, real Celery workers as child processes, real tesseract,
and the real sample data in ``../shared/data`` (see its README for provenance).

PostgreSQL and Redis are started once per test session on free loopback ports
from the Debian packages that ``scripts/setup.sh`` installs; tests that need
them are skipped (with the reason) only when the programs are not installed,
which never happens in CI.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from library.settings import Limits, Settings

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


# ---------------------------------------------------------------- helpers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port} after {timeout_s} s")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not beside the project (CI always has it)")
    return SHARED_DATA


# ---------------------------------------------------------------- PostgreSQL
def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory):
    """A throw-away PostgreSQL cluster; yields an admin URL without a database name."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL is not installed (scripts/setup.sh installs it)")
    base = Path(f"/tmp/heritage-pg-{uuid.uuid4().hex[:8]}")
    base.mkdir(mode=0o755)
    datadir, sockdir = base / "data", base / "sock"
    sockdir.mkdir()
    run_as: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        shutil.chown(base, "postgres")
        shutil.chown(sockdir, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run(run_as + [initdb, "-D", str(datadir), "-U", "heritage", "--auth=trust", "-E", "UTF8",
                             "--locale=C.UTF-8"], check=True, capture_output=True)
    opts = f"-p {port} -k {sockdir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    subprocess.run(run_as + [pg_ctl, "-D", str(datadir), "-o", opts, "-l", str(base / "log"), "-w", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://heritage@127.0.0.1:{port}"
    finally:
        subprocess.run(run_as + [pg_ctl, "-D", str(datadir), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def _new_pg_database(admin_url: str) -> str:
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    conninfo = admin_url.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{admin_url}/{name}"


# -------------------------------------------------------------------- Redis
@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    exe = shutil.which("redis-server")
    if not exe:
        pytest.skip("redis-server is not installed (scripts/setup.sh installs it)")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def redis_url(redis_server):
    """The session's real Redis, emptied for this test: a message an earlier test's worker sent as it
    stopped (a page's ``finish_item``) must not be counted as this test's backlog."""
    import redis

    redis.Redis.from_url(redis_server).flushdb()
    return redis_server


# ------------------------------------------------------------ the platform
@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Each catalogue test runs on a SQLite file and on a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"
    return _new_pg_database(request.getfixturevalue("postgres_server"))


def make_settings(data_dir: Path, **overrides) -> Settings:
    defaults = dict(heartbeat_s=1.0, stuck_after_s=5.0, ocr_timeout_s=120.0, task_time_limit_s=300.0,
                    broker_polling_interval_s=0.05)
    defaults.update(overrides)
    return Settings.from_env({}, data_dir=data_dir, **defaults)


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return make_settings(tmp_path / "data", database_url=database_url)


@pytest.fixture
def platform(settings):
    from library.container import build_platform

    p = build_platform(settings)
    yield p
    p.close()


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment a child process (worker, web, CLI) needs to see the same platform."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERITAGE_")}
    env.update(
        HERITAGE_DATA_DIR=str(settings.data_dir),
        HERITAGE_DATABASE_URL=settings.database_url,
        HERITAGE_BROKER_URL=settings.broker_url,
        HERITAGE_SEARCH_URL=settings.search_url,
        HERITAGE_SEARCH_INDEX=settings.search_index,
        HERITAGE_HEARTBEAT_S=str(settings.heartbeat_s),
        HERITAGE_RETRY_BACKOFF_S=str(settings.retry_backoff_s),
        HERITAGE_MAX_RETRIES=str(settings.max_retries),
        HERITAGE_STUCK_AFTER_S=str(settings.stuck_after_s),
        HERITAGE_OCR_TIMEOUT_S=str(settings.ocr_timeout_s),
        HERITAGE_TASK_TIME_LIMIT_S=str(settings.task_time_limit_s),
        HERITAGE_BROKER_POLLING_INTERVAL_S=str(settings.broker_polling_interval_s),
        HERITAGE_WORKER_CONCURRENCY=str(settings.worker_concurrency),
        OMP_THREAD_LIMIT="1",
        PYTHONUNBUFFERED="1",
    )
    if settings.map_tiles:  # a map tile server, when the test set one
        env.update(HERITAGE_MAP_TILES=settings.map_tiles, HERITAGE_MAP_ATTRIBUTION=settings.map_attribution)
    return env


class WorkerProcess:
    """A real Celery worker (``python -m workers``) as a child process."""

    def __init__(self, settings: Settings, log_path: Path):
        self.settings = settings
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> "WorkerProcess":
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "workers"], env=settings_env(self.settings),
                                     stdout=self._log, stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode}:\n{self.log()}")
            if b"ready." in self.log_path.read_bytes():
                return self
            time.sleep(0.2)
        raise TimeoutError(f"worker not ready after 60 s:\n{self.log()}")

    def children(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [int(x) for x in out.split()]

    def kill_hard(self) -> None:
        """SIGKILL the worker and its pool processes, as a crash or an OOM kill would."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # the main process stops its pool children itself (warm shutdown)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill_hard()
        if getattr(self, "_log", None):
            self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]


@pytest.fixture
def start_worker(tmp_path):
    started: list[WorkerProcess] = []

    def start(settings: Settings, name: str = "worker") -> WorkerProcess:
        w = WorkerProcess(settings, tmp_path / f"{name}-{len(started)}.log").start()
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()


def wait_until(predicate, timeout_s: float = 120.0, interval_s: float = 0.25, what: str = "condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    raise TimeoutError(f"{what} not reached after {timeout_s} s")


@pytest.fixture
def small_limits() -> Limits:
    return Limits(max_file_bytes=5_000_000, max_image_pixels=40_000_000, max_pages_per_file=20,
                  max_zip_entries=50, max_zip_total_bytes=50_000_000, max_zip_ratio=200)


# ------------------------------------------------------------- OpenSearch
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


OPENSEARCH_GROUPS: dict[str, int] = {}  # the node's URL -> its process group, when this session started it


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
        OPENSEARCH_GROUPS[url] = proc.pid  # its process group: a test may pause the node (SIGSTOP) and resume it
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


@pytest.fixture(scope="session")
def opensearch_group(opensearch_url) -> int:
    """The process group of the node this session started (a test may pause it with SIGSTOP)."""
    if opensearch_url not in OPENSEARCH_GROUPS:
        pytest.fail("this test pauses the node the session started; HERITAGE_OPENSEARCH_URL points at another one")
    return OPENSEARCH_GROUPS[opensearch_url]


def pytest_terminal_summary(terminalreporter):
    if _timings:
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in _timings.items())
        terminalreporter.write_line(f"OpenSearch node: {parts}")


