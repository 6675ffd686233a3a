"""Reading a stored chat-completions response under a protocol: what the model said, and nothing else.

:func:`read_response` gives a :class:`Reading`: what the parser or the logprob reader
found (:class:`~calibench.elicit.parser.Parsed`), the letter probabilities when there are
any, the reply text and ``finish_reason``. The answer read's letter, which the two-stage
protocols continue from, is :func:`answer_letter`. Never raises on what an endpoint sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from calibench.data.question import Question
from calibench.elicit.parser import NO_ANSWER, NO_CONFIDENCE, OK, Parsed, parse_logprobs, parse_reply
from calibench.models.letters import LetterProbabilities, letter_probabilities, letter_probabilities_at, token_mass

_TRUTH = {"true": "true", "false": "false"}


@dataclass(frozen=True)
class Reading:
    parsed: Parsed
    probs: LetterProbabilities | None
    text: str | None
    finish_reason: str | None
    source: str | None = None  # how the answer read got its letter: "logprobs" or "constrained-letter"
    mass: float | None = None  # P(True): the probability mass on True and False


def _choice(response: dict) -> tuple[str | None, str | None, list | None]:
    """The first choice's text, finish_reason and logprobs content, each None when absent or malformed."""
    choices = response.get("choices") if isinstance(response, dict) else None
    choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
    message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
    text = message.get("content") if isinstance(message.get("content"), str) else None
    finish = choice.get("finish_reason") if isinstance(choice.get("finish_reason"), str) else None
    logprobs = choice.get("logprobs") if isinstance(choice.get("logprobs"), dict) else {}
    content = logprobs.get("content") if isinstance(logprobs.get("content"), list) else None
    return text, finish, content


def read_text(response: dict, parse) -> Reading:
    """A reply read by ``parse(text, finish_reason) -> Parsed``: for a protocol whose reading is
    its own (a plugin's, ``top-k``'s), with the first choice taken apart as for every protocol."""
    text, finish, _ = _choice(response)
    return Reading(parse(text, finish), None, text, finish)


def read_response(reads: str, response: dict, question: Question, *, prefilled: bool = True) -> Reading:
    """What one stored response says under a protocol's reading (see the protocols' ``reads``);
    ``prefilled``: whether the answer read was asked after a prefilled "Answer:" with logprobs
    (else it is the model's own letter, constrained to the options)."""
    text, finish, content = _choice(response)
    letters = question.letters
    if reads == "letter-logprobs":
        if prefilled:  # the answer read: the letter distribution at the one generated position
            probs = letter_probabilities_at(content[0], letters) if content else None
            return Reading(parse_logprobs(probs.probs if probs else None), probs, text, finish, "logprobs")
        # no logprobs: the model's own letter, constrained to the options (or its JSON object)
        body = (text or "").strip()
        parsed = parse_reply(body, letters, kind="json" if body.startswith("{") else "text", finish_reason=finish)
        letter = parsed.letter if parsed.letter in letters else None
        status = OK if letter else NO_ANSWER
        return Reading(Parsed(letter, None, None, status, "constrained-letter"), None, text, finish, "constrained-letter")
    if reads == "p-true":
        return _p_true(text, finish, content)
    if reads == "number":
        return Reading(parse_reply(text, letters, kind="number", finish_reason=finish), None, text, finish)
    parsed = parse_reply(text, letters, kind=reads, finish_reason=finish, options=question.choices)
    probs = letter_probabilities(content, letters, answer=parsed.letter) if parsed.letter else None
    return Reading(parsed, probs, text, finish)


def _p_true(text: str | None, finish: str | None, content) -> Reading:
    """P(True): True's share of the True and False mass at the first generated token; without
    logprobs, the word written (True 1.0, False 0.0)."""
    if content:
        mass = token_mass(content[0], _TRUTH)
        total = sum(mass.values()) if mass else 0.0
        if total <= 0:
            return Reading(Parsed(None, None, None, NO_CONFIDENCE, "p-true-logprobs"), None, text, finish, mass=0.0)
        value = mass["true"] / total
        return Reading(Parsed(None, value, "probability", OK, "p-true-logprobs"), None, text, finish, mass=min(total, 1.0))
    word = (text or "").strip().strip(".!*\"'").split()
    first = word[0].lower().strip(".,!*\"'") if word else ""
    if first in _TRUTH:
        return Reading(Parsed(None, 1.0 if first == "true" else 0.0, "probability", OK, "p-true-text"), None, text, finish)
    return Reading(Parsed(None, None, None, NO_CONFIDENCE, "p-true-text"), None, text, finish)


def answer_letter(response: dict | None, question: Question, *, prefilled: bool = True) -> str | None:
    """The answer read's letter from its stored response (None when it has none)."""
    if response is None:
        return None
    return read_response("letter-logprobs", response, question, prefilled=prefilled).parsed.letter
