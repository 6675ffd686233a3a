import asyncio
import json
import logging
import time

import pytest

from calibench.errors import CalibenchError
from calibench.models import ChatClient, Endpoint, ModelRequestError, RetryPolicy, SamplingOptions
from calibench.models.client import parse_retry_after

FAST = RetryPolicy(max_attempts=4, backoff_base_s=0.01, backoff_max_s=0.05)
MESSAGES = [{"role": "user", "content": "2+2?"}]


def chat(url, options=None, *, retry=FAST, endpoints=None, model="m"):
    async def go():
        async with ChatClient(model, endpoints or [url], retry=retry, seed=0) as client:
            return await client.chat(MESSAGES, options)

    return asyncio.run(go())


def test_request_body_carries_every_option(fault_server):
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}}
    options = SamplingOptions(
        temperature=0.7,
        top_p=0.9,
        max_tokens=12,
        seed=3,
        n=2,
        stop=["\n\n"],
        logprobs=True,
        top_logprobs=5,
        response_format={"type": "json_schema", "json_schema": {"name": "mcq", "schema": schema}},
        extra={"cache_prompt": False},
    )
    r = chat(fault_server.base_url, options)
    assert r.text == "Answer: B\nConfidence: 80%" and r.attempts == 1 and r.usage["total_tokens"] == 15
    sent = fault_server.requests[0]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["body"] == {
        "model": "m",
        "messages": MESSAGES,
        "temperature": 0.7,
        "top_p": 0.9,
        "max_tokens": 12,
        "seed": 3,
        "n": 2,
        "stop": ["\n\n"],
        "logprobs": True,
        "top_logprobs": 5,
        "response_format": options.response_format,
        "cache_prompt": False,
    }
    chat(fault_server.base_url, SamplingOptions(temperature=None))
    assert "temperature" not in fault_server.requests[1]["body"]


@pytest.mark.parametrize(
    "fault",
    [
        ("status", 500, "boom"),
        ("status", 502, "bad gateway"),
        ("status", 503, "unavailable"),
        ("status", 429, "slow down"),
        ("raw", b'{"choices": [{"message": {"content": "trunc'),
        ("raw", b'{"id": "no choices here"}'),
        ("raw", b'{"choices": []}'),
        ("reset",),
    ],
)
def test_transient_faults_are_retried(fault_server, fault):
    fault_server.script.extend([fault, fault])
    r = chat(fault_server.base_url)
    assert r.attempts == 3 and r.text.startswith("Answer: B")
    assert len(fault_server.requests) == 3


def test_retry_after_is_honoured(fault_server):
    fault_server.script.append(("status", 429, "later", {"Retry-After": "1"}))
    start = time.perf_counter()
    r = chat(fault_server.base_url)
    assert r.attempts == 2 and time.perf_counter() - start >= 0.95


def test_other_4xx_fail_at_once(fault_server):
    fault_server.script.append(("status", 400, '{"error": "bad request: unknown field"}'))
    with pytest.raises(ModelRequestError, match="HTTP 400") as err:
        chat(fault_server.base_url)
    assert err.value.status == 400 and err.value.attempts == 1 and len(fault_server.requests) == 1


def test_gives_up_after_max_attempts(fault_server):
    fault_server.default = ("status", 500, "always broken")
    with pytest.raises(ModelRequestError, match="gave up after 4 attempts") as err:
        chat(fault_server.base_url)
    assert err.value.retryable and len(fault_server.requests) == 4


def test_slow_response_times_out_then_retries(fault_server):
    fault_server.script.append(("slow", 1.5))
    endpoint = Endpoint(fault_server.base_url, timeout_s=0.3)
    r = chat(None, endpoints=[endpoint])
    assert r.attempts == 2 and r.text.startswith("Answer")


def test_unreachable_endpoint_is_a_connection_error():
    with pytest.raises(ModelRequestError, match="ConnectError"):
        chat("http://127.0.0.1:9/v1", retry=RetryPolicy(max_attempts=2, backoff_base_s=0.01))


def test_requests_spread_over_endpoints(fault_server):

    other = type(fault_server)()
    try:

        async def go():
            endpoints = [Endpoint(fault_server.base_url, max_concurrency=2), Endpoint(other.base_url, max_concurrency=2)]
            async with ChatClient("m", endpoints, retry=FAST) as client:
                return await asyncio.gather(*[client.chat(MESSAGES) for _ in range(20)])

        results = asyncio.run(go())
        assert len(results) == 20
        assert len(fault_server.requests) >= 5 and len(other.requests) >= 5
    finally:
        other.close()


def test_a_failing_endpoint_is_routed_around(fault_server):
    other = type(fault_server)()
    other.default = ("status", 503, "down")
    try:

        async def go():
            async with ChatClient("m", [other.base_url, fault_server.base_url], retry=FAST) as client:
                return await asyncio.gather(*[client.chat(MESSAGES) for _ in range(6)])

        assert all(r.endpoint == fault_server.base_url for r in asyncio.run(go()))
    finally:
        other.close()


def test_a_preferred_endpoint_is_used_while_it_has_room_and_left_when_it_fails(fault_server):
    # a question's second request goes where its first went: that server has the prefix cached
    other = type(fault_server)()
    try:

        async def go(prefer):
            async with ChatClient("m", [fault_server.base_url, other.base_url], retry=FAST) as client:
                return [await client.chat(MESSAGES, prefer=prefer) for _ in range(6)]

        assert {r.endpoint for r in asyncio.run(go(other.base_url))} == {other.base_url}
        assert len(other.requests) == 6 and fault_server.requests == []
        other.script.append(("status", 503, "down"))  # the first attempt fails: the retry may go anywhere
        replies = asyncio.run(go(other.base_url))
        assert replies[0].attempts == 2 and len(replies) == 6
    finally:
        other.close()


def test_api_key_is_sent_but_never_shown(fault_server, monkeypatch, caplog, capsys, tmp_path):
    secret = "nvapi-SECRET-0123456789"
    monkeypatch.setenv("TEST_API_KEY", secret)
    monkeypatch.setenv("CALIBENCH_CACHE", str(tmp_path))
    caplog.set_level(logging.DEBUG)
    endpoint = Endpoint(fault_server.base_url, api_key_env="TEST_API_KEY")
    r = chat(None, endpoints=[endpoint])
    assert fault_server.requests[0]["headers"]["Authorization"] == f"Bearer {secret}"
    assert secret not in json.dumps(r.raw) and secret not in repr(endpoint)
    # a server that echoes the key back in an error: the message shows *** instead
    fault_server.script.append(("status", 401, f"invalid key {secret}"))
    with pytest.raises(ModelRequestError) as err:
        chat(None, endpoints=[endpoint])
    assert secret not in str(err.value) and "***" in str(err.value)
    out, errs = capsys.readouterr()
    assert secret not in out + errs + caplog.text
    assert not any(secret in p.read_text(errors="ignore") for p in tmp_path.rglob("*") if p.is_file())


def test_missing_key_variable_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("NO_SUCH_KEY", raising=False)
    with pytest.raises(CalibenchError, match="environment variable NO_SUCH_KEY"):
        ChatClient("m", [Endpoint("https://example.invalid/v1", api_key_env="NO_SUCH_KEY")])


def test_endpoint_validation():
    with pytest.raises(CalibenchError, match="http"):
        Endpoint("localhost:8000")
    with pytest.raises(CalibenchError, match="max_concurrency"):
        Endpoint("http://x/v1", max_concurrency=0)


def test_parse_retry_after():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    future = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 < parse_retry_after(future) <= 31


def test_backoff_is_capped_full_jitter():
    import random

    policy = RetryPolicy(backoff_base_s=1.0, backoff_max_s=4.0)
    rng = random.Random(0)
    delays = [policy.delay(attempt, None, rng) for attempt in range(1, 8) for _ in range(50)]
    assert max(delays) <= 4.0 and min(delays) >= 0.0
    assert policy.delay(3, 2.5, rng) == 2.5 and policy.delay(1, 1e9, rng) == policy.retry_after_max_s


def test_an_endpoint_that_keeps_failing_is_dropped(fault_server, monkeypatch):
    from calibench.models import client as module
    from calibench.models.client import ENDPOINT_BREAKER

    monkeypatch.setattr(module, "BREAKER_S", 0.0)  # no minimum duration: ten failures drop it
    fault_server.default = ("status", 503, "down")
    dropped = []

    async def go():
        retry = RetryPolicy(max_attempts=3, backoff_base_s=0.001)
        async with ChatClient("m", [fault_server.base_url], retry=retry, on_down=dropped.append) as client:
            errors = []
            for _ in range(6):
                try:
                    await client.chat(MESSAGES)
                except ModelRequestError as exc:
                    errors.append(exc)
            return errors

    errors = asyncio.run(go())
    assert len(fault_server.requests) == ENDPOINT_BREAKER  # nothing is sent once it is dropped
    assert [e.down for e in errors] == [False, False, False, True, True, True]
    assert "every endpoint is down" in str(errors[-1]) and errors[-1].attempts == 0
    assert dropped == [f"{fault_server.base_url} dropped: {ENDPOINT_BREAKER} attempts in a row failed over 0 s, the last: "
                       f"{fault_server.base_url}: HTTP 503: down"]


def test_429s_and_refusals_never_drop_an_endpoint(fault_server, monkeypatch):
    from calibench.models import client as module
    from calibench.models.client import ENDPOINT_BREAKER

    monkeypatch.setattr(module, "BREAKER_S", 0.0)
    fault_server.script.extend([("status", 429, "slow down", {"Retry-After": "0"})] * (ENDPOINT_BREAKER + 2))
    r = chat(fault_server.base_url, retry=RetryPolicy(max_attempts=ENDPOINT_BREAKER + 3, backoff_base_s=0.001))
    assert r.attempts == ENDPOINT_BREAKER + 3
    fault_server.script.extend([("status", 400, "bad request")] * (ENDPOINT_BREAKER + 2))

    async def go():
        async with ChatClient("m", [fault_server.base_url], retry=FAST) as client:
            for _ in range(ENDPOINT_BREAKER + 2):
                with pytest.raises(ModelRequestError, match="HTTP 400"):
                    await client.chat(MESSAGES)
            return await client.chat(MESSAGES)

    assert asyncio.run(go()).attempts == 1  # twelve refusals in a row, and the endpoint still serves


def test_a_burst_of_5xx_is_a_blip_not_an_outage(fault_server):
    # 503s for the first 0.3 s, then answers: many attempts fail in a row, but not for BREAKER_S
    start = time.monotonic()
    fault_server.default = lambda body: ("status", 503, "busy") if time.monotonic() - start < 0.3 else ("ok", "Answer: B")

    async def go():
        retry = RetryPolicy(max_attempts=8, backoff_base_s=0.05, backoff_max_s=0.2)
        async with ChatClient("m", [Endpoint(fault_server.base_url, max_concurrency=8)], retry=retry, seed=0) as client:
            return await asyncio.gather(*[client.chat([{"role": "user", "content": str(i)}]) for i in range(40)])

    replies = asyncio.run(go())
    assert len(replies) == 40 and sum(r.attempts > 1 for r in replies) >= 8


def test_a_dropped_endpoint_is_tried_again_after_its_rest(fault_server, monkeypatch):
    from calibench.models import client as module

    monkeypatch.setattr(module, "BREAKER_S", 0.0)
    monkeypatch.setattr(module, "COOLDOWN_S", 0.3)
    other = type(fault_server)()
    fault_server.default = ("status", 502, "bad gateway")
    try:

        async def go():
            async with ChatClient("m", [fault_server.base_url, other.base_url], retry=FAST) as client:
                await asyncio.gather(*[client.chat(MESSAGES) for _ in range(30)])  # the first is dropped meanwhile
                dropped = client._slots[0].down is not None
                fault_server.default = ("ok", "back")
                await asyncio.sleep(0.35)
                replies = [await client.chat(MESSAGES) for _ in range(20)]
                return dropped, client._slots[0].down, replies

        dropped, down, replies = asyncio.run(go())
        assert dropped and down is None and any(r.endpoint == fault_server.base_url for r in replies)
    finally:
        other.close()


def test_the_breaker_allows_a_burst_as_large_as_the_requests_in_flight():
    from calibench.models.client import ENDPOINT_BREAKER, _Slot

    assert _Slot(Endpoint("http://h/v1", max_concurrency=4)).breaker == ENDPOINT_BREAKER
    assert _Slot(Endpoint("http://h/v1", max_concurrency=32)).breaker == 64
