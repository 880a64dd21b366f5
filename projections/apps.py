"""App config."""

from django.apps import AppConfig


class ProjectionsConfig(AppConfig):
    """The projections app."""

    name = "projections"
