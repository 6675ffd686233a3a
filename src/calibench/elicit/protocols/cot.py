"""``cot``: reasoning step by step within a token budget, then the answer and a confidence.

Xiong et al. 2024, "Can LLMs Express Their Uncertainty? An Empirical Evaluation of Confidence
Elicitation in LLMs" (ICLR), the chain-of-thought verbalized prompt: the model analyses the
question step by step, then states its answer and its confidence (0-100%). The reply is free
text with a budget of ``MAX_TOKENS`` tokens, and only its final answer is read. A reply the
budget cut before its final statement is concluded (budget forcing, as in Muennighoff et al.
2025, "s1: Simple test-time scaling"): a second request, ``cot~conclusion``, continues the
same conversation from the cut reasoning with ``Answer:`` opened after it (a prefill on servers
that continue an assistant message; elsewhere a further user turn asks for the two final
lines), and its reply is read as the final statement. The item then carries the reasoning, the
opened statement and the conclusion as its ``raw_text``, and its rule says ``cot-forced``: every
question gets a final answer however long the model would have reasoned, and the items tell
forced conclusions from the model's own.

The final statement is read by :func:`read_final_answer`:

- the text from the last line that opens with ``Answer:`` (or ``Final answer:``, with or
  without markdown around it, then read as ``lenient``) is read by the parser's text rules, so letters named while reasoning ("A is wrong because...") are
  never taken for the answer, and several letters in the final statement are ``ambiguous``;
- a final answer given as an option's text instead of its letter ("Answer: 4" where B is
  "4") is that option's letter when it matches exactly one option's text (after case and
  punctuation are folded), read as ``lenient`` with rule ``cot-option-text``;
- a reply cut by the budget (``finish_reason`` "length") before any final answer is
  ``truncated`` (a consistency sample, which is not concluded); one with no final answer line
  and not cut is ``no_answer``.

It fixes its own letter, so the study measures what it does to the answers against the
answer read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from itertools import islice

from calibench.elicit.parser import AMBIGUOUS, LENIENT, MAX_REPLY_CHARS, NO_ANSWER, OK, TRUNCATED, Parsed, normal_text, parse_reply
from calibench.elicit.protocols.base import ANSWER_PREFILL, BACKENDS, Protocol
from calibench.elicit.readers import Reading, read_text

MAX_TOKENS = 128
CONCLUSION_TOKENS = 16
CONCLUDE = "Stop reasoning now. End your reply with the two lines:\nAnswer: <letter>\nConfidence: <0-100>%"
FORCED = "\n\n" + ANSWER_PREFILL  # what follows the cut reasoning when the final statement is opened for the model
# a line that opens the final statement; bounded repeats keep the search linear
FINAL = re.compile(r"^[ \t*#>_-]{0,6}(?:final[ \t]{1,3})?answer[ \t*_]{0,3}:", re.IGNORECASE | re.MULTILINE)
# the confidence line after the answer line, blank lines between allowed
CONFIDENCE_LINE = re.compile(r"(?:[ \t]{0,20}\n){1,4}([ \t*_]{0,6}confidence[ \t*_]{0,3}:[^\n]{0,200})", re.IGNORECASE)


@dataclass(frozen=True)
class ChainOfThought(Protocol):
    """Free-text reasoning whose final answer alone is read, concluded by ``cot~conclusion`` when cut."""

    def read(self, response, question, *, prefilled=True):
        return read_text(response, lambda text, finish: read_final_answer(text, question.letters, question.choices, finish_reason=finish))

    def concluded(self, reading: Reading, conclusion: Reading, question, *, backend: str = "llama.cpp") -> Reading:
        """The cut reasoning and its forced conclusion, read as one reply: after the prefilled
        ``Answer:`` where ``backend`` continues an assistant message, else as the reply stands."""
        reply = conclusion.text or ""
        prefilled = BACKENDS[backend].prefill
        whole = ANSWER_PREFILL + reply if prefilled else reply
        parsed = read_final_answer(whole, question.letters, question.choices, finish_reason=conclusion.finish_reason)
        text = (reading.text or "") + (FORCED + reply if prefilled else "\n\n" + reply)
        return Reading(replace(parsed, rule=f"cot-forced:{parsed.rule}"), None, text, conclusion.finish_reason)


@dataclass(frozen=True)
class Conclusion(Protocol):
    """The final statement of a reasoning the budget cut, asked after it (see the module docstring)."""

    @property
    def generated(self) -> bool:
        """Its budget is its own: a study's ``max_tokens`` would let it reason on instead of concluding."""
        return False

    def ready(self, question, earlier: dict) -> bool:
        """Asked only when the budget cut the reasoning before it opened a final statement (one cut
        inside its statement stays ``truncated``: its answer may stand, its confidence may be cut)."""
        reply = earlier.get(COT.name)
        if reply is None:
            return False
        reading = COT.read(reply, question)
        return reading.finish_reason == "length" and not FINAL.search(reading.text or "")

    def messages(self, question, *, answer=None, backend="llama.cpp", logprobs=True, earlier=None):
        reasoning = (COT.read(earlier[COT.name], question).text or "") if earlier else ""  # planning: a stand-in
        turn = COT.messages(question, backend=backend, logprobs=logprobs)
        if BACKENDS[backend].prefill:
            return turn + [{"role": "assistant", "content": reasoning + FORCED}]
        return turn + [{"role": "assistant", "content": reasoning}, {"role": "user", "content": CONCLUDE}]

    def options(self, question, **kwargs):
        options = super().options(question, **kwargs)
        return replace(options, extra={**options.extra, **BACKENDS[kwargs.get("backend", "llama.cpp")].prefill_fields})


def read_final_answer(text: str | None, letters, options, *, finish_reason: str | None = None) -> Parsed:
    """The final answer and confidence of a reasoned reply (see the module docstring)."""
    text = (text or "")[:MAX_REPLY_CHARS]
    markers = list(islice(FINAL.finditer(text), 1_000))
    if not markers:
        status = TRUNCATED if finish_reason == "length" else NO_ANSWER
        return Parsed(None, None, None, status, "cot-no-final-answer")
    statements = [_statement(text, m) for m in markers]
    last_text, last_end, exact = statements[-1]
    parsed = parse_reply(last_text, letters, kind="text", finish_reason=finish_reason if last_end == len(text) else None,
                         options=options)
    if parsed.letter is None and parsed.status == NO_ANSWER:
        parsed = _option_text(last_text, letters, options, finish_reason) or parsed
        if parsed.rule == "cot-option-text":
            exact = False
    if parsed.status == OK and not exact:
        parsed = replace(parsed, status=LENIENT)
    # every answer the reply states, and any letter asserted after its last statement, must agree
    stated = {parse_reply(t, letters, kind="text", options=options).letter for t, _, _ in statements[:-1]}
    after = text[last_end:]
    if after.strip():
        stated.add(parse_reply(after, letters, kind="text", options=options).letter)
    if stated - {None, parsed.letter}:  # another letter stated, or one where the final statement has none
        return Parsed(None, None, None, AMBIGUOUS, "cot-conflicting-answers")
    if "\n" not in last_text and after.strip():  # an answer line without its confidence, and more after it
        return Parsed(None, None, None, NO_ANSWER, "cot-statement-not-final")
    return parsed if parsed.rule == "cot-option-text" else replace(parsed, rule=f"cot:{parsed.rule}")


def _statement(text: str, marker) -> tuple[str, int, bool]:
    """The answer statement a marker opens: its line, and the next line when that states the
    confidence; where it ends; and whether it is written exactly as the format asks."""
    line_end = text.find("\n", marker.end())
    line_end = len(text) if line_end < 0 else line_end
    answer = text[marker.end():line_end]
    exact = marker.group(0) == "Answer:" and not answer.startswith(("*", "_"))
    statement, end = "Answer: " + answer.strip(" \t*_"), line_end
    following = CONFIDENCE_LINE.match(text, line_end)
    if following:
        end = following.end()
        statement += "\n" + following.group(1).strip(" \t*_")
        exact = exact and not following.group(1).startswith(("*", "_")) and following.group(0).count("\n") == 1
    return statement, end, exact


def _option_text(statement: str, letters, options, finish_reason) -> Parsed | None:
    """The statement read with its answer given as one option's exact text (its letter put in its place)."""
    first, _, rest = statement.partition("\n")
    stated = normal_text(first.removeprefix("Answer:"))
    matches = [letter for letter, option in zip(letters, options) if stated and normal_text(option) == stated]
    if len(matches) != 1:
        return None
    again = parse_reply(f"Answer: {matches[0]}\n{rest}", letters, kind="text", finish_reason=finish_reason, options=options)
    if again.letter != matches[0]:
        return None
    return replace(again, status=LENIENT if again.status == OK else again.status, rule="cot-option-text")


COT = ChainOfThought(
    name="cot", version=2, reads="cot", request="cot", max_tokens=MAX_TOKENS, conclusion="cot~conclusion",
    instruction="Think step by step, then give the letter of your answer and your confidence (0-100%) that it is correct. "
                "End your reply with two lines:\nAnswer: <letter>\nConfidence: <0-100>%",
    summary=f"step-by-step reasoning ({MAX_TOKENS} tokens at most; a cut one is concluded by a second request), then "
            "'Answer: <letter> / Confidence: <0-100>%'; only the final answer is read",
    cites="Xiong et al. 2024, Can LLMs Express Their Uncertainty?; budget forcing: Muennighoff et al. 2025, s1",
)

CONCLUSION = Conclusion(name="cot~conclusion", version=1, reads="text", request="cot~conclusion", max_tokens=CONCLUSION_TOKENS,
                        builds_on=(COT.name,))
