"""Rate limits: requests and tokens per minute kept by spacing, and AIMD concurrency on 429."""

import asyncio
import time

import pytest

from calibench.errors import CalibenchError
from calibench.models.client import ChatClient, Endpoint, RetryPolicy, SamplingOptions
from calibench.models.rate_limit import MARGIN, AdaptiveLimit, RateLimiter, estimated_tokens

MESSAGES = [{"role": "user", "content": "2+2?"}]


def test_requests_are_spaced_evenly_with_no_burst():
    now = [100.0]
    limiter = RateLimiter(requests_per_minute=40, clock=lambda: now[0])
    gap = 1.5 * MARGIN  # 60 / 40 s, and the margin for jitter
    waits = [limiter.reserve(1) for _ in range(4)]
    assert waits == pytest.approx([0.0, gap, 2 * gap, 3 * gap])
    now[0] += 10  # idle time is not banked: the next request goes at once, the one after a gap later
    assert [limiter.reserve(1), limiter.reserve(1)] == pytest.approx([0.0, gap])


def test_tokens_per_minute_spaces_by_cost():
    now = [0.0]
    limiter = RateLimiter(tokens_per_minute=6000, clock=lambda: now[0])
    assert limiter.reserve(1000) == 0.0 and limiter.reserve(500) == pytest.approx(10.0 * MARGIN)  # 1,000 tokens: 10 s
    assert limiter.reserve(1) == pytest.approx(15.0 * MARGIN)
    assert estimated_tokens(b"x" * 400, 32) == 132
    with pytest.raises(CalibenchError, match="requests_per_minute must be positive"):
        RateLimiter(requests_per_minute=0)


def test_aimd_halves_on_throttling_and_grows_back_to_the_maximum():
    gate = AdaptiveLimit(8)
    gate.throttled()
    gate.throttled()
    assert gate.limit == 2.0
    for _ in range(3):
        gate.throttled()
    assert gate.limit == 1.0  # never below one
    for _ in range(200):
        gate.succeeded()
    assert gate.limit == 8.0  # never above the configured concurrency


async def _send_all(url, n, **endpoint):
    async with ChatClient("m", [Endpoint(url, max_concurrency=8, **endpoint)],
                          retry=RetryPolicy(max_attempts=20, backoff_base_s=0.05, backoff_max_s=0.2, retry_after_max_s=0.2)) as client:
        start = time.perf_counter()
        await asyncio.gather(*[client.chat(MESSAGES, SamplingOptions(max_tokens=4)) for _ in range(n)])
        return time.perf_counter() - start, client._slots[0].gate.limit


def test_a_rate_limited_server_sees_no_429_when_the_limit_is_configured(fault_server):
    fault_server.rate_limit = (10, 1.0)  # at most 10 requests in any second: 600 a minute
    elapsed, _ = asyncio.run(_send_all(fault_server.base_url, 30, requests_per_minute=540))
    assert fault_server.throttled == 0 and len(fault_server.requests) == 30
    assert elapsed >= 29 * 60 / 540 * 0.95  # spaced: about 3.2 s, not a burst


def test_without_the_limit_429s_are_retried_and_concurrency_backs_off(fault_server, monkeypatch):
    lowest = []
    original = AdaptiveLimit.throttled

    def recording(self):
        original(self)
        lowest.append(self.limit)

    monkeypatch.setattr(AdaptiveLimit, "throttled", recording)
    fault_server.rate_limit = (10, 1.0)
    asyncio.run(_send_all(fault_server.base_url, 30))
    assert fault_server.throttled > 0 and len(fault_server.requests) == 30  # every request served in the end
    assert len(lowest) == fault_server.throttled and min(lowest) <= 2  # each 429 halved the concurrency


def test_the_gate_holds_at_most_its_limit_and_survives_cancellation():
    async def main():
        gate = AdaptiveLimit(3)
        seen = []

        async def work():
            async with gate:
                seen.append(gate.in_flight)
                await asyncio.sleep(0.01)

        tasks = [asyncio.create_task(work()) for _ in range(20)]
        await asyncio.sleep(0.015)
        tasks[12].cancel()  # a waiter leaves the queue
        gate.throttled()  # 3 -> 1.5: one at a time from now on
        after = len(seen)
        await asyncio.gather(*tasks, return_exceptions=True)
        return seen, after, gate.in_flight

    seen, after, left = asyncio.run(main())
    assert max(seen) <= 3 and max(seen[after + 2:]) == 1  # once the places in use drain, one at a time
    assert len(seen) == 19 and left == 0  # the cancelled one never ran; no place is lost
