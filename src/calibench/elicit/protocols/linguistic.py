"""``linguistic``: after the answer read, the model picks a verbal expression of how likely its answer is.

Tian et al. 2023, "Just Ask for Calibration" (EMNLP), linguistic confidence: the model states
its confidence as an expression ("highly likely", "probably not", ...), mapped to a number by
a fixed table. Here the answer is fixed first, as for ``stated``: the answer read's letter is
placed as the model's reply and a second turn asks for one of the ``PHRASES``, listed from
most to least likely; only the expression is constrained (llama.cpp: a grammar after a
prefilled ``Confidence:``; elsewhere a JSON schema ``{"confidence": one of the phrases}``).

The table is the median of each expression in Wade Fagen-Ulmschneider's "Perception of
Probability Words" survey (123 respondents, 2015-2019; raw data in github.com/wadefagen/datasets,
``Perception-of-Probability-Words/survey-results.csv`` at commit d588d8f5, medians computed
from it and equal to those the survey's page publishes), the same 17 expressions and values
LM-Polygraph's Ling. 1S estimator uses. Its respondents were mostly undergraduates reached on
social media, and several expressions tie (three at 70%, three at 10%): the table is a fixed,
documented mapping, not a measurement of how any model means the words. A mapping learned
from the model's own answers on held-out folds is the recalibration's job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from calibench.elicit.parser import NO_CONFIDENCE, OK, TRUNCATED, Parsed
from calibench.elicit.protocols.base import BACKENDS, CONFIDENCE_PREFILL, Protocol
from calibench.elicit.readers import read_text

# expression -> median probability in the survey (see the module docstring)
PHRASES = {
    "almost certain": 0.95, "highly likely": 0.90, "very good chance": 0.80, "we believe": 0.75, "probable": 0.70,
    "likely": 0.70, "probably": 0.70, "better than even": 0.60, "about even": 0.50, "probably not": 0.25,
    "we doubt": 0.20, "unlikely": 0.20, "improbable": 0.10, "little chance": 0.10, "chances are slight": 0.10,
    "highly unlikely": 0.05, "almost no chance": 0.02,
}
QUESTION = ("How likely is it that your answer is correct? Reply with one of these expressions: "
            + ", ".join(PHRASES) + ".")
GRAMMAR = 'root ::= " "? (' + " | ".join(f'"{p}"' for p in PHRASES) + ")\n"


@dataclass(frozen=True)
class Linguistic(Protocol):
    """A follow-up whose reply is one expression from a fixed list (``categories``: recalibration
    maps each expression to its own accuracy out of fold, beside the fixed table)."""

    categories = tuple(PHRASES)

    def messages(self, question, *, answer=None, backend="llama.cpp", logprobs=True, earlier=None):
        turn = super().messages(question, answer=answer, backend=backend, logprobs=logprobs, earlier=earlier)
        return turn + [{"role": "assistant", "content": CONFIDENCE_PREFILL}] if BACKENDS[backend].grammar else turn

    def options(self, question, **kwargs):
        options = super().options(question, **kwargs)
        if BACKENDS[kwargs.get("backend", "llama.cpp")].grammar:
            return replace(options, extra={**options.extra, "grammar": GRAMMAR})
        schema = {"type": "object", "properties": {"confidence": {"type": "string", "enum": list(PHRASES)}},
                  "required": ["confidence"], "additionalProperties": False}
        return replace(options, response_format={"type": "json_schema", "json_schema": {"name": "confidence", "strict": True, "schema": schema}})

    def constraint_used(self, *, constraint, backend, logprobs):
        return "prefill+grammar-phrase" if BACKENDS[backend].grammar else "json-schema-phrase"

    def read(self, response, question, *, prefilled=True):
        return read_text(response, lambda text, finish: read_phrase(text, cut=finish == "length"))


def read_phrase(text: str | None, *, cut: bool = False) -> Parsed:
    """The expression a reply chose (alone, after the ``Confidence:`` prefill, or as a JSON object's
    ``confidence``), as its table value."""
    body = (text or "").strip()
    if body.startswith("{"):
        try:
            obj = json.loads(body)
        except ValueError:
            obj = None
        body = obj.get("confidence") if isinstance(obj, dict) and isinstance(obj.get("confidence"), str) else ""
    phrase = body.strip().strip(".").lower().removeprefix(CONFIDENCE_PREFILL.lower()).strip()  # a server may echo the prefill
    if phrase in PHRASES and not cut:  # a cut "probably" may have been "probably not"
        return Parsed(None, PHRASES[phrase], "phrase", OK, f"linguistic:{phrase}")
    return Parsed(None, None, None, TRUNCATED if cut else NO_CONFIDENCE, "linguistic")


LINGUISTIC = Linguistic(
    name="linguistic", version=1, reads="linguistic", request="linguistic", follows="answer", follow_up=QUESTION, max_tokens=16,
    summary="after the answer read's letter, one of 17 expressions ('highly likely', ...), mapped to a survey's median",
    cites="Tian et al. 2023, Just Ask for Calibration; table: Fagen-Ulmschneider, Perception of Probability Words",
)
