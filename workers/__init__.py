"""Celery workers: thin tasks that call the use cases in ``library``."""
