"""A preflight for remote endpoints: one minimal request each before a study stores anything.

A study against an endpoint that cannot answer (unreachable, a refused key, a model it does
not serve, no logprobs where the protocols need them) would otherwise send every request,
retry each, store hundreds of failures and report them as unparsed answers. The preflight
sends one chat completion of one token per endpoint (asking for ``top_logprobs`` when the
study needs them), retried at most once, and turns the outcome into one line naming the
endpoint and what is wrong.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from calibench.errors import CalibenchError
from calibench.models.client import ChatClient, Endpoint, ModelRequestError, RetryPolicy, SamplingOptions

PREFLIGHT_TIMEOUT_S = 30.0
PREFLIGHT_RETRY = RetryPolicy(max_attempts=2, backoff_base_s=0.5, backoff_max_s=1.0, retry_after_max_s=5.0)
TOP_LOGPROBS = 5
PROMPT = [{"role": "user", "content": "Reply with the letter A."}]


class PreflightError(CalibenchError):
    """An endpoint that cannot serve the study, said in one line."""


def _explain(model: str, endpoint: Endpoint, exc: ModelRequestError) -> str:
    where = endpoint.base_url
    if exc.status in (401, 403):
        key = f"the key in ${endpoint.api_key_env}" if endpoint.api_key_env else "no API key (set api_key_env)"
        return f"{where} refused the request (HTTP {exc.status}): check {key}"
    if exc.status == 404:
        return f"{where} answered 404 for model {model!r}: the endpoint does not serve it, or the URL is not an OpenAI-compatible /v1 base"
    if exc.status is not None and not exc.retryable:
        return f"{where} rejected a minimal request for {model!r}: {exc}"
    return f"{where} is not answering ({exc}); nothing was stored"


async def _check(model: str, endpoint: Endpoint, *, logprobs: bool) -> None:
    probe = replace(endpoint, timeout_s=min(endpoint.timeout_s, PREFLIGHT_TIMEOUT_S), max_concurrency=1)
    options = SamplingOptions(temperature=0.0, max_tokens=1, logprobs=True if logprobs else None,
                              top_logprobs=TOP_LOGPROBS if logprobs else None)
    async with ChatClient(model, [probe], retry=PREFLIGHT_RETRY) as client:
        try:
            reply = await client.chat(PROMPT, options)
        except ModelRequestError as exc:
            raise PreflightError(_explain(model, endpoint, exc)) from None
    if logprobs and not (reply.logprobs and isinstance(reply.logprobs[0], dict) and reply.logprobs[0].get("top_logprobs")):
        raise PreflightError(
            f"{endpoint.base_url} returned no top_logprobs for {model!r}, which the logprob and p-true protocols need: "
            "set logprobs = false for this model, or leave those protocols out (--protocol)"
        )


def preflight(model: str, endpoints: list[Endpoint], *, logprobs: bool) -> None:
    """Check every endpoint of a remote model with one minimal request; raise PreflightError on the first that fails.

    ``logprobs``: whether the study's protocols read token logprobs from this model, in which
    case the endpoint must return ``top_logprobs``.
    """
    async def check_all() -> None:
        await asyncio.gather(*[_check(model, e, logprobs=logprobs) for e in endpoints])

    asyncio.run(check_all())
