"""The Celery application factory for the workers.

Nothing is built at import time except through :func:`create_celery`; the
tasks are ``@shared_task`` and find their :class:`library.container.Platform`
through :func:`platform`, built once per worker process (after the fork, so no
database connection is shared between processes).
"""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_process_init

from library.container import Platform, build_platform
from library.queue import make_celery
from library.settings import Settings

_platform: Platform | None = None
_platform_pid: int | None = None
_settings: Settings | None = None


def create_celery(settings: Settings | None = None) -> Celery:
    global _settings
    _settings = settings or Settings.from_env()
    app = make_celery(_settings, name="heritage-workers")
    app.conf.update(include=["workers.tasks"], worker_max_tasks_per_child=200)
    app.set_default()
    return app


def platform() -> Platform:
    """The Platform of this worker process."""
    global _platform, _platform_pid
    if _platform is None or _platform_pid != os.getpid():
        _platform = build_platform(_settings or Settings.from_env(), migrate=False)
        _platform_pid = os.getpid()
    return _platform


@worker_process_init.connect
def _fresh_platform_after_fork(**_kwargs) -> None:
    global _platform
    _platform = None  # the parent's engine must not be used across fork
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
