"""The one compare-and-set lease: two workers racing for one 3D build (or one page) — exactly one wins,
on SQLite and on a real PostgreSQL (``platform`` runs on both)."""

from __future__ import annotations

import threading

import trimesh

from library.access import Actor
from library import leases
from library.catalogue.models import BuildStatus, ModelVersion
from library.monuments.service import BuildSource

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)


def _queued_build(platform, tmp_path):
    path = tmp_path / "bia.stl"
    trimesh.creation.box(extents=(2.0, 0.3, 1.2)).export(path)
    m = platform.monuments.create_monument(name_vi="Bia tiến sĩ", actor=SYSTEM)
    return platform.monuments.submit_build(m.id, [BuildSource(path, path.name)], title="Bia", actor=SYSTEM).id


def test_two_claimants_that_both_read_the_build_as_free_cannot_both_take_it(platform, tmp_path):
    version_id = _queued_build(platform, tmp_path)
    with platform.sessions() as a, platform.sessions() as b:
        seen_a, seen_b = a.get(ModelVersion, version_id), b.get(ModelVersion, version_id)
        assert seen_a.status == seen_b.status == BuildStatus.queued  # both read it as free
        won = []
        for session, seen, token in ((a, seen_a, "worker-a"), (b, seen_b, "worker-b")):
            won.append(leases.take(session, ModelVersion, version_id, seen_token=seen.lease_token,
                                   seen_status=seen.status, values=dict(status=BuildStatus.running, lease_token=token)))
            session.commit()
    assert won == [True, False]
    with platform.sessions() as s:
        assert s.get(ModelVersion, version_id).lease_token == "worker-a"


def test_two_workers_racing_for_one_build_build_it_once(platform, tmp_path):
    version_id = _queued_build(platform, tmp_path)
    start = threading.Barrier(2)
    results = []

    def worker():
        start.wait()
        results.append(platform.monuments.build(version_id))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    version = platform.monuments.version(version_id)
    assert version.status == BuildStatus.done, version.status_reason
    assert version.attempts == 1  # built once
    assert BuildStatus.done in results and len(results) == 2
