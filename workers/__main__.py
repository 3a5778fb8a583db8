"""``python -m workers``: a Celery worker on the queue of the configured platform."""

from __future__ import annotations

import os
import sys

from library.queue import QUEUE
from library.settings import Settings
from workers.app import create_celery


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # tesseract: one thread per process
    settings = Settings.from_env()
    app = create_celery(settings)
    args = argv if argv is not None else sys.argv[1:]
    app.worker_main(["worker", "-Q", QUEUE, "--loglevel", os.environ.get("HERITAGE_LOG_LEVEL", "INFO"),
                     "--concurrency", str(settings.worker_concurrency), "--pool", "prefork",
                     "--without-gossip", "--without-mingle", "--without-heartbeat", *args])


if __name__ == "__main__":
    main()
