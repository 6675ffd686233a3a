"""Keeping under an endpoint's rate limits, and backing off when it says 429 anyway.

- :class:`RateLimiter` spaces the requests to one endpoint so that no window of a minute holds
  more than ``requests_per_minute`` requests or ``tokens_per_minute`` tokens: each request is
  given a start time at least 60 / requests_per_minute seconds after the previous one's, and
  at least (its estimated tokens) x 60 / tokens_per_minute after that. There is no burst, so a
  server that counts over any sliding minute never sees more than its limit. All the run's
  requests to the endpoint share one limiter.
- :class:`AdaptiveLimit` is the endpoint's concurrency as AIMD: a 429 halves it (down to 1),
  each success adds 1 / limit (about one more slot per limit's worth of successes), never
  above the configured ``max_concurrency``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import Awaitable, Callable

from calibench.errors import CalibenchError

# Requests spaced exactly 60 / rpm apart reach the server with jitter, and two of them a few
# milliseconds too close put rpm + 1 into some minute (measured: 2 429s in 120 requests at
# 40/min); 2% more spacing absorbs up to 30 ms of jitter at 40/min.
MARGIN = 1.02


def estimated_tokens(payload: bytes, max_tokens: int | None) -> int:
    """A request's token cost for a tokens-per-minute budget: the body's length over 4 (about
    4 bytes a token in English; the JSON around the messages makes this an overestimate) plus
    the tokens it may generate."""
    return len(payload) // 4 + (max_tokens or 0)


class RateLimiter:
    """Requests-per-minute and tokens-per-minute limits of one endpoint (either may be None)."""

    def __init__(
        self,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        for name, value in (("requests_per_minute", requests_per_minute), ("tokens_per_minute", tokens_per_minute)):
            if value is not None and not value > 0:
                raise CalibenchError(f"{name} must be positive, got {value}")
        self.requests_per_minute, self.tokens_per_minute = requests_per_minute, tokens_per_minute
        self._clock, self._sleep = clock, sleep
        self._next_request = self._next_tokens = float("-inf")

    @property
    def active(self) -> bool:
        return self.requests_per_minute is not None or self.tokens_per_minute is not None

    def reserve(self, tokens: int) -> float:
        """Book the next start time for a request of ``tokens``; return how long to wait for it."""
        now = self._clock()
        start = max(now, self._next_request, self._next_tokens)
        if self.requests_per_minute is not None:
            self._next_request = start + MARGIN * 60.0 / self.requests_per_minute
        if self.tokens_per_minute is not None:
            self._next_tokens = start + MARGIN * tokens * 60.0 / self.tokens_per_minute
        return start - now

    async def acquire(self, tokens: int) -> None:
        """Wait until a request of ``tokens`` may start."""
        if self.active:
            wait = self.reserve(tokens)
            if wait > 0:
                await self._sleep(wait)


class AdaptiveLimit:
    """Concurrency that halves on a 429 and grows back by 1 / limit per success (AIMD).

    ``async with limit:`` holds one of ``int(limit)`` places; waiters are served first come,
    first served, one wake-up per freed place (like asyncio.Semaphore), so a thousand queued
    requests cost no more than a thousand wake-ups.
    """

    def __init__(self, maximum: int):
        self.maximum = maximum
        self.limit = float(maximum)
        self.in_flight = 0
        self._waiters: collections.deque[asyncio.Future] = collections.deque()

    @property
    def free(self) -> float:
        """The share of the current limit not in use (for choosing among endpoints)."""
        return (int(self.limit) - self.in_flight) / self.maximum

    async def __aenter__(self) -> AdaptiveLimit:
        if not self._waiters and self.in_flight < int(self.limit):
            self.in_flight += 1
            return self
        granted = asyncio.get_running_loop().create_future()
        self._waiters.append(granted)
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():  # given a place, then cancelled: hand it on
                self.in_flight -= 1
                self._wake()
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(granted)
            raise
        return self

    async def __aexit__(self, *exc) -> None:
        self.in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_flight < int(self.limit):
            granted = self._waiters.popleft()
            if not granted.done():
                self.in_flight += 1
                granted.set_result(None)

    def throttled(self) -> None:
        self.limit = max(1.0, self.limit / 2)

    def succeeded(self) -> None:
        self.limit = min(float(self.maximum), self.limit + 1.0 / self.limit)
