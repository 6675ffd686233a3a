"""One async client for every OpenAI-compatible chat-completions endpoint.

NVIDIA NIM, OpenAI, Together, vLLM, llama.cpp, Ollama and calibench's own embedded engine
all speak ``POST {base_url}/chat/completions``; ``base_url`` is what their documentation
gives, ending in ``/v1`` (``https://integrate.api.nvidia.com/v1``,
``http://localhost:11434/v1``). Several endpoints may serve one model: each request goes to
the endpoint with the most free capacity, and a retry may move to another one, which is how
a study scales out over a fleet.

Rate limits: an endpoint's requests and tokens per minute are kept by spacing its requests,
and a 429 halves its concurrency, which then grows back (:mod:`calibench.models.rate_limit`).

Deadlines: a request's deadline follows the endpoint's observed latency, with ``timeout_s``
as the ceiling (:mod:`calibench.models.deadline`), so that a stalled request frees its slot
in seconds rather than minutes.

Failures: 429, 5xx, connection errors, timeouts (including a response that drips in past
the deadline), malformed JSON and responses without choices are retried with exponential
backoff and full jitter, honouring Retry-After; other 4xx fail at once.

An endpoint is dropped when its last attempts all failed (connection errors, 5xx, 408, and
deadlines once they reached the ceiling ``timeout_s``: a shorter deadline that cut a request
says it was slow, not that the endpoint is down; a 429 or another 4xx never counts), at
least ``ENDPOINT_BREAKER`` or twice its concurrency of them, whichever is more (with 32
requests in flight a burst of failures ends many attempts at once), over at least
``BREAKER_S`` seconds (a few seconds of 503s is a blip, not an outage). A dropped endpoint
gets no requests for ``COOLDOWN_S`` seconds, then one attempt: a success brings it back.
While every endpoint is dropped, each request fails at once with ``ModelRequestError.down``
set. API keys are read
from the environment variable an endpoint names, sent only in the Authorization header,
and removed from every error message; they are never stored anywhere else.
"""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import json
import os
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import httpx

from calibench.errors import CalibenchError
from calibench.models.deadline import Deadlines
from calibench.models.rate_limit import AdaptiveLimit, RateLimiter, estimated_tokens

RETRYABLE_STATUS = frozenset({408, 409, 425, 429}) | frozenset(range(500, 600))
ENDPOINT_BREAKER = 10  # failed attempts in a row that drop an endpoint (at least; see the module docstring)
BREAKER_S = 30.0  # ... over at least this long
COOLDOWN_S = 60.0  # a dropped endpoint's rest before it is tried again


@dataclass(frozen=True)
class Endpoint:
    """An OpenAI-compatible endpoint: its base URL, the environment variable holding its key,
    how many requests it takes at once, the longest deadline of one request in seconds
    (``adaptive_timeout``: shorter when the endpoint's latency says so, see
    :mod:`calibench.models.deadline`), and its rate limits (requests and tokens per minute,
    None: none)."""

    base_url: str
    api_key_env: str | None = None
    max_concurrency: int = 4
    timeout_s: float = 300.0
    adaptive_timeout: bool = True
    # the endpoint's published limits, kept by spacing requests (see calibench.models.rate_limit)
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise CalibenchError(f"endpoint base_url must start with http:// or https://, got {self.base_url!r}")
        if self.max_concurrency < 1:
            raise CalibenchError(f"max_concurrency must be at least 1, got {self.max_concurrency}")
        if not self.timeout_s > 0:
            raise CalibenchError(f"timeout_s must be positive, got {self.timeout_s}")
        RateLimiter(self.requests_per_minute, self.tokens_per_minute)  # validates them

    def api_key(self) -> str | None:
        """The key held by the environment variable this endpoint names; None if it names none."""
        if not self.api_key_env:
            return None
        key = os.environ.get(self.api_key_env)
        if not key:
            raise CalibenchError(f"environment variable {self.api_key_env} (the API key for {self.base_url}) is not set")
        return key


@dataclass(frozen=True)
class RetryPolicy:
    """How failed requests are retried: attempts in all, and the backoff's base and cap in seconds.

    Attempt k (from 1) waits a uniform random time in [0, min(cap, base * 2**(k-1))] (full
    jitter), unless the server's Retry-After says how long, which is honoured up to
    ``retry_after_max_s``.
    """

    max_attempts: int = 6
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    retry_after_max_s: float = 120.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_max_s)
        return rng.uniform(0, min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class SamplingOptions:
    """Request options; None leaves a field out of the request (the endpoint's default applies)."""

    temperature: float | None = 0.0
    top_p: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    n: int | None = None
    stop: list[str] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    response_format: dict | None = None
    extra: dict = field(default_factory=dict)  # endpoint-specific fields, e.g. llama.cpp's cache_prompt

    def body(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if v is not None and k != "extra"}
        out.update(self.extra)
        return out


@dataclass(frozen=True)
class ChatResponse:
    """A completed chat request: the first choice's text, what the endpoint reported, and how it went."""

    text: str | None
    finish_reason: str | None
    logprobs: list[dict] | None
    usage: dict
    timings: dict | None
    raw: dict
    endpoint: str
    attempts: int
    latency_s: float


class ModelRequestError(Exception):
    """A request that failed for good: a non-retryable status, or retries exhausted."""

    def __init__(self, message: str, *, status: int | None = None, attempts: int = 1, retryable: bool = False, down: bool = False):
        super().__init__(message)
        self.status = status
        self.attempts = attempts
        self.retryable = retryable
        self.down = down  # every endpoint of the model was dropped: no later request can succeed either


class _Attempt(Exception):
    def __init__(self, message: str, *, status: int | None = None, retryable: bool, retry_after: float | None = None,
                 cut: bool = False, at_ceiling: bool = False):
        super().__init__(message)
        self.status, self.retryable, self.retry_after, self.cut = status, retryable, retry_after, cut
        self.at_ceiling = at_ceiling  # a deadline that cut at the endpoint's timeout_s


class _Slot:
    def __init__(self, endpoint: Endpoint):
        self.endpoint = endpoint
        self.gate = AdaptiveLimit(endpoint.max_concurrency)
        self.limiter = RateLimiter(endpoint.requests_per_minute, endpoint.tokens_per_minute)
        self.deadlines = Deadlines(endpoint.timeout_s, adaptive=endpoint.adaptive_timeout)
        self.failing = 0  # attempts failed in a row
        self.failing_since = 0.0
        self.breaker = max(ENDPOINT_BREAKER, 2 * endpoint.max_concurrency)
        self.down: str | None = None  # why it was dropped
        self.down_at = 0.0
        self.probing = False  # a dropped endpoint's one attempt after its cooldown is out
        self.url = endpoint.base_url.rstrip("/") + "/chat/completions"

    def failed(self, failure: _Attempt) -> bool:
        """Count a failed attempt; True when it drops the endpoint."""
        self.probing = False
        if failure.status is not None and failure.status < 500 and failure.status != 408:
            return False  # the endpoint answered: a 429 or a refused request says nothing of its health
        if failure.cut and not failure.at_ceiling:
            return False  # the request was slow for this endpoint's recent pace, not proof it is down
        now = time.monotonic()
        if self.failing == 0:
            self.failing_since = now
        self.failing += 1
        if self.down is not None:
            self.down_at = now  # its attempt after the cooldown failed: another rest
        elif self.failing >= self.breaker and now - self.failing_since >= BREAKER_S:
            self.down = f"{self.failing} attempts in a row failed over {now - self.failing_since:.0f} s, the last: {failure}"
            self.down_at = now
            return True
        return False

    def succeeded(self) -> None:
        self.failing, self.down, self.probing = 0, None, False

    def usable(self, now: float) -> bool:
        """Up, or dropped long enough ago for one attempt that no other request is making."""
        return self.down is None or (not self.probing and now - self.down_at >= COOLDOWN_S)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(when.timestamp() - time.time(), 0.0)


class ChatClient:
    """Async chat-completions client for one model over one or more endpoints.

    Use as ``async with ChatClient("meta/llama-3.1-8b-instruct", [Endpoint(...)]) as client:``
    then ``await client.chat(messages, SamplingOptions(max_tokens=32))``. Endpoints given as
    strings are base URLs without a key. ``on_down(message)`` is called when an endpoint is
    dropped (see the module docstring).
    """

    def __init__(
        self,
        model: str,
        endpoints: Sequence[Endpoint | str],
        *,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        seed: int | None = None,
        on_down=None,
    ):
        if not endpoints:
            raise CalibenchError("a model needs at least one endpoint")
        self.model = model
        self.retry = retry or RetryPolicy()
        self._slots = [_Slot(e if isinstance(e, Endpoint) else Endpoint(e)) for e in endpoints]
        keys = [slot.endpoint.api_key() for slot in self._slots]
        self._keys: dict[int, str] = {i: key for i, key in enumerate(keys) if key}
        self._rng = random.Random(seed)
        self._turn = itertools.count()
        self._on_down = on_down
        self._http = httpx.AsyncClient(transport=transport, timeout=None, follow_redirects=False)

    def __repr__(self) -> str:
        return f"ChatClient(model={self.model!r}, endpoints={[s.endpoint.base_url for s in self._slots]!r})"

    async def __aenter__(self) -> ChatClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def _redact(self, text: str) -> str:
        for key in self._keys.values():
            text = text.replace(key, "***")
        return text

    def _pick(self, prefer: str | None, attempts: int, avoid: int | None = None) -> int:
        # the preferred endpoint while it has room (it holds the prompt prefix in its cache);
        # otherwise most free capacity first, ties in turn, so idle endpoints share the load
        # evenly; dropped endpoints never. A retry avoids the endpoint that just failed it
        # while another is up: one that fails at once always looks free, and would draw the
        # retries of every request until it is dropped.
        now = time.monotonic()
        up = [i for i, slot in enumerate(self._slots) if slot.usable(now)]
        if not up:
            why = "; ".join(f"{slot.endpoint.base_url}: {slot.down}" for slot in self._slots)
            raise ModelRequestError(f"every endpoint is down ({why})", down=True, attempts=attempts)
        if avoid in up and len(up) > 1:
            up.remove(avoid)
        for i in up:
            if self._slots[i].endpoint.base_url == prefer and self._slots[i].gate.free > 0:
                return i
        turn = next(self._turn)
        n = len(self._slots)
        order = [(turn + i) % n for i in range(n) if (turn + i) % n in up]
        index = max(order, key=lambda i: self._slots[i].gate.free)
        self._slots[index].probing = self._slots[index].down is not None
        return index

    async def chat(self, messages: list[dict], options: SamplingOptions | None = None, *, prefer: str | None = None) -> ChatResponse:
        """Send one chat completion, retrying as the module docstring says; raise ModelRequestError on failure.

        ``prefer`` names an endpoint (its base URL) to try first while it has free capacity:
        the one that answered a request sharing this one's prompt prefix, which it may have cached.
        """
        body = {"model": self.model, "messages": messages, **(options or SamplingOptions()).body()}
        payload = json.dumps(body).encode("utf-8")
        tokens = estimated_tokens(payload, body.get("max_tokens"))
        prompt_tokens = estimated_tokens(payload, None)
        started = time.perf_counter()
        last: _Attempt | None = None
        cuts = 0  # attempts the deadline ended: each retry gets a longer one
        index = None
        for attempt in range(1, self.retry.max_attempts + 1):
            index = self._pick(prefer if attempt == 1 else None, attempt - 1, avoid=index)
            slot = self._slots[index]
            try:
                async with slot.gate:
                    await slot.limiter.acquire(tokens)
                    raw = await self._send(index, slot, payload, body.get("max_tokens"), cuts, prompt_tokens)
                    slot.gate.succeeded()
                    slot.succeeded()
                return _response(raw, slot.endpoint.base_url, attempt, time.perf_counter() - started)
            except _Attempt as failure:
                last = failure
                cuts += failure.cut
                if slot.failed(failure) and self._on_down is not None:
                    self._on_down(f"{slot.endpoint.base_url} dropped: {slot.down}")
                if failure.status == 429:  # the endpoint says too many: fewer at once from now on
                    slot.gate.throttled()
                if not failure.retryable:
                    raise ModelRequestError(str(failure), status=failure.status, attempts=attempt) from None
            if attempt < self.retry.max_attempts:
                await asyncio.sleep(self.retry.delay(attempt, last.retry_after, self._rng))
        raise ModelRequestError(
            f"gave up after {self.retry.max_attempts} attempts: {last}", status=last.status, attempts=self.retry.max_attempts, retryable=True
        )

    async def _send(self, index: int, slot: _Slot, payload: bytes, kind: object, cuts: int, prompt_tokens: int) -> dict:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if index in self._keys:
            headers["Authorization"] = f"Bearer {self._keys[index]}"
        where = slot.endpoint.base_url
        sent = time.perf_counter()
        deadline = slot.deadlines.track(kind, cuts, prompt_tokens)
        try:
            async with deadline:
                response = await self._http.post(slot.url, content=payload, headers=headers)
        except TimeoutError:
            seconds = deadline.seconds
            slot.deadlines.cut(kind, seconds)
            raise _Attempt(f"{where}: no complete response within {seconds:.3g} s", retryable=True, cut=True,
                           at_ceiling=seconds >= slot.endpoint.timeout_s) from None
        except httpx.TransportError as exc:
            raise _Attempt(self._redact(f"{where}: {type(exc).__name__}: {exc}"), retryable=True) from None
        status = response.status_code
        if status != 200:
            excerpt = self._redact(response.text[:300].replace("\n", " "))
            raise _Attempt(
                f"{where}: HTTP {status}: {excerpt}",
                status=status,
                retryable=status in RETRYABLE_STATUS,
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )
        try:
            data = response.json()
        except ValueError:
            raise _Attempt(f"{where}: malformed JSON in the response ({len(response.content)} bytes)", status=status, retryable=True) from None
        choices = data.get("choices") if isinstance(data, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise _Attempt(f"{where}: response has no choices", status=status, retryable=True)
        slot.deadlines.observe(kind, time.perf_counter() - sent, prompt_tokens)
        return data


def _response(data: dict, endpoint: str, attempts: int, latency: float) -> ChatResponse:
    first = data["choices"][0]
    message = first.get("message") if isinstance(first.get("message"), dict) else {}
    text = message.get("content")
    logprobs = first.get("logprobs")
    content = logprobs.get("content") if isinstance(logprobs, dict) else None
    return ChatResponse(
        text=text if isinstance(text, str) else None,
        finish_reason=first.get("finish_reason"),
        logprobs=content if isinstance(content, list) else None,
        usage=data.get("usage") if isinstance(data.get("usage"), dict) else {},
        timings=data.get("timings") if isinstance(data.get("timings"), dict) else None,
        raw=data,
        endpoint=endpoint,
        attempts=attempts,
        latency_s=latency,
    )
