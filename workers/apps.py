"""App config."""

from django.apps import AppConfig


class WorkersConfig(AppConfig):
    """Celery tasks."""

    name = "workers"
