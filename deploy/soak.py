"""Soak test of the cluster deployment: load and faults for a bounded time, then the books are checked.

    .venv/bin/python deploy/soak.py [--seconds 600] [--uploaders 50] [--searchers 20] [--keep] [--no-images]

Stages (each a function below):
  1. stack_up      images (deploy/images.sh), a fresh stack 'heritage-soak' on 127.0.0.1:18453 whose store
                   volume is a small tmpfs (so it can be filled), a librarian account
  2. run_load      50 uploaders (a generated page image with one unique word each, over HTTPS through the
                   proxy; a failed attempt is retried, a duplicate answer counts as the same upload) and
                   20 searchers, while run_faults injects, in turn: worker1 killed mid-page, Redis restarted,
                   PostgreSQL restarted, OpenSearch down for a while, web1 killed, the store's disk full
  3. drain         until no page is queued or running and no index change is pending (bounded)
  4. check_books   every accepted upload stored once and read (its word in its text), every refusal with a
                   reason, no page lost or read twice, the index equal to the catalogue, fixity clean
  5. stack_down    deploy/down.sh --volumes (unless --keep)

Prints the figures (uploads by outcome and reason, pages read, latency p50/p95, each fault's recovery time)
and exits 0 when no problem was found, 1 otherwise. tests/deploy/test_soak.py runs it under pytest.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
PROJECT = os.environ.get("HERITAGE_SOAK_PROJECT", "heritage-soak")
HTTPS_PORT = int(os.environ.get("HERITAGE_SOAK_HTTPS_PORT", "18453"))
OPENSEARCH_PORT = int(os.environ.get("HERITAGE_SOAK_OPENSEARCH_PORT", "19211"))
STORE_MB = int(os.environ.get("HERITAGE_SOAK_STORE_MB", "384"))  # the tmpfs the store lives on
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_SERIF = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
TITLE_PREFIX = "Soak page"
RETRY_CODES = {502, 503, 504, 507}  # answers that say "not now": the client sends the upload again
RETRIES = 4
FAULTS = ("worker_killed_mid_page", "redis_restart", "postgres_restart", "search_engine_down",
          "web_killed", "store_disk_full")


def log(msg: str) -> None:
    print(f"soak {time.strftime('%H:%M:%S')}: {msg}", file=sys.stderr, flush=True)


def env() -> dict[str, str]:
    return dict(os.environ, COMPOSE_PROJECT_NAME=PROJECT, HERITAGE_HTTPS_PORT=str(HTTPS_PORT),
                HERITAGE_OPENSEARCH_PORT=str(OPENSEARCH_PORT), HERITAGE_HTTPS_BIND="127.0.0.1",
                HERITAGE_STUCK_AFTER_S="40", HERITAGE_SWEEP_EVERY_S="10")


def container(service: str) -> str:
    return f"{PROJECT}_{service}_1"


def sh(*cmd: str, timeout_s: float = 120, check: bool = True, **kw) -> subprocess.CompletedProcess:
    out = subprocess.run(cmd, env=env(), cwd=ROOT, capture_output=True, text=True, timeout=timeout_s, **kw)
    if check and out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return out


def percentiles_ms(values_s: list[float]) -> dict[str, float | None]:
    """p50 and p95 in milliseconds of latencies in seconds (None when there are none)."""
    if not values_s:
        return {"p50_ms": None, "p95_ms": None, "n": 0}
    ordered = sorted(values_s)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"p50_ms": round(statistics.median(ordered) * 1000), "p95_ms": round(p95 * 1000), "n": len(ordered)}


# ----------------------------------------------------------------------------------- 1. the stack
@dataclass
class Stack:
    base: str
    cert: str
    user: str
    password: str
    db_password: str


def stack_up(build_images: bool = True) -> Stack:
    """Images, a fresh stack with a small tmpfs store volume, a librarian. Raises when a step fails."""
    if build_images:
        sh(str(DEPLOY / "images.sh"), timeout_s=1800)
    sh(str(DEPLOY / "down.sh"), "--volumes", timeout_s=180)
    # up.sh's podman-compose uses a volume that exists already: this one is a tmpfs of STORE_MB, sized
    # in 4 KiB blocks (podman refuses o=size= without project quotas on the host's filesystem)
    sh("podman", "volume", "create", "--opt", "type=tmpfs", "--opt", "device=tmpfs",
       "--opt", f"o=nr_blocks={STORE_MB * 256}", f"{PROJECT}_store")
    sh(str(DEPLOY / "up.sh"), timeout_s=600)
    cert = Path(tempfile.mkdtemp(prefix="heritage-soak-")) / "cert.pem"
    sh("podman", "cp", f"{container('proxy')}:/etc/heritage-tls/cert.pem", str(cert))
    password = secrets.token_urlsafe(18)
    sh("podman", "exec", "-e", f"HERITAGE_NEW_PASSWORD={password}", container("web1"),
       "/usr/local/bin/heritage-entrypoint", "heritage", "user", "add", "soak-librarian", "--role", "librarian")
    db_password = (ROOT / ".cache" / "deploy" / f"{PROJECT}-db-password").read_text().strip()
    return Stack(f"https://127.0.0.1:{HTTPS_PORT}", str(cert), "soak-librarian", password, db_password)


def stack_down() -> None:
    subprocess.run([str(DEPLOY / "down.sh"), "--volumes"], env=env(), cwd=ROOT, capture_output=True, timeout=300)


def session(stack: Stack, staff: bool) -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # no proxies, no REQUESTS_CA_BUNDLE: the proxy's own certificate is checked
    s.verify = stack.cert
    if staff:
        s.auth = (stack.user, stack.password)
    return s


def psql(stack: Stack, query: str, timeout_s: float = 30) -> list[list[str]]:
    """Rows of ``query`` run in the postgres container (as the heritage role, over TCP)."""
    out = sh("podman", "exec", "-e", f"PGPASSWORD={stack.db_password}", container("postgres"), "psql", "-h",
             "127.0.0.1", "-U", "heritage", "-d", "heritage", "-AtF", "\t", "-c", query, timeout_s=timeout_s)
    return [line.split("\t") for line in out.stdout.splitlines() if line]


def opensearch(path: str, body: dict | None = None) -> dict:
    r = requests.post(f"http://127.0.0.1:{OPENSEARCH_PORT}{path}", json=body, timeout=30,
                      proxies={"http": None, "https": None})
    r.raise_for_status()
    return r.json()


# ----------------------------------------------------------------------------------- 2. load
def page_png(word: str, n: int) -> bytes:
    """A small page image (900×360 grey PNG, 300 dpi) with one unique word, set twice in two typefaces
    (tesseract misread about 1 % of single 8-digit words, "89" as "839"; two settings rarely both fail):
    PNG bytes."""
    sans = ImageFont.truetype(FONT, 40)
    serif = ImageFont.truetype(FONT_SERIF, 44)
    im = Image.new("L", (900, 360), 255)
    draw = ImageDraw.Draw(im)
    draw.text((40, 40), f"Soak page number {n}", font=sans, fill=0)
    draw.text((40, 130), f"The word {word} is here.", font=sans, fill=0)
    draw.text((40, 230), f"Again: {word} once more.", font=serif, fill=0)
    buf = io.BytesIO()
    im.save(buf, format="PNG", dpi=(300, 300))
    return buf.getvalue()


@dataclass
class Upload:
    word: str
    attempts: list[dict] = field(default_factory=list)  # t_s, code (or None), latency_s, reason
    outcome: str = "pending"  # accepted | refused
    item_id: int | None = None
    via_duplicate: bool = False
    reason: str | None = None


def _reason(resp: requests.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return f"HTTP {resp.status_code}: {resp.text.strip()[:120]}"
    if isinstance(body, dict) and body.get("message"):
        return f"HTTP {resp.status_code} {body.get('error')}: {body['message']}"
    problems = [p for it in body.get("items", []) for p in it.get("problems", [])] if isinstance(body, dict) else []
    return f"HTTP {resp.status_code}: {json.dumps(problems or body)[:200]}"


class Load:
    """The uploaders and searchers; ``backlog`` (pages queued or running) holds uploaders back when the
    workers fall behind, so the queue stays bounded and drains in time."""

    def __init__(self, stack: Stack, uploaders: int, searchers: int, max_backlog: int, t0: float):
        self.stack, self.t0 = stack, t0
        self.n_uploaders, self.n_searchers, self.max_backlog = uploaders, searchers, max_backlog
        self.stop = threading.Event()
        self.settled = threading.Event()  # set once the run is over: recovery probes stop too
        self.lock = threading.Lock()
        self.uploads: list[Upload] = []
        self.searches: list[tuple[float, int | None, float, str]] = []  # t_s, code, latency_s, reason
        self.backlog = 0
        self.counter = 0
        self.words: set[str] = set()
        self.rng = random.Random(1935)
        self.threads: list[threading.Thread] = []

    def new_word(self) -> tuple[str, int]:
        with self.lock:
            self.counter += 1
            # an 8-digit number: random letter strings were misread by tesseract now and then (b→o,
            # an i inserted), digits at 40 px never were in trials; not to be confused with the counter
            word = str(self.rng.randrange(10_000_000, 100_000_000))
            while word in self.words:
                word = str(self.rng.randrange(10_000_000, 100_000_000))
            self.words.add(word)
            return word, self.counter

    def upload(self, s: requests.Session, word: str, n: int) -> Upload:
        """One upload, sent again (up to RETRIES times) after a connection error or a 'not now' answer."""
        up = Upload(word)
        png = page_png(word, n)
        for attempt in range(RETRIES):
            t = time.monotonic()
            try:
                r = s.post(f"{self.stack.base}/api/v1/items", timeout=(10, 120),
                           files={"file": (f"soak-{word}.png", png, "image/png")},
                           data={"title": f"{TITLE_PREFIX} {word}", "language": "eng", "type": "book"})
                code, reason = r.status_code, (None if r.status_code in (200, 201) else _reason(r))
            except requests.RequestException as exc:
                r, code, reason = None, None, f"{type(exc).__name__}: {str(exc)[:160]}"
            up.attempts.append(dict(t_s=round(t - self.t0, 1), code=code, latency_s=time.monotonic() - t,
                                    reason=reason))
            if code in (200, 201):
                item = r.json()["items"][0]
                if item["status"] in ("created", "duplicate"):
                    up.outcome, up.item_id, up.via_duplicate = "accepted", item["item_id"], item["status"] == "duplicate"
                    return up
                up.attempts[-1]["reason"] = reason = f"HTTP {code} status {item['status']}: {item}"
            if code is not None and code not in RETRY_CODES:
                break
            if attempt < RETRIES - 1 and not self.stop.is_set():
                time.sleep(3 * 2 ** attempt)
        up.outcome, up.reason = "refused", reason or "no answer"
        return up

    def uploader(self, k: int) -> None:
        s = session(self.stack, staff=True)
        rng = random.Random(k)
        self.stop.wait(rng.uniform(0, 10))  # staggered start
        while not self.stop.is_set():
            if self.backlog >= self.max_backlog:
                self.stop.wait(1.0)
                continue
            word, n = self.new_word()
            up = self.upload(s, word, n)
            with self.lock:
                self.uploads.append(up)
            self.stop.wait(rng.uniform(1, 5))

    def searcher(self, k: int) -> None:
        s = session(self.stack, staff=False)
        rng = random.Random(1000 + k)
        self.stop.wait(rng.uniform(0, 5))
        while not self.stop.is_set():
            with self.lock:
                done = [u.word for u in self.uploads[-200:] if u.outcome == "accepted"]
            q = rng.choice(done) if done and rng.random() < 0.8 else rng.choice(["soak", "word", "page number"])
            t = time.monotonic()
            try:
                r = s.get(f"{self.stack.base}/api/v1/search", params={"q": q}, timeout=(10, 60))
                code, reason = r.status_code, (None if r.status_code == 200 else _reason(r))
            except requests.RequestException as exc:
                code, reason = None, f"{type(exc).__name__}"
            with self.lock:
                self.searches.append((t - self.t0, code, time.monotonic() - t, reason))
            self.stop.wait(rng.uniform(2, 4))

    def watch_backlog(self) -> None:
        while not self.stop.is_set():
            try:
                self.backlog = int(psql(self.stack, "select count(*) from pages where status in ('queued','running')",
                                        timeout_s=15)[0][0])
            except Exception:  # postgres restarting: keep the last figure
                pass
            self.stop.wait(3.0)

    def start(self) -> None:
        self.threads = [threading.Thread(target=self.watch_backlog, daemon=True)]
        self.threads += [threading.Thread(target=self.uploader, args=(k,), daemon=True) for k in range(self.n_uploaders)]
        self.threads += [threading.Thread(target=self.searcher, args=(k,), daemon=True) for k in range(self.n_searchers)]
        for t in self.threads:
            t.start()

    def finish(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=400)


# ----------------------------------------------------------------------------------- faults
def page_done(stack: Stack, page_ids: list[int]) -> bool:
    if not page_ids:
        return True
    ids = ",".join(str(int(p)) for p in page_ids)
    rows = psql(stack, f"select count(*) from pages where id in ({ids}) and status = 'done'", timeout_s=15)
    return int(rows[0][0]) == len(page_ids)


def probe(load: Load, stack: Stack, started: float, timeout_s: float) -> float | None:
    """Seconds from ``started`` until the platform took a new upload and read it (None: not within timeout)."""
    s = session(stack, staff=True)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not load.settled.is_set():
        word, n = load.new_word()
        up = load.upload(s, word, n)
        with load.lock:
            load.uploads.append(up)
        if up.outcome == "accepted":
            while time.monotonic() < deadline:
                try:
                    item = s.get(f"{stack.base}/api/v1/items/{up.item_id}", timeout=30).json()
                    statuses = {p["status"] for p in item["pages"]}
                    if statuses == {"done"}:
                        return time.monotonic() - started
                    if "failed" in statuses:  # not recovered yet (the books report the failure): a new probe
                        break
                except (requests.RequestException, ValueError, KeyError):
                    pass
                time.sleep(1)
        time.sleep(2)
    return None


def cpu_usec(service: str) -> int | None:
    """CPU time the service's container has used, in microseconds (cgroup v2 or v1); None if unknown."""
    out = sh("podman", "exec", container(service), "sh", "-c",
             "cat /sys/fs/cgroup/cpu.stat 2>/dev/null || echo nsec $(cat /sys/fs/cgroup/cpuacct/cpuacct.usage)",
             check=False, timeout_s=15)
    for line in out.stdout.splitlines():
        key, _, value = line.partition(" ")
        if key == "usage_usec" and value.strip().isdigit():
            return int(value)
        if key == "nsec" and value.strip().isdigit():
            return int(value) // 1000
    return None


def worker_killed_mid_page(stack: Stack, hold_s: float) -> dict:
    """Kill worker1 while it reads a page (a page is running and worker1 burns CPU), start it again."""
    running: list[int] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        running = [int(r[0]) for r in psql(stack, "select id from pages where status = 'running'")]
        a = cpu_usec("worker1")
        time.sleep(0.5)
        b = cpu_usec("worker1")
        if running and a is not None and b is not None and b - a > 150_000:  # >30% of a core: mid-page
            break
    t = time.monotonic()
    sh("podman", "kill", container("worker1"))
    time.sleep(2)
    sh("podman", "start", container("worker1"))
    return dict(started=t, pages=running, note=f"worker1 killed with pages {running} running")


def restart(service: str, stop_timeout_s: int):
    def fault(stack: Stack, hold_s: float) -> dict:
        t = time.monotonic()
        sh("podman", "restart", "-t", str(stop_timeout_s), container(service), timeout_s=180)
        return dict(started=t, note=f"{service} restarted in {time.monotonic() - t:.1f}s")
    return fault


def search_engine_down(stack: Stack, hold_s: float) -> dict:
    t = time.monotonic()
    sh("podman", "stop", "-t", "10", container("opensearch"), timeout_s=120)
    time.sleep(hold_s)
    sh("podman", "start", container("opensearch"), timeout_s=120)
    return dict(started=t, note=f"opensearch stopped for {time.monotonic() - t:.0f}s")


def web_killed(stack: Stack, hold_s: float) -> dict:
    t = time.monotonic()
    sh("podman", "kill", container("web1"))
    time.sleep(2)
    if sh("podman", "inspect", "-f", "{{.State.Status}}", container("web1")).stdout.strip() != "running":
        sh("podman", "start", container("web1"))
    return dict(started=t, note="web1 killed and started again")


def store_disk_full(stack: Stack, hold_s: float) -> dict:
    """Fill the store's disk with a filler file, keep it full for ``hold_s``, delete the filler."""
    t = time.monotonic()
    sh("podman", "exec", container("web1"), "sh", "-c",
       "dd if=/dev/zero of=/data/soak-filler bs=1M 2>/dev/null; df -h /data >&2", check=False, timeout_s=120)
    free = sh("podman", "exec", container("web1"), "df", "--output=avail", "-B1", "/data").stdout.split()[-1]
    # what an upload meets now, asked once whatever the uploaders do (they hold back while the queue is
    # long, and pages cannot be read on a full disk, so they may send nothing in this window)
    probe = probe_upload(stack)
    time.sleep(max(0.0, hold_s - (time.monotonic() - t)))
    sh("podman", "exec", container("web1"), "rm", "-f", "/data/soak-filler")
    return dict(started=t, probe=probe, note=f"store full ({free} bytes free) for {time.monotonic() - t:.0f}s; "
                                             f"an upload then: {probe[:120]}")


def probe_upload(stack: Stack) -> str:
    """One upload of a 1.1 MB page (noise: PNG cannot shrink it, so it never fits the bytes left) through
    the proxy: its answer as ``HTTP <code> <reason>``."""
    im = Image.frombytes("L", (1200, 900), os.urandom(1200 * 900))
    buf = io.BytesIO()
    im.save(buf, format="PNG", dpi=(300, 300))
    try:
        r = session(stack, staff=True).post(
            f"{stack.base}/api/v1/items", timeout=(10, 120), files={"file": ("soak-probe.png", buf.getvalue(), "image/png")},
            data={"title": "Soak probe on a full disk", "language": "eng", "type": "book"})
    except requests.RequestException as exc:
        return f"no answer: {type(exc).__name__}: {str(exc)[:160]}"
    return _reason(r) if r.status_code not in (200, 201) else f"HTTP {r.status_code} accepted: {r.text[:160]}"


FAULT_ACTIONS = {"worker_killed_mid_page": worker_killed_mid_page, "redis_restart": restart("redis", 5),
                 "postgres_restart": restart("postgres", 10), "search_engine_down": search_engine_down,
                 "web_killed": web_killed, "store_disk_full": store_disk_full}


def run_faults(stack: Stack, load: Load, seconds: float, t0: float) -> tuple[list[dict], list[threading.Thread]]:
    """Each fault at its slot of the run; its recovery is watched in the background (bounded): returns
    at the end of the run with the faults' records and their watchers (join them before reading)."""
    warmup_s = max(15.0, 0.08 * seconds)
    slot_s = (seconds - warmup_s) / len(FAULTS)
    hold_s = min(60.0, 0.6 * slot_s)  # how long the search engine is down, the disk full
    results: list[dict] = []
    watchers: list[threading.Thread] = []
    for i, name in enumerate(FAULTS):
        wait = t0 + warmup_s + i * slot_s - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        log(f"fault: {name}")
        try:
            res = dict(name=name, **FAULT_ACTIONS[name](stack, hold_s))
        except Exception as exc:  # the fault could not be made: a problem of the soak, reported
            results.append(dict(name=name, error=str(exc)[:500], recovery_s=None))
            continue
        res["at_s"] = round(res["started"] - t0, 1)
        results.append(res)

        def watch(res=res):
            started = res["started"]
            if res["name"] == "worker_killed_mid_page":
                deadline = time.monotonic() + 300
                while time.monotonic() < deadline and not load.settled.is_set():
                    try:
                        if page_done(stack, res["pages"]):
                            res["recovery_s"] = round(time.monotonic() - started, 1)
                            ids = ",".join(str(p) for p in res["pages"]) or "0"
                            res["attempts_of_pages"] = dict(psql(stack, f"select id, attempts from pages where id in ({ids})"))
                            return
                    except Exception:
                        pass
                    time.sleep(2)
                res["recovery_s"] = None
            else:
                rec = probe(load, stack, started, 300)
                res["recovery_s"] = None if rec is None else round(rec, 1)

        w = threading.Thread(target=watch, daemon=True)
        w.start()
        watchers.append(w)
    rest = t0 + seconds - time.monotonic()
    if rest > 0:
        time.sleep(rest)
    return results, watchers


# ----------------------------------------------------------------------------------- 3. drain
def drain(stack: Stack, timeout_s: float) -> float:
    """Wait until no page is queued or running and no index change pending; seconds waited."""
    t = time.monotonic()
    while time.monotonic() - t < timeout_s:
        try:
            busy = int(psql(stack, "select count(*) from pages where status in ('queued','running') "
                                   "or index_pending")[0][0])
            if busy == 0:
                return time.monotonic() - t
        except Exception:
            pass
        time.sleep(3)
    return time.monotonic() - t


# ----------------------------------------------------------------------------------- 4. the books
def check_books(stack: Stack, load: Load) -> tuple[dict, list[str]]:
    """The figures, and the problems found (empty when every promise held)."""
    problems: list[str] = []
    accepted = [u for u in load.uploads if u.outcome == "accepted"]
    refused = [u for u in load.uploads if u.outcome == "refused"]
    by_word = {u.word: u for u in accepted}
    items_of_upload = Counter(u.item_id for u in accepted)
    for item_id, n in items_of_upload.items():
        if n > 1:
            problems.append(f"item {item_id} answered for {n} different uploads")
    for u in refused:
        if not u.reason:
            problems.append(f"upload {u.word} refused without a reason: {u.attempts}")
    internal = Counter(a["reason"][:160] for u in load.uploads for a in u.attempts if a["code"] == 500)
    for reason, n in internal.items():
        problems.append(f"{n} upload attempt(s) answered 500 (an internal error is not a reason): {reason}")
    for u in load.uploads:
        for a in u.attempts:
            if a["code"] == 507 and "nothing was recorded" not in (a["reason"] or ""):
                problems.append(f"upload {u.word}: 507 without its reason: {a['reason']}")

    rows = psql(stack, "select i.id, i.title, p.id, p.status, p.source_sha256, p.revision, "
                       r"regexp_replace(coalesce(p.status_reason, ''), '[\t\n\r]+', ' ', 'g') "
                       "from items i join pages p on p.item_id = i.id order by i.id, p.sequence")
    pages_of_item: dict[int, list[list[str]]] = {}
    for r in rows:
        pages_of_item.setdefault(int(r[0]), []).append(r)
    titles = {int(r[0]): r[1] for r in rows}
    known_items = {u.item_id for u in accepted}
    for item_id, title in titles.items():
        if item_id not in known_items:
            word = title.removeprefix(TITLE_PREFIX).strip()
            problems.append(f"item {item_id} ({title!r}) is stored but its upload was "
                            f"{'refused: ' + str(by_word.get(word) or [u.reason for u in refused if u.word == word]) if word else 'unknown'}")
    sha_items = Counter(r[4] for r in rows)
    for sha, n in sha_items.items():
        if n > 1:
            problems.append(f"the same image is stored as {n} pages ({sha[:12]}): a retry stored it twice")
    page_of_word: dict[str, int] = {}
    unread_by_reason: Counter = Counter()
    for u in accepted:
        pages = pages_of_item.get(u.item_id)
        if not pages:
            problems.append(f"upload {u.word}: item {u.item_id} was accepted but is not in the catalogue (lost)")
            continue
        if len(pages) != 1:
            problems.append(f"upload {u.word}: item {u.item_id} has {len(pages)} pages, not 1")
        page = pages[0]
        if page[3] != "done":
            unread_by_reason[f"{page[3]}: {page[6][:160]}"] += 1
            continue
        page_of_word[u.word] = int(page[2])
    for reason, n in unread_by_reason.items():
        problems.append(f"{n} accepted upload(s) not read: page {reason}")
    versions = psql(stack, "select p.id, count(t.id) from pages p left join transcriptions t on t.page_id = p.id "
                           "where p.status = 'done' group by p.id having count(t.id) <> 1")
    for pid, n in versions:
        problems.append(f"read page {pid} has {n} transcriptions, not 1 (read twice into two versions?)")

    # inside the catalogue: every read page's text, from a web container (one process, not a request each)
    texts = page_texts(list(page_of_word.values()))
    unread = [f"page {page_of_word[w]}: {w!r} not in its text {texts.get(str(page_of_word[w]))!r}"
              for w in page_of_word if w not in (texts.get(str(page_of_word[w])) or "").lower()]
    # the index: every word finds its item's page and only it (OpenSearch's _msearch, 500 words a request)
    item_of_word = {u.word: u.item_id for u in accepted if u.word in page_of_word}
    unfound = [f"search {w!r}: {found}" for w, found in search_items(list(item_of_word)).items()
               if found != [str(item_of_word[w])]]
    # and through the proxy as a reader would: a sample of the words by the API (word boxes included)
    staff = session(stack, staff=True)
    for word in random.Random(7).sample(sorted(page_of_word), min(40, len(page_of_word))):
        r = staff.get(f"{stack.base}/api/v1/search", params={"q": word}, timeout=60)
        hits = [h for h in r.json().get("hits", []) if h.get("kind") == "page"] if r.status_code == 200 else []
        if [h.get("page_id") for h in hits] != [page_of_word[word]] or not hits[0].get("spans"):
            unfound.append(f"API search {word!r}: HTTP {r.status_code} {r.text[:200]}")
    problems += unread[:20] + ([f"... {len(unread) - 20} more unread"] if len(unread) > 20 else [])
    problems += unfound[:20] + ([f"... {len(unfound) - 20} more not found"] if len(unfound) > 20 else [])

    done_pages = int(psql(stack, "select count(*) from pages where status = 'done'")[0][0])
    opensearch("/_refresh")
    index_pages = int(opensearch("/_all/_count", {"query": {"term": {"kind": "page"}}})["count"])
    if index_pages != done_pages:
        problems.append(f"the index holds {index_pages} page documents, the catalogue {done_pages} read pages")

    fixity = sh("podman", "exec", container("web1"), "/usr/local/bin/heritage-entrypoint", "heritage", "fixity",
                check=False, timeout_s=600)
    if fixity.returncode != 0:
        problems.append(f"heritage fixity exited {fixity.returncode}: {(fixity.stdout + fixity.stderr)[-800:]}")
    web_errors = Counter()
    for web in ("web1", "web2"):
        logs = sh("podman", "logs", container(web), check=False, timeout_s=60)
        for line in (logs.stdout + logs.stderr).splitlines():
            if re.match(r"^[\w.]+(Error|Exception|Full|Shutdown|Offline)\b", line):
                web_errors[line[:140]] += 1
    status = sh("podman", "exec", container("web1"), "/usr/local/bin/heritage-entrypoint", "heritage", "status",
                "--json", check=False, timeout_s=120)

    attempt_reasons = Counter()
    for u in load.uploads:
        for a in u.attempts:
            if a["code"] not in (200, 201):
                attempt_reasons[_short(a["reason"], a["code"])] += 1
    figures = dict(
        uploads=len(load.uploads), accepted=len(accepted), accepted_via_duplicate=sum(u.via_duplicate for u in accepted),
        refused=len(refused), refused_by_reason=dict(Counter(_short(u.reason, None) for u in refused)),
        failed_attempts_by_reason=dict(attempt_reasons), pages_read=done_pages, index_page_documents=index_pages,
        upload_latency=percentiles_ms([a["latency_s"] for u in load.uploads for a in u.attempts
                                       if a["code"] in (200, 201)]),
        searches=len(load.searches),
        search_answers=dict(Counter(str(c) for _, c, _, _ in load.searches)),
        search_latency=percentiles_ms([lat for _, c, lat, _ in load.searches if c == 200]),
        pages_by_status=dict(psql(stack, "select status, count(*) from pages group by 1")),
        fixity_exit=fixity.returncode,
        web_exceptions=dict(web_errors.most_common(12)),  # last lines of the web processes' tracebacks
        items_by_status=_items_by_status(status.stdout),
    )
    return figures, problems


PAGE_TEXTS = """
import json, sys
from library.container import build_platform
from library.settings import Settings
from library.errors import NotFound
catalogue = build_platform(Settings.from_env(), migrate=False).catalogue
def text(page_id):
    try:
        return catalogue.page(page_id).text
    except NotFound:
        return None
print(json.dumps({str(i): text(int(i)) for i in json.load(sys.stdin)}))
"""


def page_texts(page_ids: list[int]) -> dict[str, str | None]:
    """The catalogue's text of each page, read by the platform's own code in a web container: {id: text}."""
    out = sh("podman", "exec", "-i", container("web1"), "/usr/local/bin/heritage-entrypoint", "python", "-c",
             PAGE_TEXTS, input=json.dumps(page_ids), timeout_s=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def search_items(words: list[str]) -> dict[str, list[str]]:
    """For each word, the item ids of the page documents of the index that hold it: {word: [item id]}."""
    found: dict[str, list[str]] = {}
    for start in range(0, len(words), 500):
        batch = words[start:start + 500]
        lines = []
        for w in batch:
            lines.append(json.dumps({}))
            lines.append(json.dumps({"size": 5, "_source": ["item_id"], "query": {"bool": {"filter": [
                {"term": {"kind": "page"}}, {"match": {"text": w}}]}}}))
        r = requests.post(f"http://127.0.0.1:{OPENSEARCH_PORT}/_all/_msearch", data="\n".join(lines) + "\n",
                          headers={"Content-Type": "application/x-ndjson"}, timeout=120,
                          proxies={"http": None, "https": None})
        r.raise_for_status()
        for w, resp in zip(batch, r.json()["responses"]):
            found[w] = sorted(str(h["_source"]["item_id"]) for h in resp.get("hits", {}).get("hits", []))
    return found


def _short(reason: str | None, code: int | None) -> str:
    if not reason:
        return f"HTTP {code}"
    return reason.split(":")[0][:60]


def _items_by_status(text: str) -> dict | str:
    """'heritage status --json' (a list of items) summed up: {status: items}."""
    try:
        return dict(Counter(row["status"] for row in json.loads(text)))
    except (ValueError, TypeError, KeyError):
        return text[-500:]


def failures_by_fault(load: Load, faults: list[dict]) -> dict[str, dict[str, int]]:
    """The failed upload attempts and searches of each fault's window (from it to the next): {fault: {what: n}}."""
    starts = sorted((f["at_s"], f["name"]) for f in faults if "at_s" in f)
    def window(t_s: float) -> str:
        name = "before the faults"
        for at, fault in starts:
            if t_s >= at:
                name = fault
        return name
    out: dict[str, Counter] = {}
    for u in load.uploads:
        for a in u.attempts:
            if a["code"] not in (200, 201):
                out.setdefault(window(a["t_s"]), Counter())[f"upload {_short(a['reason'], a['code'])}"] += 1
    for t_s, code, _, reason in load.searches:
        if code != 200:
            out.setdefault(window(t_s), Counter())[f"search {_short(reason, code)}"] += 1
    return {k: dict(v) for k, v in out.items()}


# ----------------------------------------------------------------------------------- the run
def soak(seconds: float, uploaders: int = 50, searchers: int = 20, max_backlog: int = 30,
         drain_timeout_s: float = 150, build_images: bool = True, keep: bool = False) -> tuple[dict, list[str]]:
    """The whole soak: stack up, load and faults for ``seconds``, drain, books checked, stack down.
    Returns (figures, problems)."""
    t_start = time.monotonic()
    try:
        stack = stack_up(build_images)
        t_up = time.monotonic() - t_start
        log(f"stack up in {t_up:.0f}s; load for {seconds:.0f}s")
        t0 = time.monotonic()
        load = Load(stack, uploaders, searchers, max_backlog, t0)
        load.start()
        faults, watchers = run_faults(stack, load, seconds, t0)
        load.finish()
        log(f"load stopped after {time.monotonic() - t0:.0f}s; draining")
        settle_until = time.monotonic() + drain_timeout_s  # one bound for the last recoveries and the drain
        for w in watchers:  # the last faults' recoveries, measured while the queue drains
            w.join(timeout=max(0.0, settle_until - time.monotonic()))
        load.settled.set()
        for f in faults:
            f.pop("started", None)
        drained_s = drain(stack, max(5.0, settle_until - time.monotonic()))
        log(f"drained in {drained_s:.0f}s; checking")
        figures, problems = check_books(stack, load)
        for f in faults:
            probe = f.get("probe")
            if probe is not None and not (probe.startswith("HTTP 507") and "nothing was recorded" in probe):
                problems.append(f"an upload on the full disk was not refused with 507 and its reason: {probe}")
            if f.get("error"):
                problems.append(f"fault {f['name']} could not be made: {f['error']}")
            elif f.get("recovery_s") is None:
                problems.append(f"no recovery after fault {f['name']} ({f.get('note')})")
        figures["failures_by_fault"] = failures_by_fault(load, faults)
        figures.update(stack_up_s=round(t_up), load_s=seconds, drain_s=round(drained_s), faults=faults,
                       total_s=round(time.monotonic() - t_start))
        return figures, problems
    finally:
        if not keep:
            stack_down()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=float(os.environ.get("HERITAGE_SOAK_SECONDS", 600)))
    ap.add_argument("--uploaders", type=int, default=50)
    ap.add_argument("--searchers", type=int, default=20)
    ap.add_argument("--max-backlog", type=int, default=30, help="uploaders wait while more pages are queued")
    ap.add_argument("--no-images", action="store_true", help="use the images already built")
    ap.add_argument("--keep", action="store_true", help="leave the stack up afterwards")
    a = ap.parse_args(argv)
    figures, problems = soak(a.seconds, a.uploaders, a.searchers, a.max_backlog,
                             build_images=not a.no_images, keep=a.keep)
    print(json.dumps(figures, indent=1, default=str))
    for p in problems:
        print("PROBLEM:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
