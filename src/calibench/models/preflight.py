"""A preflight for remote endpoints: minimal requests before a study stores anything.

A study against an endpoint that cannot answer (unreachable, a refused key, a model it does
not serve, a feature the protocols need and it lacks) would otherwise send every request,
retry each, store hundreds of failures and report them as unparsed answers. The preflight
sends, to each endpoint, one one-token request per kind of request the study will send:
the same options (``top_logprobs``, ``response_format``, a grammar, an assistant turn to
continue) on a minimal prompt. Each is retried at most once; the outcome is one line naming
the endpoint, what is wrong and which protocols need it. On a 404 it lists the models the
endpoint serves (``GET /models``, where the API has it).
"""

from __future__ import annotations

import asyncio
import difflib
from dataclasses import dataclass, replace

import httpx

from calibench.errors import CalibenchError
from calibench.models.client import ChatClient, Endpoint, ModelRequestError, RetryPolicy, SamplingOptions

PREFLIGHT_TIMEOUT_S = 30.0
PREFLIGHT_RETRY = RetryPolicy(max_attempts=2, backoff_base_s=0.5, backoff_max_s=1.0, retry_after_max_s=5.0)
PROMPT = [{"role": "user", "content": "Reply with the letter A."}]


class PreflightError(CalibenchError):
    """An endpoint that cannot serve the study, said in one line."""


@dataclass(frozen=True)
class Probe:
    """One kind of request a study sends: the protocols that send it, its options, and the
    assistant turn it continues (a prefill), if any."""

    protocols: tuple[str, ...]
    options: SamplingOptions
    prefill: str | None = None

    @property
    def senders(self) -> str:
        """The protocols that send this kind, in words ("the answer read" is what stated, logprob and p-true build on)."""
        return " and ".join("the answer read" if name == "answer" else name for name in self.protocols)

    @property
    def features(self) -> str:
        parts = [f"top_logprobs={self.options.top_logprobs}" if self.options.top_logprobs else "",
                 "response_format (json_schema)" if self.options.response_format else "",
                 *sorted(self.options.extra), "an assistant prefill" if self.prefill is not None else ""]
        return ", ".join(p for p in parts if p) or "a plain request"

    def request(self) -> tuple[list[dict], SamplingOptions]:
        """The minimal prompt with this kind's options and one token to generate."""
        turn = [{"role": "assistant", "content": self.prefill}] if self.prefill is not None else []
        return PROMPT + turn, replace(self.options, max_tokens=1, temperature=0.0, seed=None, n=None)


def probes(requests: list[tuple[str, list[dict], SamplingOptions]]) -> list[Probe]:
    """The distinct kinds among a study's requests, given as (protocol, messages, options)."""
    kinds: dict[tuple, Probe] = {}
    for protocol, messages, options in requests:
        prefill = messages[-1]["content"] if messages and messages[-1]["role"] == "assistant" else None
        kind = (options.top_logprobs, options.response_format is not None, tuple(sorted(options.extra)), prefill is not None)
        known = kinds.get(kind)
        kinds[kind] = Probe(protocols=(*known.protocols, protocol) if known else (protocol,), options=options, prefill=prefill)
    return list(kinds.values())


async def _served(endpoint: Endpoint) -> list[str]:
    """The model ids ``GET {base_url}/models`` lists; none where the endpoint has no such list."""
    key = endpoint.api_key()
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        async with httpx.AsyncClient(timeout=10.0) as http:
            response = await http.get(endpoint.base_url.rstrip("/") + "/models", headers=headers)
        data = response.json().get("data") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        return []
    return [m["id"] for m in data if isinstance(m, dict) and isinstance(m.get("id"), str)] if isinstance(data, list) else []


async def _explain(model: str, endpoint: Endpoint, probe: Probe, exc: ModelRequestError) -> str:
    where = endpoint.base_url
    if exc.status in (401, 403):
        key = f"the key in ${endpoint.api_key_env}" if endpoint.api_key_env else "no API key (set api_key_env)"
        return f"{where} refused the request (HTTP {exc.status}): check {key}"
    if exc.status == 404:
        served = await _served(endpoint)
        listed = ""
        if served:
            close = difflib.get_close_matches(model, served, n=1)
            listed = f"; it serves {', '.join(served[:10])}" + (f" and {len(served) - 10} more" if len(served) > 10 else "") + \
                (f" (did you mean {close[0]}?)" if close else "")
        return f"{where} answered 404 for model {model!r}: the endpoint does not serve it, or the URL is not an OpenAI-compatible /v1 base{listed}"
    if exc.status is not None and not exc.retryable:
        need = "needs" if len(probe.protocols) == 1 else "need"
        return f"{where} rejected a request with {probe.features} for {model!r}, which {probe.senders} {need}: {exc}"
    return f"{where} is not answering ({exc}); nothing was stored"


async def _check(model: str, endpoint: Endpoint, kinds: list[Probe]) -> None:
    limited = replace(endpoint, timeout_s=min(endpoint.timeout_s, PREFLIGHT_TIMEOUT_S), max_concurrency=1, adaptive_timeout=False)
    async with ChatClient(model, [limited], retry=PREFLIGHT_RETRY) as client:
        for probe in kinds:
            messages, options = probe.request()
            try:
                reply = await client.chat(messages, options)
            except ModelRequestError as exc:
                raise PreflightError(await _explain(model, endpoint, probe, exc)) from None
            if options.top_logprobs and not (reply.logprobs and isinstance(reply.logprobs[0], dict) and reply.logprobs[0].get("top_logprobs")):
                raise PreflightError(
                    f"{endpoint.base_url} returned no top_logprobs for {model!r}, which {probe.senders} "
                    f"{'needs' if len(probe.protocols) == 1 else 'need'}: set logprobs = false for this model, or leave "
                    "the protocols that read logprobs out (--protocol)"
                )


def preflight(model: str, endpoints: list[Endpoint], kinds: list[Probe]) -> None:
    """Check every endpoint of a remote model with one minimal request per kind in ``kinds``
    (see :func:`probes`); raise PreflightError on the first that fails."""
    async def check_all() -> None:
        await asyncio.gather(*[_check(model, e, kinds or [Probe(("any",), SamplingOptions())]) for e in endpoints])

    asyncio.run(check_all())
