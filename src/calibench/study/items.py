"""Items: one row per answer (model x question x protocol x repetition), read from the store.

A row holds the question, the raw reply, what the parser read (letter, confidence, scale,
status, rule), whether the letter is right, the answer-letter probabilities when the
endpoint returned logprobs, tokens and latency. A request that failed for good is a row
with status ``failed`` and its error, so the counts always add up.
"""

from __future__ import annotations

from calibench.elicit.parser import parse_logprobs, parse_reply
from calibench.elicit.protocols import PROTOCOLS
from calibench.models.letters import letter_probabilities
from calibench.study.plan import PlannedRequest
from calibench.study.store import Store

FAILED = "failed"


def build_items(store: Store, model: str, groups: list[list[PlannedRequest]], protocols: list[str]) -> list[dict]:
    """Every item of one model, in plan order (question, repetition, protocol)."""
    rows = []
    for group in groups:
        # each stored response read once: logprob reads the same reply as verbalized
        stored = {request.protocol.name: (request, store.get(request.key)) for request in group}
        for name in protocols:
            protocol = PROTOCOLS[name]
            request, response = stored[protocol.request_protocol]
            rows.append(_item(model, name, protocol.reads, request, response))
    return rows


def read_response(reads: str, response: dict, question) -> tuple:
    """What one stored response says under a protocol's reading: (Parsed, letter probabilities, reply text)."""
    choice = (response.get("choices") or [{}])[0]
    message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
    text = message.get("content") if isinstance(message.get("content"), str) else None
    logprobs = choice.get("logprobs") if isinstance(choice.get("logprobs"), dict) else {}
    letters = question.letters
    if reads == "logprobs":
        probs = letter_probabilities(logprobs.get("content"), letters)
        return parse_logprobs(probs.probs if probs else None), probs, text
    parsed = parse_reply(text, letters, kind=reads)
    probs = letter_probabilities(logprobs.get("content"), letters, answer=parsed.letter) if parsed.letter else None
    return parsed, probs, text


def _item(model: str, protocol: str, reads: str, request: PlannedRequest, stored) -> dict:
    q = request.question
    row = {
        "question_id": q.id,
        "dataset": q.dataset,
        "subject": q.subject,
        "category": q.category,
        "model": model,
        "protocol": protocol,
        "repetition": request.repetition,
        "answer": q.answer,
        "key": request.key,
    }
    if stored is None or not stored.ok:
        return {**row, "status": FAILED, "error": stored.error if stored else "never asked", "letter": None,
                "confidence": None, "scale": None, "rule": None, "correct": None, "raw_text": None,
                "letter_probs": None, "letter_mass": None, "prompt_tokens": None, "completion_tokens": None,
                "cached_tokens": None, "latency_s": None, "endpoint": None}
    response = stored.response
    parsed, probs, text = read_response(reads, response, q)
    usage = response.get("usage") if isinstance(response.get("usage"), dict) else {}
    timings = response.get("timings") if isinstance(response.get("timings"), dict) else {}
    details = usage.get("prompt_tokens_details") if isinstance(usage.get("prompt_tokens_details"), dict) else {}
    return {
        **row,
        "status": parsed.status,
        "error": None,
        "letter": parsed.letter,
        "confidence": parsed.confidence,
        "scale": parsed.scale,
        "rule": parsed.rule,
        "correct": None if parsed.letter is None else parsed.letter == q.answer,
        "raw_text": text,
        "letter_probs": probs.probs if probs else None,
        "letter_mass": probs.mass if probs else None,
        "prompt_tokens": usage.get("prompt_tokens"),
        "completion_tokens": usage.get("completion_tokens"),
        "cached_tokens": details.get("cached_tokens", timings.get("cache_n")),
        "latency_s": stored.latency_s,
        "endpoint": stored.endpoint,
    }
