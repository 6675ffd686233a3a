"""``top-k``: the model's two best guesses with a probability each; the first guess and its probability are read.

Tian et al. 2023, "Just Ask for Calibration: Strategies for Eliciting Calibrated Confidence
Scores from Language Models Fine-Tuned with Human Feedback" (EMNLP), the single-stage top-k
verbalized prompt: the model lists its k best guesses and the probability (0.0 to 1.0) that
each is correct; the answer is the first guess and the confidence its probability. Here k = 2
over the option letters, and the reply is constrained to a JSON object
``{"guesses": [{"answer": "B", "probability": 0.7}, {"answer": "C", "probability": 0.2}]}``
(a JSON schema with exactly k guesses). The first guess's probability is read in the scale
the prompt asks for: a number from 0 to 1 is that probability; an integer from 2 to 100
written without a decimal point ("70") is taken as a percentage (the model ignored the scale;
``scale`` says so); anything else ("2.0", "150") is out of range.
It fixes its own letter, so the study measures what it does to the answers against the
answer read.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace

from calibench.elicit.parser import NO_ANSWER, NO_CONFIDENCE, OK, OUT_OF_RANGE, TRUNCATED, Parsed
from calibench.elicit.protocols.base import Protocol
from calibench.elicit.readers import read_text

K = 2


def guesses_schema(letters, k: int = K) -> dict:
    """Exactly ``k`` guesses, each an option letter with a probability."""
    guess = {"type": "object", "properties": {"answer": {"type": "string", "enum": list(letters)}, "probability": {"type": "number"}},
             "required": ["answer", "probability"], "additionalProperties": False}
    return {"type": "object", "properties": {"guesses": {"type": "array", "items": guess, "minItems": k, "maxItems": k}},
            "required": ["guesses"], "additionalProperties": False}


@dataclass(frozen=True)
class TopK(Protocol):
    """A protocol whose reply is a list of guesses: its own schema and reading."""

    def options(self, question, **kwargs):
        options = super().options(question, **kwargs)
        schema = {"type": "json_schema", "json_schema": {"name": "top_k", "strict": True, "schema": guesses_schema(question.letters)}}
        return replace(options, response_format=schema)

    def constraint_used(self, *, constraint, backend, logprobs):
        return "json-schema-top-k"

    def read(self, response, question, *, prefilled=True):
        return read_text(response, lambda text, finish: read_guesses(text, question.letters, cut=finish == "length"))


def read_guesses(text: str | None, letters, *, cut: bool = False) -> Parsed:
    """The first guess and its probability (see the module docstring for the scale)."""
    try:
        obj = json.loads(text or "")
    except ValueError:
        obj = None
    guesses = obj.get("guesses") if isinstance(obj, dict) else None
    if not isinstance(guesses, list) or not guesses or not isinstance(guesses[0], dict):
        open_object = (text or "").lstrip().startswith("{") and not (text or "").rstrip().endswith("}")
        return Parsed(None, None, None, TRUNCATED if cut or open_object else NO_ANSWER, "top-k")
    first = guesses[0]
    letter = first.get("answer") if first.get("answer") in letters else None
    if letter is None:
        return Parsed(None, None, None, NO_ANSWER, "top-k")
    value = first.get("probability")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return Parsed(letter, None, None, NO_CONFIDENCE, "top-k")
    if 0 <= value <= 1:
        return Parsed(letter, float(value), "probability", OK, "top-k")
    if isinstance(value, int) and 2 <= value <= 100:  # "70", not "2.0": a decimal says the 0-1 scale was meant
        return Parsed(letter, value / 100, "percent", OK, "top-k")
    return Parsed(letter, None, None, OUT_OF_RANGE, "top-k")


TOP_K = TopK(
    name="top-k", version=1, reads="top-k", request="top-k", max_tokens=80,
    instruction=f"Give your {K} best guesses (option letters) and the probability (0.0 to 1.0) that each is correct, in JSON.",
    summary=f"one reply listing the model's {K} best guesses with a probability each; the first guess and its probability are read",
    cites="Tian et al. 2023, Just Ask for Calibration",
)
