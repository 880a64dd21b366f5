"""Rate limits of API.md: each N/period holds in every period-long window (sliding).

Counters per clock window let 2N through across a boundary (N at :59, N more at :00). The
``limits`` library's moving window instead keeps the times of the last N counted hits: a hit
passes only when the N-th most recent one is older than the period. On Redis that check and
the append are one Lua script, so simultaneous requests in any number of processes cannot
share the last slot; without ``REDIS_URL`` (the embedded single process) the same strategy
runs in this process's memory. ``Retry-After`` is the time until the oldest counted hit leaves
the window, rounded up.

When Redis does not answer, hits are counted in this process's memory instead (and logged):
every limit still holds per process, and a Redis outage neither opens the login to unlimited
guessing (fail open) nor turns every request into an error (fail closed).
"""

from __future__ import annotations

import functools
import logging
import math
import time
from typing import Any

from django.conf import settings
from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

DURATIONS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600,
             "hour": 3600, "d": 86400, "day": 86400}
# Redis that refuses the connection is down: that is known at once, whatever the timeouts, and
# hits are counted here. Redis that is only slow (a loaded host, forty connections opened at
# once) still counts, given time: a 1 s connect timeout let such a moment fall back to an empty
# local count and pass a sixth login of five (a CI run under load saw it).
REDIS_CONNECT_TIMEOUT_SECONDS = 5.0
REDIS_READ_TIMEOUT_SECONDS = 5.0


def parse_rate(rate: str) -> tuple[int, int]:
    """``"5/minute"`` -> ``(5, 60)``."""
    count, _, period = rate.partition("/")
    return int(count), DURATIONS[period.strip().lower()]


def client_ip(request: Any) -> str:
    """The caller's address: ``REMOTE_ADDR``, or ``X-Forwarded-For`` through trusted proxies.

    With N trusted proxies, the address N hops from the right of the chain (the one our
    outermost proxy saw) is the client; anything a client forged further left is ignored.
    """
    meta = getattr(request, "META", {})
    remote = meta.get("REMOTE_ADDR", "") or "unknown"
    trusted = settings.NEXUS_TRUSTED_PROXIES
    if trusted <= 0:
        return remote
    forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")
                 if part.strip()]
    chain = forwarded + [remote]
    return chain[-(trusted + 1)] if len(chain) > trusted else chain[0]


class Throttled(Exception):
    """Raised by :func:`hit` when over the limit; carries the seconds to wait."""

    def __init__(self, wait: int) -> None:
        super().__init__(f"Request was throttled. Expected available in {wait} seconds.")
        self.wait = wait


# This process's memory: the embedded default, and the fallback while Redis is down. Made at
# import, not on first use: two threads making one each at once would split its counts.
_PROCESS_LIMITER = MovingWindowRateLimiter(MemoryStorage())


@functools.cache
def _redis_limiter(redis_url: str, key_prefix: str) -> MovingWindowRateLimiter:
    """One per Redis and prefix, kept for the process's life (its connection pool too).

    Keys start with ``NEXUS_CACHE_PREFIX`` like the cache's, so deployments (and test runs)
    sharing one Redis database keep apart counters.
    """
    return MovingWindowRateLimiter(RedisStorage(
        redis_url, key_prefix=f"{key_prefix}:throttle",
        socket_connect_timeout=REDIS_CONNECT_TIMEOUT_SECONDS,
        socket_timeout=REDIS_READ_TIMEOUT_SECONDS,
    ))


def _shared_limiter() -> MovingWindowRateLimiter:
    """Redis when configured (every process counts together), else this process's memory."""
    if not settings.REDIS_URL:
        return _PROCESS_LIMITER
    return _redis_limiter(settings.REDIS_URL, settings.NEXUS_CACHE_PREFIX)


def _wait_after(limiter: MovingWindowRateLimiter, item: RateLimitItemPerSecond,
                ident: str) -> int | None:
    """Count one hit; ``None`` if it passed, else the whole seconds until a slot frees."""
    if limiter.hit(item, ident):
        return None
    reset_at, remaining = limiter.get_window_stats(item, ident)
    if remaining > 0:  # the oldest hit left the window right after the refusal
        return 1
    return max(1, math.ceil(reset_at - time.time()))


def hit(scope: str, ident: str, rate: str) -> None:
    """Count one request of ``ident`` in ``scope``; raise :class:`Throttled` beyond ``rate``."""
    limit, duration = parse_rate(rate)
    item = RateLimitItemPerSecond(limit, duration, namespace=scope)
    try:
        wait = _wait_after(_shared_limiter(), item, ident)
    except RedisError as error:
        logger.warning("Throttle storage unavailable (%r); counting in this process only.",
                       error)
        wait = _wait_after(_PROCESS_LIMITER, item, ident)
    if wait is not None:
        raise Throttled(wait)


def reset() -> None:
    """Forget every counted hit (tests start from zero; an operator may lift a lockout)."""
    _shared_limiter().storage.reset()
    _PROCESS_LIMITER.storage.reset()


class AtomicRateThrottle(BaseThrottle):
    """A DRF throttle over :func:`hit`; subclasses name the scope, rate and identity."""

    scope = ""
    rate_setting = ""

    def get_ident_for(self, request: Any, view: Any) -> str | None:
        """Who is counted, or ``None`` when this throttle does not apply."""
        raise NotImplementedError

    def allow_request(self, request: Any, view: Any) -> bool:
        ident = self.get_ident_for(request, view)
        if ident is None:
            return True
        try:
            hit(self.scope, ident, getattr(settings, self.rate_setting))
        except Throttled as error:
            self._wait = error.wait
            return False
        return True

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)


class AnonRateThrottle(AtomicRateThrottle):
    """Anonymous requests, per client IP (``NEXUS_THROTTLE_ANON``, 10/day)."""

    scope = "anon"
    rate_setting = "NEXUS_THROTTLE_ANON"

    def get_ident_for(self, request: Any, view: Any) -> str | None:
        user = getattr(request, "_user", None) or getattr(request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            return None
        return client_ip(request)


class UserRateThrottle(AtomicRateThrottle):
    """Authenticated requests, per user, REST and GraphQL together (1,000/day)."""

    scope = "user"
    rate_setting = "NEXUS_THROTTLE_USER"

    def get_ident_for(self, request: Any, view: Any) -> str | None:
        user = getattr(request, "_user", None) or getattr(request, "user", None)
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        return str(user.pk)


class LoginIpRateThrottle(AtomicRateThrottle):
    """Login attempts per client IP (``NEXUS_THROTTLE_LOGIN``, 5/minute)."""

    scope = "login-ip"
    rate_setting = "NEXUS_THROTTLE_LOGIN"

    def get_ident_for(self, request: Any, view: Any) -> str | None:
        return client_ip(request)


class LoginUsernameRateThrottle(AtomicRateThrottle):
    """Login attempts per username, whoever sends them (5/minute)."""

    scope = "login-user"
    rate_setting = "NEXUS_THROTTLE_LOGIN"

    def get_ident_for(self, request: Any, view: Any) -> str | None:
        data = getattr(request, "data", None)
        if data is None:  # a plain Django request: the HTML login form, the admin login
            data = getattr(request, "POST", None)
        username = data.get("username") if hasattr(data, "get") else None
        if not isinstance(username, str) or not username:
            return None
        return username.strip().lower()[:150]


LOGIN_THROTTLES: tuple[type[AtomicRateThrottle], ...] = (LoginIpRateThrottle,
                                                          LoginUsernameRateThrottle)


def count_login_attempt(request: Any) -> None:
    """Count one login attempt (API, HTML form or admin alike); raise :class:`Throttled`.

    Per IP first, then per username, stopping at the first refusal: counting an attempt the
    IP limit refused against the username too would let simultaneous attempts pass one
    counter and fail the other, and fewer than the limit get through.
    """
    for throttle_class in LOGIN_THROTTLES:
        throttle = throttle_class()
        if not throttle.allow_request(request, None):
            raise Throttled(int(throttle.wait() or 1))


def count_anonymous_request(request: Any) -> None:
    """Count an HTML form post like its anonymous API twin: per client IP, session or not."""
    hit(AnonRateThrottle.scope, client_ip(request), settings.NEXUS_THROTTLE_ANON)
