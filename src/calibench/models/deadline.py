"""Per-request deadlines that follow an endpoint's observed latency.

A stalled request holds its concurrency slot until its deadline. With a fixed 300 s timeout,
a server that stalls on 30% of requests turns a two-minute run into an hour; with a fixed
10 s one, a slow model's long replies would be cut. So the deadline of a request is
``MULTIPLE`` times the 95th percentile of the last ``WINDOW`` successful latencies of its
kind on its endpoint, never under ``FLOOR_S`` and never over the endpoint's configured
``timeout_s`` (the ceiling, used alone until ``MIN_SAMPLES`` latencies are known).

- Kinds: requests with the same ``max_tokens`` are timed together (a one-token answer read
  and a 512-token chain of thought apart), and a request with a longer prompt than its kind's
  median gets a deadline longer in proportion, so that the longest questions are not the
  ones cut.
- A request cut by the deadline is retried with its multiple of the percentile ``GROWTH``
  times larger each time it was cut (the floor stays the floor): a reply that is genuinely
  slow still gets through, while a stall on an endpoint that answers in milliseconds costs
  the floor each time, as a fixed short timeout would.
- An endpoint that slows down for everyone: when more than three quarters of a kind's last
  ``OUTCOMES`` attempts were cut (stalls on some requests leave most of them answered), each
  further cut doubles the kind's deadline; the doubling ends at the first reply that the
  deadline without it would have let through (the percentile has caught up, or the
  slowness has passed).
- Deadlines of requests in flight move when the deadline does: a request sent before
  anything was known does not keep the ceiling.
"""

from __future__ import annotations

import asyncio
import math
import statistics
from collections import deque

MULTIPLE = 5.0
QUANTILE = 0.95
FLOOR_S = 10.0
WINDOW = 200
MIN_SAMPLES = 20
GROWTH = 1.5
OUTCOMES = 20  # recent attempts (answered or cut) that tell an endpoint slowing down from stalls


class _Kind:
    def __init__(self):
        self.latencies: deque[float] = deque(maxlen=WINDOW)
        self.tokens: deque[int] = deque(maxlen=WINDOW)
        self.outcomes: deque[bool] = deque(maxlen=OUTCOMES)  # True: answered; False: cut
        self.high: float | None = None  # the latency percentile, once MIN_SAMPLES are known
        self.typical_tokens: float | None = None  # the median prompt size of those
        self.stretch = 1.0  # > 1 while the endpoint is slower than the percentile says


class Deadlines:
    """The deadlines of one endpoint's requests: ``adaptive=False`` keeps the ceiling for all."""

    def __init__(self, ceiling_s: float, *, adaptive: bool = True):
        self.ceiling_s, self.adaptive = ceiling_s, adaptive
        self._kinds: dict[object, _Kind] = {}
        self._in_flight: dict[object, set] = {}

    def seconds(self, kind: object, cuts: int = 0, tokens: int | None = None, *, stretched: bool = True) -> float:
        """The deadline of a request of ``kind`` (its prompt ``tokens`` long) that the deadline cut ``cuts`` times before."""
        k = self._kinds.get(kind)
        if k is None or k.high is None:
            return self.ceiling_s
        longer = max(1.0, tokens / k.typical_tokens) if tokens and k.typical_tokens else 1.0
        return min(self.ceiling_s, max(FLOOR_S, MULTIPLE * k.high * GROWTH**cuts * longer) * (k.stretch if stretched else 1.0))

    def observe(self, kind: object, latency_s: float, tokens: int | None = None) -> None:
        """Record a successful request's latency (and prompt size); move the deadlines in flight if they changed."""
        if not self.adaptive:
            return
        k = self._kinds.setdefault(kind, _Kind())
        if k.stretch > 1 and latency_s <= self.seconds(kind, 0, tokens, stretched=False):
            k.stretch = 1.0  # a reply the plain deadline lets through: no need to wait longer
        k.latencies.append(latency_s)
        k.tokens.append(tokens or 0)
        k.outcomes.append(True)
        if len(k.latencies) < MIN_SAMPLES:
            return
        ordered = sorted(k.latencies)
        k.high = ordered[min(len(ordered) - 1, math.ceil(QUANTILE * len(ordered)) - 1)]
        k.typical_tokens = statistics.median(k.tokens) or None
        self._move(kind)

    def cut(self, kind: object, seconds: float) -> None:
        """Record a request the deadline ended; when most recent attempts of the kind were cut, lengthen its deadline."""
        if not self.adaptive:
            return
        k = self._kinds.setdefault(kind, _Kind())
        k.outcomes.append(False)
        if len(k.outcomes) >= OUTCOMES // 2 and k.outcomes.count(False) > 0.75 * len(k.outcomes) and seconds < self.ceiling_s:
            k.stretch *= 2
            self._move(kind)

    def _move(self, kind: object) -> None:
        for request in self._in_flight.get(kind, ()):
            request.move()

    def track(self, kind: object, cuts: int, tokens: int | None = None) -> _InFlight:
        """``async with deadlines.track(kind, cuts, tokens):`` around the request: it raises
        TimeoutError when the request outlives its deadline, as that deadline stands at each moment."""
        return _InFlight(self, kind, cuts, tokens)


class _InFlight:
    def __init__(self, deadlines: Deadlines, kind: object, cuts: int, tokens: int | None):
        self.deadlines, self.kind, self.cuts, self.tokens = deadlines, kind, cuts, tokens

    @property
    def seconds(self) -> float:
        return self.deadlines.seconds(self.kind, self.cuts, self.tokens)

    def move(self) -> None:
        if not self.timeout.expired():  # one that is ending already ends
            self.timeout.reschedule(self.started + self.seconds)

    async def __aenter__(self) -> _InFlight:
        self.started = asyncio.get_running_loop().time()
        self.timeout = asyncio.timeout_at(self.started + self.seconds)
        await self.timeout.__aenter__()
        self.deadlines._in_flight.setdefault(self.kind, set()).add(self)
        return self

    async def __aexit__(self, *exc) -> bool | None:
        self.deadlines._in_flight[self.kind].discard(self)
        return await self.timeout.__aexit__(*exc)
