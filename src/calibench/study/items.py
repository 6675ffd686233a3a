"""Items: one row per answer (model x question x option order x repetition x protocol), read from the store.

A row holds the question, the raw reply (its first ``MAX_REPLY_CHARS`` characters, all the
parser reads; ``raw_text_chars`` gives its length and ``raw_text_cut`` says when it was
longer) and its ``finish_reason``, what the reader found
(letter, confidence, scale, status, rule), whether the letter is right, the letter
probabilities when the endpoint returned logprobs, tokens and latency. Letters are in the
question's original labelling; ``shown_letter`` and ``shown_answer`` are what the model saw
under its option order (``rotation``). A protocol that follows the answer read (``stated``,
``p-true``) takes its letter from it (``answer_source`` says how it was read). A request
that failed for good is a row with status ``failed`` and its error, so the counts always
add up; a reply the budget cut and a later request concluded (``cot``) is read with its
conclusion, as one reply (``concluded`` true; tokens and latency summed over both); a follow-up whose answer read failed is ``failed`` too, and one whose answer read
found no letter takes the answer read's status. Samples for sampling consistency are rows of
protocol ``<protocol>~sample`` (and ``answer~brainstorm`` for ``p-true-samples``), ``sample``
their index (None on every other row); no metric but the sampled signals reads them.
"""

from __future__ import annotations

from dataclasses import replace

from calibench.elicit.parser import MAX_REPLY_CHARS, PARSED, Parsed, mark_scale_ambiguous
from calibench.elicit.protocols import PROTOCOLS
from calibench.elicit.protocols.sampled import Sampled
from calibench.elicit.readers import Reading
from calibench.study.plan import Group, PlannedRequest, original_letter
from calibench.study.store import Store

FAILED = "failed"


def build_items(store: Store, model: str, groups: list[Group], protocols: list[str]) -> list[dict]:
    """Every item of one model, in plan order, scale ambiguity marked per protocol."""
    rows, readings_of = [], []  # each row with what was read for it (None: nothing read)
    for group in groups:
        def stored(request: PlannedRequest):
            found = store.get(request.key)
            return found, (found.response if found is not None and found.ok else None)

        sent = group.walk(stored)  # each stored response read once
        readings = {name: request.protocol.read(found.response, group.question, prefilled=group.prefilled)
                    for name, (request, found) in sent.items() if found is not None and found.ok}
        for name in protocols:
            if group.only is not None and name not in group.only:  # not asked in this option order
                continue
            row, parsed = _item(model, PROTOCOLS[name], group, sent, readings)
            rows.append(row)
            readings_of.append(parsed)
        for sample in (p for p in group.senders if isinstance(p, Sampled)):  # sampling consistency's samples
            row, parsed = _item(model, sample, group, sent, readings)
            rows.append({**row, "protocol": sample.label, "sample": sample.index})
            readings_of.append(parsed)
    for name in protocols:  # a bare 1 or "0.99%" where the protocol's other answers wrote probabilities
        indices = [i for i, row in enumerate(rows) if row["protocol"] == name and row["status"] in PARSED]
        marked = mark_scale_ambiguous([readings_of[i] for i in indices])
        for i, parsed in zip(indices, marked):
            rows[i]["status"] = parsed.status
    return rows


def _item(model: str, protocol, group: Group, sent: dict, readings: dict[str, Reading]) -> tuple[dict, Parsed | None]:
    """One item's row, and what was read for it (None when its request or answer read failed)."""
    q, shown = group.original, group.question
    row = {
        "question_id": q.id,
        "dataset": q.dataset,
        "subject": q.subject,
        "category": q.category,
        "model": model,
        "protocol": protocol.name,
        "repetition": group.repetition,
        "rotation": group.rotation,
        "sample": None,
        "answer": q.answer,
        "shown_answer": shown.answer,
    }
    blank = {"letter": None, "shown_letter": None, "confidence": None, "alt_confidence": None, "scale": None, "rule": None,
             "correct": None, "raw_text": None, "raw_text_chars": None, "raw_text_cut": False, "finish_reason": None, "letter_probs": None, "letter_mass": None,
             "answer_source": None, "prompt_tokens": None, "completion_tokens": None, "cached_tokens": None,
             "latency_s": None, "endpoint": None, "concluded": False}
    first = protocol.follows
    if first is not None:  # the letter is the answer read's
        if first not in sent or sent[first][1] is None or not sent[first][1].ok:
            return {**row, **blank, "key": None, "status": FAILED, "error": _error(sent.get(first))}, None
        answer = readings[first]
        if answer.parsed.letter is None:
            return {**row, **blank, "key": None, "status": answer.parsed.status, "error": None, "rule": "answer-read:" + answer.parsed.rule}, None
    request, found = sent.get(protocol.request, (None, None))
    if found is None or not found.ok:
        return {**row, **blank, "key": request.key if request else None, "status": FAILED, "error": _error(sent.get(protocol.request))}, None
    reading = readings[protocol.request]
    replies = [found]  # the responses the item's reply came in
    if protocol.conclusion in sent:  # the budget cut the reply, and a conclusion was asked after it
        concluding, concluded = sent[protocol.conclusion]
        if concluded is None or not concluded.ok:
            return {**row, **blank, "key": concluding.key, "status": FAILED, "error": _error(sent[protocol.conclusion])}, None
        reading = protocol.concluded(reading, readings[protocol.conclusion], group.question, backend=group.backend)
        replies.append(concluded)
    parsed = reading.parsed
    source = None
    if first is not None:
        parsed = replace(parsed, letter=readings[first].parsed.letter)
        source = readings[first].source
    elif protocol.reads == "letter-logprobs":
        source = reading.source
    response = found.response
    chars = _reply_chars(response, reading.text)
    usage = _usage(replies)
    timings = response.get("timings") if isinstance(response.get("timings"), dict) else {}
    own = response.get("usage") if isinstance(response.get("usage"), dict) else {}  # cached tokens: the first request's
    details = own.get("prompt_tokens_details") if isinstance(own.get("prompt_tokens_details"), dict) else {}
    probs = reading.probs
    back = (lambda d: {original_letter(k, shown, group.rotation): v for k, v in d.items()}) if probs else None
    letter = original_letter(parsed.letter, shown, group.rotation)
    return {
        **row,
        "key": request.key,
        "status": parsed.status,
        "error": None,
        "letter": letter,
        "shown_letter": parsed.letter,
        "confidence": parsed.confidence,
        "alt_confidence": parsed.alt_confidence,
        "scale": parsed.scale,
        "rule": parsed.rule,
        "correct": None if letter is None else letter == q.answer,
        "raw_text": None if reading.text is None else reading.text[:MAX_REPLY_CHARS],
        "raw_text_chars": chars,
        "raw_text_cut": chars is not None and chars > MAX_REPLY_CHARS,
        "finish_reason": reading.finish_reason,
        "letter_probs": back(probs.probs) if probs else None,
        "letter_mass": probs.mass if probs else reading.mass,
        "answer_source": source,
        "prompt_tokens": usage.get("prompt_tokens"),
        "completion_tokens": usage.get("completion_tokens"),
        "cached_tokens": details.get("cached_tokens", timings.get("cache_n")),
        "latency_s": sum(r.latency_s for r in replies) if all(r.latency_s is not None for r in replies) else None,
        "endpoint": found.endpoint,
        "concluded": len(replies) > 1,
    }, parsed


def _usage(replies) -> dict:
    """The token counts of the responses an item's reply came in, summed (None where one lacks them)."""
    usages = [r.response.get("usage") if isinstance(r.response.get("usage"), dict) else {} for r in replies]
    return {k: sum(u[k] for u in usages) if all(isinstance(u.get(k), int) for u in usages) else None
            for k in ("prompt_tokens", "completion_tokens")}


def _reply_chars(response: dict, text: str | None) -> int | None:
    """The reply's length in characters, as received (the store may hold it capped)."""
    capped = response.get("calibench_capped")
    if isinstance(capped, dict) and capped.get("reply_chars") is not None:
        return capped["reply_chars"]
    return None if text is None else len(text)


def _error(entry) -> str:
    if entry is None or entry[1] is None:
        return "never asked"
    return entry[1].error or "failed"
