"""The event store as the command handlers see it (the shared application)."""

from events.application import get_application, reset_application

__all__ = ["get_application", "reset_application"]
