"""A real SMTP server for the account tests (aiosmtpd), and Django pointed at it.

The server listens on 127.0.0.1 on a port the kernel picks (bound once, so no other process
can take it between choosing and binding), records every message it accepts and can be told
to refuse the next N messages with ``421 Service not available``, as a mail server that is
down does. Waiting is on conditions, never on sleeps.

Use it with ``from tests.accounts.smtp import smtp_fixture  # noqa: F401`` and a test argument
named ``smtp``.
"""

from __future__ import annotations

import email
import email.policy
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

REFUSAL = "421 Service not available"


@dataclass(frozen=True)
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def text(self) -> str:
        """The ``text/plain`` part."""
        return _part(self.message, "text/plain")

    @property
    def html(self) -> str:
        """The ``text/html`` part."""
        return _part(self.message, "text/html")


def _part(message: EmailMessage, content_type: str) -> str:
    parts = [part for part in message.walk() if part.get_content_type() == content_type]
    assert len(parts) == 1, f"expected one {content_type} part, got {len(parts)}"
    return parts[0].get_content()


class RecordingHandler:
    """aiosmtpd handler: records accepted messages, refuses the next N with 421."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.received: list[Received] = []
        self.attempts = 0  # every DATA command, accepted or refused
        self.refused = 0
        self._refuse_next = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._changed:
            self.attempts += 1
            if self._refuse_next > 0:
                self._refuse_next -= 1
                self.refused += 1
                self._changed.notify_all()
                return REFUSAL
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), parsed))
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def refuse_next(self, count: int) -> None:
        """Answer ``421 Service not available`` to the next ``count`` messages."""
        with self._changed:
            self._refuse_next = count

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Block until at least ``count`` messages arrived (or fail after ``timeout``)."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self.received) >= count, timeout)
            assert arrived, f"{len(self.received)} of {count} messages arrived in {timeout}s"
            return list(self.received)


class _EphemeralPortController(Controller):
    """``Controller`` on port 0: learns the kernel's port before its own start-up probe."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class SmtpServer:
    """What a test sees: the address, the recorded messages, and the 421 switch."""

    host: str
    port: int
    handler: RecordingHandler

    @property
    def messages(self) -> list[Received]:
        return list(self.handler.received)

    @property
    def attempts(self) -> int:
        return self.handler.attempts

    def refuse_next(self, count: int) -> None:
        self.handler.refuse_next(count)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        return self.handler.wait_for(count, timeout)

    def links(self, path: str) -> list[str]:
        """Every link to ``path`` (e.g. ``/accounts/activate/``) in the messages so far."""
        pattern = re.compile(r"https?://[^\s\"<>]+" + re.escape(path) + r"[^\s\"<>]*")
        return [link for received in self.messages for link in pattern.findall(received.text)]


def start_smtp_server() -> tuple[Controller, SmtpServer]:
    """Start a server on 127.0.0.1 and a free port; ``start()`` returns once it answers."""
    handler = RecordingHandler()
    controller = _EphemeralPortController(handler, hostname="127.0.0.1", port=0)
    controller.start()
    return controller, SmtpServer("127.0.0.1", controller.port, handler)


@pytest.fixture(name="smtp")
def smtp_fixture(settings: Any) -> Iterator[SmtpServer]:
    """A running SMTP server, with Django's SMTP backend pointed at it for the test."""
    controller, server = start_smtp_server()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    try:
        yield server
    finally:
        controller.stop()
