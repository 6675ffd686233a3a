"""Per-request deadlines that follow an endpoint's observed latency.

A stalled request holds its concurrency slot until its deadline. With a fixed 300 s timeout,
a server that stalls on 30% of requests turns a two-minute run into an hour; with a fixed
10 s one, a slow model's long replies would be cut. So the deadline of a request is
``MULTIPLE`` times the 95th percentile of the last ``WINDOW`` successful latencies of its
kind on its endpoint, never under ``FLOOR_S`` and never over the endpoint's configured
``timeout_s`` (the ceiling, used alone until ``MIN_SAMPLES`` latencies are known). Requests
of a kind are those with the same ``max_tokens``: a one-token answer read and a 512-token
chain of thought are timed apart. A request cut by the deadline is retried with its multiple
of the percentile ``GROWTH`` times larger each time it was cut (the floor stays the floor),
so that a reply that is genuinely slow still gets through, while a stall on an endpoint that
answers in milliseconds costs the floor each time, as a fixed short timeout would. Deadlines of requests in flight move when the percentile does: a request sent
before anything was known does not keep the ceiling.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque

MULTIPLE = 5.0
QUANTILE = 0.95
FLOOR_S = 10.0
WINDOW = 200
MIN_SAMPLES = 20
GROWTH = 1.5


class Deadlines:
    """The deadlines of one endpoint's requests: ``adaptive=False`` keeps the ceiling for all."""

    def __init__(self, ceiling_s: float, *, adaptive: bool = True):
        self.ceiling_s, self.adaptive = ceiling_s, adaptive
        self._latencies: dict[object, deque] = {}
        self._high: dict[object, float] = {}  # per kind, the latency percentile
        self._in_flight: dict[object, set] = {}

    def seconds(self, kind: object, cuts: int = 0) -> float:
        """The deadline of a request of ``kind`` that the deadline has cut ``cuts`` times before."""
        high = self._high.get(kind)
        if high is None:
            return self.ceiling_s
        return min(self.ceiling_s, max(FLOOR_S, MULTIPLE * high * GROWTH**cuts))

    def observe(self, kind: object, latency_s: float) -> None:
        """Record a successful request's latency; move the deadlines of those in flight if it changed."""
        if not self.adaptive:
            return
        window = self._latencies.setdefault(kind, deque(maxlen=WINDOW))
        window.append(latency_s)
        if len(window) < MIN_SAMPLES:
            return
        ordered = sorted(window)
        high = ordered[min(len(ordered) - 1, math.ceil(QUANTILE * len(ordered)) - 1)]
        if high != self._high.get(kind):
            self._high[kind] = high
            for request in self._in_flight.get(kind, ()):
                request.move()

    def track(self, kind: object, cuts: int) -> _InFlight:
        """``async with deadlines.track(kind, cuts):`` around the request: it raises TimeoutError
        when the request outlives its deadline, as that deadline stands at each moment."""
        return _InFlight(self, kind, cuts)


class _InFlight:
    def __init__(self, deadlines: Deadlines, kind: object, cuts: int):
        self.deadlines, self.kind, self.cuts = deadlines, kind, cuts

    def move(self) -> None:
        if not self.timeout.expired():  # one that is ending already ends
            self.timeout.reschedule(self.started + self.deadlines.seconds(self.kind, self.cuts))

    @property
    def seconds(self) -> float:
        return self.deadlines.seconds(self.kind, self.cuts)

    async def __aenter__(self) -> _InFlight:
        self.started = asyncio.get_running_loop().time()
        self.timeout = asyncio.timeout_at(self.started + self.seconds)
        await self.timeout.__aenter__()
        self.deadlines._in_flight.setdefault(self.kind, set()).add(self)
        return self

    async def __aexit__(self, *exc) -> bool | None:
        self.deadlines._in_flight[self.kind].discard(self)
        return await self.timeout.__aexit__(*exc)
