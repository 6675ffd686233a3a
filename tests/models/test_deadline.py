import asyncio
import time

import pytest

from calibench.models import ChatClient, Endpoint, RetryPolicy
from calibench.models import deadline
from calibench.models.deadline import Deadlines


def test_the_ceiling_until_enough_is_known_then_a_multiple_of_the_high_percentile():
    d = Deadlines(300.0)
    for _ in range(deadline.MIN_SAMPLES - 1):
        d.observe(16, 0.1)
    assert d.seconds(16) == 300.0
    d.observe(16, 0.1)
    assert d.seconds(16) == deadline.FLOOR_S  # 5 x 0.1 s is under the floor
    for _ in range(deadline.WINDOW):
        d.observe(16, 4.0)
    assert d.seconds(16) == pytest.approx(deadline.MULTIPLE * 4.0)
    for _ in range(deadline.WINDOW):
        d.observe(16, 200.0)
    assert d.seconds(16) == 300.0  # never over the configured timeout


def test_the_percentile_ignores_a_few_slow_replies():
    d = Deadlines(300.0)
    for i in range(100):
        d.observe(1, 30.0 if i < 4 else 1.0)  # 4% slow: above the 95th percentile
    assert d.seconds(1) == deadline.FLOOR_S
    d.observe(1, 30.0)
    d.observe(1, 30.0)  # now 6 of 102
    assert d.seconds(1) == 150.0


def test_kinds_are_timed_apart_and_cuts_grow_the_deadline():
    d = Deadlines(300.0)
    for _ in range(deadline.MIN_SAMPLES):
        d.observe(1, 0.01)
        d.observe(512, 20.0)
    assert d.seconds(1) == deadline.FLOOR_S and d.seconds(512) == 100.0
    # a cut grows the multiple of the percentile, not the floor: a stall on a fast endpoint costs the floor again
    assert d.seconds(1, cuts=2) == deadline.FLOOR_S
    assert d.seconds(512, cuts=1) == pytest.approx(100.0 * deadline.GROWTH)
    assert d.seconds(512, cuts=5) == 300.0


def test_a_fixed_deadline_when_not_adaptive():
    d = Deadlines(42.0, adaptive=False)
    for _ in range(100):
        d.observe(1, 0.01)
    assert d.seconds(1) == 42.0


def test_a_request_in_flight_gets_the_new_deadline(monkeypatch):
    # sent while nothing was known (deadline: the 30 s ceiling), it is cut once fast replies are seen
    monkeypatch.setattr(deadline, "FLOOR_S", 0.05)
    monkeypatch.setattr(deadline, "MIN_SAMPLES", 2)
    d = Deadlines(30.0)

    async def stalled():
        async with d.track("k", 0):
            await asyncio.sleep(60)

    async def go():
        task = asyncio.ensure_future(stalled())
        await asyncio.sleep(0.05)
        start = time.perf_counter()
        d.observe("k", 0.001)
        d.observe("k", 0.001)
        with pytest.raises(TimeoutError):
            await task
        return time.perf_counter() - start

    assert asyncio.run(go()) < 1.0


def test_a_stalled_request_is_cut_long_before_the_timeout_and_retried(fault_server, monkeypatch):
    monkeypatch.setattr(deadline, "FLOOR_S", 0.3)
    monkeypatch.setattr(deadline, "MIN_SAMPLES", 3)
    fault_server.script.append(("slow", 20))

    async def go():
        endpoint = Endpoint(fault_server.base_url, timeout_s=60, max_concurrency=4)
        async with ChatClient("m", [endpoint], retry=RetryPolicy(backoff_base_s=0.01)) as client:
            return await asyncio.gather(*[client.chat([{"role": "user", "content": str(i)}]) for i in range(12)])

    start = time.perf_counter()
    replies = asyncio.run(go())
    assert time.perf_counter() - start < 5
    assert sorted(r.attempts for r in replies) == [1] * 11 + [2]
    assert all(r.text.startswith("Answer") for r in replies)


def test_the_configured_timeout_alone_when_adaptation_is_off(fault_server, monkeypatch):
    monkeypatch.setattr(deadline, "FLOOR_S", 0.05)
    monkeypatch.setattr(deadline, "MIN_SAMPLES", 1)
    fault_server.script.extend([("ok", "x"), ("slow", 0.8)])

    async def go():
        endpoint = Endpoint(fault_server.base_url, timeout_s=5, adaptive_timeout=False, max_concurrency=1)
        async with ChatClient("m", [endpoint]) as client:
            return [await client.chat([{"role": "user", "content": str(i)}]) for i in range(2)]

    assert [r.attempts for r in asyncio.run(go())] == [1, 1]  # 0.8 s is slow but inside 5 s


def test_a_longer_prompt_gets_a_longer_deadline():
    d = Deadlines(300.0)
    for _ in range(deadline.MIN_SAMPLES):
        d.observe(16, 4.0, tokens=100)
    assert d.seconds(16, tokens=100) == 20.0 and d.seconds(16, tokens=50) == 20.0
    assert d.seconds(16, tokens=400) == 80.0  # four times the kind's median prompt


def test_an_endpoint_that_slows_down_for_everyone_gets_longer_deadlines(fault_server, monkeypatch):
    # fast at first (the deadline falls to its floor), then every reply takes 0.4 s: past the
    # floor, so at first every request is cut; the deadline must grow until replies come back
    monkeypatch.setattr(deadline, "FLOOR_S", 0.1)
    monkeypatch.setattr(deadline, "MIN_SAMPLES", 5)
    answered = []

    def reply(body):
        answered.append(1)
        return ("ok", "fast") if len(answered) <= 10 else ("slow", 0.4)

    fault_server.default = reply

    async def go():
        endpoint = Endpoint(fault_server.base_url, timeout_s=30, max_concurrency=2)
        async with ChatClient("m", [endpoint], retry=RetryPolicy(max_attempts=8, backoff_base_s=0.01)) as client:
            first = [await client.chat([{"role": "user", "content": str(i)}]) for i in range(10)]
            later = await asyncio.gather(*[client.chat([{"role": "user", "content": f"x{i}"}]) for i in range(12)])
            return first, later, client._slots[0].down

    first, later, down = asyncio.run(go())
    assert all(r.attempts == 1 for r in first) and len(later) == 12 and down is None
    assert all(r.text == "late" for r in later)  # the slow server's replies, each eventually waited for
