"""What a protocol is: a named, versioned way of asking, with its prompt, constraint and reading.

The answer comes first, confidence second. Every question is first asked for its answer
alone (the *answer read*, :mod:`.answer`); the protocols that ask for a confidence about that
answer continue the same conversation (``follows = "answer"``), so that no constraint on the
confidence can move the answer and every such protocol speaks of the same letter. Protocols
that fix their own letter (one request that asks for answer and confidence together) are
measured against the answer read (:mod:`calibench.study.validity`).

Every request begins with the same system prompt, question and options, so that a
question's requests share a cached prefix on the engine; the system prompt says nothing of
confidence, so that the answer read is asked without it.

A protocol is a :class:`Protocol`: its fields say what it sends and how its reply is read
(``reads``: one of :data:`READINGS`); a subclass may override :meth:`Protocol.messages`,
:meth:`Protocol.options` or :meth:`Protocol.read` for what the fields cannot say.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import sys
from dataclasses import dataclass, field

from calibench.data.question import Question
from calibench.elicit.readers import Reading, read_response
from calibench.errors import CalibenchError
from calibench.models.client import SamplingOptions

# how a reply is read (calibench.elicit.readers): the letter distribution at one token, free
# text or a JSON object with answer and confidence, a number alone, or P(True)
READINGS = ("letter-logprobs", "text", "json", "number", "p-true")

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




@dataclass(frozen=True)
class Protocol:
    """A named, versioned way of asking: its prompt, constraint and reading.

    ``request`` names the protocol whose request it reads (itself, or ``answer`` for
    ``logprob``); ``follows`` the request whose answer letter its conversation continues
    from; ``reads`` how the reply is read (one of :data:`READINGS`). ``summary`` says in one
    line what it asks and ``cites`` the paper it comes from; neither shapes a request.
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
    summary: str = ""
    cites: str = ""
    # other requests whose replies its messages are built from (besides the answer read it follows)
    builds_on: tuple[str, ...] = ()
    # prompt templates (calibench.elicit.protocols.templates): which one this is; its own request
    # in other words (the "rephrased" template); a worked example's reply, a format string with
    # {letter} and {confidence} (the "few-shot" template)
    template: str = "plain"
    rephrasing: str = ""
    example: str = ""
    # a request that concludes its reply when the budget cut it (builds on this one's reply;
    # its reading replaces this one's through concluded()): cot's forced final statement
    conclusion: str | None = None

    def __post_init__(self) -> None:
        if self.reads not in READINGS and type(self).read is Protocol.read:
            raise CalibenchError(f"protocol {self.name!r}: reads must be one of {', '.join(READINGS)} "
                                 f"(or the class must define read()), got {self.reads!r}")

    @property
    def self_answering(self) -> bool:
        """Whether it fixes its own letter (one request asking for answer and confidence together)."""
        return self.sends and self.follows is None and self.name != "answer"

    @property
    def templates(self) -> tuple[str, ...]:
        """The prompt templates it comes in (:mod:`calibench.elicit.protocols.templates`)."""
        return ("plain",) + (("few-shot",) if self.example else ()) + (("rephrased",) if self.rephrasing else ())

    @property
    def label(self) -> str:
        """The name its requests are counted and itemised under (several samples share one)."""
        return self.name

    @property
    def generated(self) -> bool:
        """Whether its reply is generated text (a budget a study may change), not one token's distribution."""
        return self.reads not in ("letter-logprobs", "p-true")

    @property
    def carries_answer_read(self) -> bool:
        """Whether its items carry the answer read's letter (it reads or continues the answer read)."""
        return self.request == "answer" or self.follows == "answer"

    @property
    def needs_letter_distribution(self) -> bool:
        """Whether it reads the answer read's letter distribution (assistant prefill and logprobs)."""
        return self.request == "answer" and self.name != "answer" and self.reads == "letter-logprobs"

    def ready(self, question: Question, earlier: dict) -> bool:
        """Whether to ask, given the stored replies of the requests in ``builds_on`` (None where one failed)."""
        return True

    def concluded(self, reading: Reading, conclusion: Reading, question: Question, *, backend: str = "llama.cpp") -> Reading:
        """What this protocol's reply says once its ``conclusion`` request concluded it (asked of a
        ``backend`` server): by default the conclusion's reading."""
        return conclusion

    def read(self, response: dict, question: Question, *, prefilled: bool = True) -> Reading:
        """What one stored response says under this protocol (see :func:`calibench.elicit.readers.read_response`)."""
        return read_response(self.reads, response, question, prefilled=prefilled)

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
        if self.builds_on:
            spec["builds_on"] = list(self.builds_on)
        if self.template != "plain":
            spec["template"] = self.template
        if self.template == "few-shot":
            from calibench.elicit.protocols.templates import examples_spec

            spec["example"], spec["examples"] = self.example, examples_spec()
        if not self.sends:  # reads another protocol's request: cite it too
            from calibench.elicit.protocols import REQUESTS

            spec["request_sha256"] = REQUESTS[self.request].sha256
        if self.builds_on:
            from calibench.elicit.protocols import REQUESTS

            spec["builds_on_sha256"] = [REQUESTS[name].sha256 for name in self.builds_on]
        if type(self) is not Protocol:  # a subclass's own code (its module's: tables, readers) shapes its requests too
            spec["class"] = type(self).__qualname__
            spec["source_sha256"] = code_sha256(type(self))
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()

    def messages(self, question: Question, *, answer: str | None = None, backend: str = "llama.cpp", logprobs: bool = True,
                 earlier: dict | None = None) -> list[dict]:
        """The chat messages for one question; ``answer`` is the answer read's letter for a follow-up,
        ``earlier`` the stored replies of the requests in ``builds_on`` (None: not yet known, planning)."""
        first = [{"role": "system", "content": SYSTEM_PROMPT}, *self._worked_examples(backend), self._ask(question)]
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

    def _ask(self, question: Question) -> dict:
        options = "\n".join(f"{letter}. {text}" for letter, text in zip(question.letters, question.choices))
        return {"role": "user", "content": f"{question.question}\n{options}\n\n{self.instruction}"}

    def _worked_examples(self, backend: str) -> list[dict]:
        """The few-shot template's worked examples: each a whole conversation in this protocol's format
        (a number-constrained reply as the JSON object a server without grammars is asked for)."""
        if self.template != "few-shot":
            return []
        from calibench.elicit.protocols.templates import EXAMPLES, example_questions

        turns = []
        for question, (_, letter, confidence) in zip(example_questions(), EXAMPLES):
            text = self.example.format(letter=letter, confidence=confidence)
            if self.constrained == "number" and not BACKENDS[backend].grammar:
                text = json.dumps({"confidence": confidence})
            reply = {"role": "assistant", "content": text}
            if self.follows:  # the answer, then the follow-up and its reply, as in the protocol's own conversation
                turns += [self._ask(question), {"role": "assistant", "content": f"{ANSWER_PREFILL} {letter}"},
                          {"role": "user", "content": self.follow_up}, reply]
            else:
                turns += [self._ask(question), reply]
        return turns

    def options(
        self, question: Question, *, temperature: float, seed: int | None, top_p: float | None = None,
        constraint: str = "json-schema", backend: str = "llama.cpp", logprobs: bool = True, max_tokens: int | None = None,
    ) -> SamplingOptions:
        """The sampling options of this protocol's request for ``question``.

        ``max_tokens`` replaces the protocol's own budget for a generated reply (see
        :attr:`generated`); the one-token reads keep theirs.

        ``constraint`` says how ``verbalized-json`` forces its format (``"json-schema"`` or
        llama.cpp's ``"grammar"``); ``backend`` (``llama.cpp``, ``vllm`` or ``openai``) what
        the server accepts; ``logprobs`` whether it returns them.
        """
        if constraint not in CONSTRAINTS:
            raise CalibenchError(f"unknown constraint {constraint!r}; known: {', '.join(CONSTRAINTS)}")
        server = BACKENDS[backend]
        fmt, extra = None, {}
        max_tokens = max_tokens if max_tokens is not None and self.generated else self.max_tokens
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


@functools.cache
def code_sha256(cls: type) -> str | None:
    """The hash of the source of the module that defines ``cls`` (where its reading lives, with
    any table it uses); None where no source is kept (an interactive session). The module's
    text, not its name or path: a plugin file moved elsewhere keeps its hash. Read once per
    process: the source is read from disk, and a file edited while a run goes on must not
    change the keys its replies were stored under (the running code is still the old one)."""
    try:
        return hashlib.sha256(inspect.getsource(sys.modules[cls.__module__]).encode()).hexdigest()
    except (OSError, TypeError, KeyError):
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
