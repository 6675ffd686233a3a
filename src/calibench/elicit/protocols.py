"""Elicitation protocols: versioned prompt templates, each with a content hash that results cite.

The answer comes first, confidence second. Every question is first asked for its answer
alone (the *answer read*); the protocols that ask for a confidence about that answer
continue the same conversation, so that no constraint on the confidence can move the
answer and every such protocol speaks of the same letter:

- ``logprob`` (the answer read): the question, then the assistant turn prefilled with
  ``Answer:``; one generated token with the top 20 logprobs. The option letters' probability
  mass at that position, renormalised over the options, is the letter distribution; its
  argmax is the model's answer and its probability the confidence. The raw mass over the
  letters is kept. It needs assistant prefill and logprobs (llama.cpp and vLLM servers, the
  embedded engine); a study refuses it up front where the model's backend has neither.
- ``stated`` (two-stage, the headline): the answer read's letter is placed in the
  conversation as the model's reply (``Answer: B``); a second turn asks how likely that
  answer is to be correct, 0-100%, and only the number is constrained: on llama.cpp the
  assistant turn is prefilled with ``Confidence:`` and a grammar admits a number in either
  scale (``85%``, ``85``, ``0.85``), so a model that wants to write a probability is not
  cut off (under an integer-only schema SmolLM2-135M wrote "0" on 111 of 120 questions
  while it was starting "0.8"); elsewhere a JSON schema ``{"confidence": number}``. Without
  logprobs or prefill, the first turn is the model's own single-letter answer, constrained
  to the option letters; items record which (``answer_source``).
- ``p-true`` (Kadavath et al. 2022, "Language Models (Mostly) Know What They Know"): the
  same conversation, then "Is your answer correct? Reply True or False."; the probability
  of True renormalised over True and False at the first generated token (the raw mass kept);
  without logprobs, the word the model writes (True 1.0, False 0.0).
- ``verbalized`` (the reference study's): one request, the reply must be
  ``Answer: <letter>`` then ``Confidence: <0-100>%``, read by the parser.
- ``verbalized-json``: the same with the reply constrained to a JSON object
  ``{"answer": <letter>, "confidence": <number>}``: ``json-schema`` (the OpenAI
  ``response_format`` any compatible backend takes; the embedded engine's default, since it
  lets a model lay out JSON as it does unconstrained) or ``grammar`` (llama.cpp's GBNF,
  the object without whitespace: fewer tokens, but it moved Qwen2.5-Coder-1.5B's answers,
  100 of 101 changed letters becoming B in the published v1 study).

``verbalized`` and ``verbalized-json`` fix their own letter, so the study measures what they
do to the answers against the answer read (:mod:`calibench.study.validity`).

Every request begins with the same system prompt, question and options, so that a
question's requests share a cached prefix on the engine; the system prompt says nothing of
confidence, so that the answer read is asked without it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from calibench.data.question import Question
from calibench.errors import CalibenchError
from calibench.models.client import SamplingOptions

SYSTEM_PROMPT = "You answer multiple-choice questions."
TOP_LOGPROBS = 20
CONSTRAINTS = ("json-schema", "grammar")
ANSWER_PREFILL = "Answer:"
CONFIDENCE_PREFILL = "Confidence:"
ANSWER_INSTRUCTION = "Answer with the letter of the correct option."


@dataclass(frozen=True)
class Backend:
    """What a server family accepts beyond the OpenAI chat API: assistant prefill (a last
    assistant message continued, with the extra body fields that ask for it) and GBNF grammars."""

    name: str
    prefill: bool
    grammar: bool
    prefill_fields: dict = field(default_factory=dict)


BACKENDS = {
    b.name: b
    for b in (
        Backend("llama.cpp", prefill=True, grammar=True),  # continues a last assistant message by itself
        Backend("vllm", prefill=True, grammar=False, prefill_fields={"continue_final_message": True, "add_generation_prompt": False}),
        Backend("openai", prefill=False, grammar=False),  # any other OpenAI-compatible API
    )
}


GENERATED = ("text", "json", "number")  # readings of a generated reply, not of one token's distribution


@dataclass(frozen=True)
class Protocol:
    """A named, versioned way of asking: its prompt, constraint and reading.

    ``request`` names the protocol whose request it reads (itself, or ``answer`` for
    ``logprob``); ``follows`` the request whose answer letter its conversation continues
    from; ``reads`` how the reply is read: ``letter-logprobs``, ``text``, ``json``, ``number``
    or ``p-true``.
    """

    name: str
    version: int
    reads: str
    request: str
    instruction: str = ANSWER_INSTRUCTION
    follow_up: str = ""  # the second user turn of a protocol that follows the answer read
    max_tokens: int = 1
    follows: str | None = None
    constrained: str | None = None  # "json" (answer and confidence) or "number" (confidence only)

    @property
    def sends(self) -> bool:
        return self.request == self.name

    @property
    def sha256(self) -> str:
        """Hash of everything that shapes the prompt and its reading: cited in results."""
        spec = {
            "name": self.name,
            "version": self.version,
            "system": SYSTEM_PROMPT,
            "instruction": self.instruction,
            "follow_up": self.follow_up,
            "prefills": [ANSWER_PREFILL, CONFIDENCE_PREFILL],
            "max_tokens": self.max_tokens,
            "reads": self.reads,
            "request": self.request,
            "follows": self.follows,
            "schema": schema(("A", "B", "C", "D")) if self.constrained == "json" else None,
            "grammar": grammar(("A", "B", "C", "D")) if self.constrained == "json" else None,
            "number_grammar": NUMBER_GRAMMAR if self.constrained == "number" else None,
            "top_logprobs": TOP_LOGPROBS,
        }
        if not self.sends:  # reads another protocol's request: cite it too
            spec["request_sha256"] = REQUESTS[self.request].sha256
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()

    def messages(self, question: Question, *, answer: str | None = None, backend: str = "llama.cpp", logprobs: bool = True) -> list[dict]:
        """The chat messages for one question; ``answer`` is the answer read's letter for a follow-up."""
        options = "\n".join(f"{letter}. {text}" for letter, text in zip(question.letters, question.choices))
        first = [{"role": "system", "content": SYSTEM_PROMPT},
                 {"role": "user", "content": f"{question.question}\n{options}\n\n{self.instruction}"}]
        prefill = BACKENDS[backend].prefill
        if self.name == "answer":
            return first + ([{"role": "assistant", "content": ANSWER_PREFILL}] if prefill and logprobs else [])
        if self.follows is None:
            return first
        if answer is None:
            raise CalibenchError(f"protocol {self.name} follows the answer read: its letter is needed")
        turn = first + [{"role": "assistant", "content": f"{ANSWER_PREFILL} {answer}"}, {"role": "user", "content": self.follow_up}]
        if self.constrained == "number" and BACKENDS[backend].grammar:
            turn.append({"role": "assistant", "content": CONFIDENCE_PREFILL})
        return turn

    def options(
        self, question: Question, *, temperature: float, seed: int | None, top_p: float | None = None,
        constraint: str = "json-schema", backend: str = "llama.cpp", logprobs: bool = True, max_tokens: int | None = None,
    ) -> SamplingOptions:
        """The sampling options of this protocol's request for ``question``.

        ``max_tokens`` replaces the protocol's own budget for a generated reply (``reads`` is
        ``text``, ``json`` or ``number``); the one-token reads keep theirs.

        ``constraint`` says how ``verbalized-json`` forces its format (``"json-schema"`` or
        llama.cpp's ``"grammar"``); ``backend`` (``llama.cpp``, ``vllm`` or ``openai``) what
        the server accepts; ``logprobs`` whether it returns them.
        """
        if constraint not in CONSTRAINTS:
            raise CalibenchError(f"unknown constraint {constraint!r}; known: {', '.join(CONSTRAINTS)}")
        server = BACKENDS[backend]
        fmt, extra = None, {}
        max_tokens = max_tokens if max_tokens is not None and self.reads in GENERATED else self.max_tokens
        if self.name == "answer" and not (server.prefill and logprobs):
            # no letter distribution to read: the model's own letter, constrained to the options
            # (one token under a grammar; a JSON object {"answer":"B"} takes several)
            fmt, extra = _answer_constraint(question.letters, server)
            max_tokens = 1 if server.grammar else 16
        elif self.name == "answer":
            extra = dict(server.prefill_fields)
        elif self.constrained == "json":
            if constraint == "grammar" and server.grammar:
                extra = {"grammar": grammar(question.letters)}
            else:
                fmt = _json_format("mcq_answer", schema(question.letters))
        elif self.constrained == "number":
            if server.grammar:
                extra = {"grammar": NUMBER_GRAMMAR}
            else:
                fmt = _json_format("confidence", {"type": "object", "properties": {"confidence": {"type": "number"}},
                                                  "required": ["confidence"], "additionalProperties": False})
        elif self.reads == "p-true" and not logprobs:
            max_tokens = 4  # the word itself is read
        want_logprobs = logprobs and self.reads in ("letter-logprobs", "p-true")
        return SamplingOptions(
            temperature=temperature,
            top_p=top_p,
            max_tokens=max_tokens,
            seed=seed,
            logprobs=True if want_logprobs else None,
            top_logprobs=TOP_LOGPROBS if want_logprobs else None,
            response_format=fmt,
            extra=extra,
        )

    def constraint_used(self, *, constraint: str, backend: str, logprobs: bool) -> str | None:
        """What forced this protocol's format on a model, as results record it."""
        server = BACKENDS[backend]
        if self.request == "answer":
            return "prefill" if server.prefill and logprobs else ("grammar-letter" if server.grammar else "json-schema-letter")
        if self.constrained == "json":
            return "grammar" if constraint == "grammar" and server.grammar else "json-schema"
        if self.constrained == "number":
            return "prefill+grammar-number" if server.grammar else "json-schema-number"
        return None


def _json_format(name: str, schema_: dict) -> dict:
    return {"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": schema_}}


def _answer_constraint(letters, server: Backend) -> tuple[dict | None, dict]:
    if server.grammar:
        return None, {"grammar": "root ::= " + " | ".join(f'"{letter}"' for letter in letters) + "\n"}
    return _json_format("answer", {"type": "object", "properties": {"answer": {"type": "string", "enum": list(letters)}},
                                   "required": ["answer"], "additionalProperties": False}), {}


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


# the stated confidence after the "Confidence:" prefill: a space as the model would write it,
# a number in either scale (at most three integer digits and four decimals), an optional "%"
NUMBER_GRAMMAR = 'root ::= " "? number "%"?\nnumber ::= ("0" | [1-9] [0-9]{0,2}) ("." [0-9]{1,4})?\n'

STATED_QUESTION = "How likely is it that your answer is correct? Give a probability from 0 to 100%."
P_TRUE_QUESTION = "Is your answer correct? Reply True or False."

_ANSWER = Protocol(name="answer", version=3, reads="letter-logprobs", request="answer")

PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        Protocol(name="stated", version=3, reads="number", request="stated", follows="answer", follow_up=STATED_QUESTION,
                 max_tokens=12, constrained="number"),
        Protocol(name="logprob", version=3, reads="letter-logprobs", request="answer"),
        Protocol(name="p-true", version=3, reads="p-true", request="p-true", follows="answer", follow_up=P_TRUE_QUESTION),
        Protocol(name="verbalized", version=3, reads="text", request="verbalized", max_tokens=32,
                 instruction="Give the letter of your answer and your confidence (0-100%) that it is correct. "
                             "Reply with two lines:\nAnswer: <letter>\nConfidence: <0-100>%"),
        Protocol(name="verbalized-json", version=3, reads="json", request="verbalized-json", max_tokens=40, constrained="json",
                 instruction="Give the letter of your answer and your confidence (0-100%) that it is correct, in JSON."),
    )
}
# what is sent: every protocol that sends its own request, and the answer read
REQUESTS: dict[str, Protocol] = {"answer": _ANSWER, **{name: p for name, p in PROTOCOLS.items() if p.sends}}
DEFAULT_PROTOCOLS = ("stated", "logprob", "p-true", "verbalized", "verbalized-json")
# protocols that fix their own letter: their effect on the answers is measured against the answer read
SELF_ANSWERING = ("verbalized", "verbalized-json")


def get_protocol(name: str) -> Protocol:
    if name not in PROTOCOLS:
        raise CalibenchError(f"unknown protocol {name!r}; known: {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]


def request_protocols(protocols) -> list[Protocol]:
    """The requests a set of protocols sends, each once, in a fixed order: the answer read first,
    then its follow-ups, then the self-answering protocols (so a question's requests share a prefix)."""
    wanted = set()
    for name in protocols:
        p = PROTOCOLS[name]
        wanted.add(p.request)
        if p.follows:
            wanted.add(p.follows)
    return [p for name, p in REQUESTS.items() if name in wanted]
