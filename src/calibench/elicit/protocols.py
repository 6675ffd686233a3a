"""Elicitation protocols: versioned prompt templates, each with a content hash that results cite.

Every request is ordered system prompt, then the question and its options, then the
protocol's instruction, so that the protocols of one question share a cached prefix on
the engine; the system prompt and instructions are kept short, since on a CPU the prompt
tokens are most of a request's cost (version 2 cut 40 of the 170 new prompt tokens a
question cost under version 1). What the protocols share, that the reply is a letter and a
0-100% confidence, is in the system prompt, which the engine keeps cached across questions;
each instruction only names the format. Three protocols:

- ``verbalized`` (the reference study's): the reply must be ``Answer: <letter>`` then
  ``Confidence: <0-100>%``. It also asks for the top logprobs, from which ``logprob`` reads.
- ``verbalized-json``: the same question with the reply constrained to a JSON object,
  so that the backend's constrained decoding forces the format. The answer is an enum of
  the option letters; the confidence is any number, not an integer: under an integer
  0-100 schema SmolLM2-135M answered "0" on 111 of 120 questions because it was starting a
  decimal ("0.8"), which an integer grammar cuts off. The parser reads the number's scale.
  The constraint is sent one of two ways (a model's ``constraint`` setting): ``json-schema``,
  the OpenAI ``response_format`` any compatible backend takes, or ``grammar``, llama.cpp's
  GBNF ``grammar`` field with the same object written without whitespace
  (``{"answer":"B","confidence":80}``, 11 tokens where the schema's free whitespace let
  the Qwen models write 18-23).
- ``logprob``: no stated confidence; the answer letter is the most probable option letter
  at the answer position of the ``verbalized`` request, and the confidence its probability
  renormalised over the options. It sends no request of its own.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from calibench.data.question import Question
from calibench.errors import CalibenchError
from calibench.models.client import SamplingOptions

SYSTEM_PROMPT = "You answer multiple-choice questions with the letter of your answer and your confidence (0-100%) that it is correct."
TOP_LOGPROBS = 20
CONSTRAINTS = ("json-schema", "grammar")


@dataclass(frozen=True)
class Protocol:
    """A named, versioned way of asking for an answer and a confidence."""

    name: str
    version: int
    instruction: str
    max_tokens: int
    reads: str  # "text", "json" or "logprobs"
    request_protocol: str  # the protocol whose request it reads (itself, or verbalized for logprob)
    json_schema: bool = False
    ask_logprobs: bool = False

    @property
    def sha256(self) -> str:
        """Hash of everything that shapes the prompt and its reading: cited in results."""
        spec = {
            "name": self.name,
            "version": self.version,
            "system": SYSTEM_PROMPT,
            "instruction": self.instruction,
            "max_tokens": self.max_tokens,
            "reads": self.reads,
            "request_protocol": self.request_protocol,
            "schema": schema(("A", "B", "C", "D")) if self.json_schema else None,
            "grammar": grammar(("A", "B", "C", "D")) if self.json_schema else None,
            "top_logprobs": TOP_LOGPROBS if self.ask_logprobs else None,
        }
        if self.request_protocol != self.name:  # reads another protocol's request: cite it too
            spec["request_sha256"] = PROTOCOLS[self.request_protocol].sha256
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()

    def messages(self, question: Question) -> list[dict]:
        """The chat messages for one question: system, then question, options and instruction."""
        options = "\n".join(f"{letter}. {text}" for letter, text in zip(question.letters, question.choices))
        return [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"{question.question}\n{options}\n\n{self.instruction}"},
        ]

    def options(
        self, question: Question, *, temperature: float, seed: int | None, top_p: float | None = None, constraint: str = "json-schema"
    ) -> SamplingOptions:
        """The sampling options of this protocol's request for ``question``.

        ``constraint`` says how a JSON protocol's format is forced: ``"json-schema"``
        (``response_format``, any OpenAI-compatible backend) or ``"grammar"`` (llama.cpp's
        ``grammar`` field: the same object, no whitespace, so fewer tokens to generate).
        """
        if constraint not in CONSTRAINTS:
            raise CalibenchError(f"unknown constraint {constraint!r}; known: {', '.join(CONSTRAINTS)}")
        fmt, extra = None, {}
        if self.json_schema and constraint == "json-schema":
            fmt = {"type": "json_schema", "json_schema": {"name": "mcq_answer", "strict": True, "schema": schema(question.letters)}}
        elif self.json_schema:
            extra = {"grammar": grammar(question.letters)}
        return SamplingOptions(
            temperature=temperature,
            top_p=top_p,
            max_tokens=self.max_tokens,
            seed=seed,
            logprobs=True if self.ask_logprobs else None,
            top_logprobs=TOP_LOGPROBS if self.ask_logprobs else None,
            response_format=fmt,
            extra=extra,
        )


def schema(letters) -> dict:
    """The verbalized-json schema: an answer among the letters and a confidence of any number."""
    return {
        "type": "object",
        "properties": {"answer": {"type": "string", "enum": list(letters)}, "confidence": {"type": "number"}},
        "required": ["answer", "confidence"],
        "additionalProperties": False,
    }


def grammar(letters) -> str:
    """llama.cpp GBNF for the schema's object with no whitespace: ``{"answer":"B","confidence":80}``.

    The number is a JSON number of at most three integer digits and four decimals, without
    exponent: every stated percentage or probability fits (a value out of range is still
    written, and the parser records it as out of range), and a small model cannot stream
    digits until ``max_tokens`` (SmolLM2-135M wrote "0.9999999999999999" under the schema).
    """
    choices = " | ".join(f'"{letter}"' for letter in letters)
    return (
        'root ::= "{\\"answer\\":\\"" letter "\\",\\"confidence\\":" number "}"\n'
        f"letter ::= {choices}\n"
        'number ::= "-"? ("0" | [1-9] [0-9]{0,2}) ("." [0-9]{1,4})?\n'
    )


PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        Protocol(
            name="verbalized",
            version=2,
            instruction="Reply with two lines:\nAnswer: <letter>\nConfidence: <0-100>%",
            max_tokens=24,
            reads="text",
            request_protocol="verbalized",
            ask_logprobs=True,
        ),
        Protocol(
            name="verbalized-json",
            version=2,
            instruction="Reply in JSON.",
            max_tokens=40,
            reads="json",
            request_protocol="verbalized-json",
            json_schema=True,
        ),
        Protocol(
            name="logprob",
            version=2,
            instruction="",
            max_tokens=0,
            reads="logprobs",
            request_protocol="verbalized",
        ),
    )
}


def get_protocol(name: str) -> Protocol:
    if name not in PROTOCOLS:
        raise CalibenchError(f"unknown protocol {name!r}; known: {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]
