"""Account emails survive an SMTP outage: the Celery task retries with exponential backoff and
full jitter, and the message arrives exactly once.

The task runs through Celery's eager ``apply()``: a retry there runs again at once, in the
same call (the countdown is not waited for), so these tests need no clock and no worker.
``RetryPolicy.countdown`` is wrapped to record each retry number it is asked about.
"""

from __future__ import annotations

import socket
from smtplib import SMTPDataError
from typing import Any

import pytest
from django.test import Client

from nexus.accounts.models import User
from tests.accounts.smtp import smtp_fixture  # noqa: F401
from tests.accounts.support import PASSWORD, activate, path_of
from workers import tasks

PUBLIC_URL = "https://nexus.example.com"


@pytest.fixture
def backoffs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, float]]:
    """``(retries, base)`` of every backoff the task asks for; the real method still runs."""
    calls: list[tuple[int, float]] = []
    real = tasks.RetryPolicy.countdown

    def recording(policy: tasks.RetryPolicy, retries: int) -> float:
        calls.append((retries, policy.base_seconds))
        delay = real(policy, retries)
        assert 0 <= delay <= min(policy.cap_seconds, policy.base_seconds * 2**retries)
        return delay

    monkeypatch.setattr(tasks.RetryPolicy, "countdown", recording)
    return calls


@pytest.fixture
def newcomer(db: None, settings: Any) -> User:
    settings.NEXUS_PUBLIC_URL = PUBLIC_URL
    return User.objects.create_user(username="newcomer", email="newcomer@example.com",
                                    password=PASSWORD, is_active=False)


def test_smtp_down_then_up_delivers_once(newcomer: User, smtp: Any,
                                         backoffs: list[tuple[int, float]]) -> None:
    smtp.refuse_next(2)

    result = tasks.send_account_email.apply(kwargs={"kind": "activation",
                                                    "argument": str(newcomer.pk)})

    assert result.successful(), result.traceback
    assert smtp.attempts == 3  # two 421s, then accepted
    assert smtp.handler.refused == 2
    [received] = smtp.wait_for(1)
    assert received.rcpt_tos == ("newcomer@example.com",)
    base = tasks.RETRY.base_seconds
    assert backoffs == [(0, base), (1, base)]  # retried twice, the backoff growing each time
    [link] = smtp.links("/accounts/activate/")
    assert activate(Client(), path_of(link, PUBLIC_URL)).status_code == 200
    newcomer.refresh_from_db()
    assert newcomer.is_active


def test_password_reset_email_retries_too(newcomer: User, smtp: Any,
                                          backoffs: list[tuple[int, float]]) -> None:
    newcomer.is_active = True
    newcomer.save()
    smtp.refuse_next(1)

    result = tasks.send_account_email.apply(kwargs={"kind": "password_reset",
                                                    "argument": "newcomer@example.com"})

    assert result.successful(), result.traceback
    assert (smtp.attempts, len(smtp.messages)) == (2, 1)
    assert backoffs == [(0, tasks.RETRY.base_seconds)]


def test_gives_up_after_max_retries(newcomer: User, smtp: Any,
                                    backoffs: list[tuple[int, float]]) -> None:
    """An outage longer than the retries: the task fails with the SMTP error, nothing sent."""
    smtp.refuse_next(100)

    result = tasks.send_account_email.apply(kwargs={"kind": "activation",
                                                    "argument": str(newcomer.pk)})

    assert result.failed()
    assert isinstance(result.result, SMTPDataError)
    assert result.result.smtp_code == 421
    assert smtp.attempts == tasks.RETRY.max_retries + 1
    assert smtp.messages == []
    assert [retries for retries, _ in backoffs] == list(range(tasks.RETRY.max_retries + 1))


def test_smtp_server_gone_is_retried_as_well(newcomer: User, smtp: Any, settings: Any,
                                             backoffs: list[tuple[int, float]]) -> None:
    """Connection refused (an OSError) retries like a 421; here it never comes back."""
    with socket.socket() as closed:  # a port nobody listens on: bound, never listening
        closed.bind(("127.0.0.1", 0))
        settings.EMAIL_PORT = closed.getsockname()[1]
        result = tasks.send_account_email.apply(kwargs={"kind": "activation",
                                                        "argument": str(newcomer.pk)})
    assert result.failed()
    assert isinstance(result.result, OSError)
    assert len(backoffs) == tasks.RETRY.max_retries + 1
    assert smtp.attempts == 0


def test_an_already_active_account_gets_no_activation_email(newcomer: User, smtp: Any) -> None:
    """A retry after the user activated (or a duplicate message) sends nothing."""
    newcomer.is_active = True
    newcomer.save()
    result = tasks.send_account_email.apply(kwargs={"kind": "activation",
                                                    "argument": str(newcomer.pk)})
    assert result.successful()
    assert smtp.attempts == 0


# --- the retry policy ---------------------------------------------------------------------------

@pytest.mark.parametrize(("retries", "base", "cap", "high"), [
    (0, 5.0, 600.0, 5.0), (1, 5.0, 600.0, 10.0), (3, 5.0, 600.0, 40.0), (6, 5.0, 600.0, 320.0),
    (7, 5.0, 600.0, 600.0), (30, 5.0, 600.0, 600.0), (0, 2.0, 600.0, 2.0),
    (8, 2.0, 600.0, 512.0), (9, 2.0, 600.0, 600.0),
])
def test_backoff_draws_uniformly_below_the_capped_exponential(
        monkeypatch: pytest.MonkeyPatch, retries: int, base: float, cap: float,
        high: float) -> None:
    """Full jitter: uniform in [0, min(cap, base * 2**retries)]."""
    asked: list[tuple[float, float]] = []
    monkeypatch.setattr(tasks.random, "uniform", lambda a, b: asked.append((a, b)) or b)

    assert tasks.RetryPolicy(base_seconds=base, cap_seconds=cap).countdown(retries) == high
    assert asked == [(0, high)]


def test_backoff_real_draws_stay_in_bounds_and_spread() -> None:
    """Real draws (a spread below half the range over 200 draws has odds of about 2**-190)."""
    for retries in range(12):
        high = min(600.0, 5.0 * 2**retries)
        draws = [tasks.RETRY.countdown(retries) for _ in range(200)]
        assert all(0 <= d <= high for d in draws)
        assert max(draws) - min(draws) > high / 2  # jittered, not a fixed delay


def test_default_backoff_grows_exponentially_up_to_the_cap(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    monkeypatch.setattr(tasks.random, "uniform", lambda a, b: b)
    highs = [tasks.RETRY.countdown(n) for n in range(10)]
    assert highs == [5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 600.0, 600.0, 600.0]
