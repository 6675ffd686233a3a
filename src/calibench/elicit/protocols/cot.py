"""``cot``: reasoning step by step, then the answer and a confidence, in one reply.

Xiong et al. 2024, "Can LLMs Express Their Uncertainty? An Empirical Evaluation of Confidence
Elicitation in LLMs" (ICLR), the chain-of-thought verbalized prompt: the model analyses the
question step by step, then states its answer and its confidence (0-100%). The reply is free
text with a budget of ``MAX_TOKENS`` tokens, and only its final answer is read:

- the text from the last line that opens with ``Answer:`` (or ``Final answer:``, with or
  without markdown around it, then read as ``lenient``) is read by the parser's text rules, so letters named while reasoning ("A is wrong because...") are
  never taken for the answer, and several letters in the final statement are ``ambiguous``;
- a final answer given as an option's text instead of its letter ("Answer: 4" where B is
  "4") is that option's letter when it matches exactly one option's text (after case and
  punctuation are folded), read as ``lenient`` with rule ``cot-option-text``;
- a reply cut by the budget (``finish_reason`` "length") before any final answer is
  ``truncated``; one with no final answer line and not cut is ``no_answer``.

It fixes its own letter, so the study measures what it does to the answers against the
answer read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from itertools import islice

from calibench.elicit.parser import AMBIGUOUS, LENIENT, MAX_REPLY_CHARS, NO_ANSWER, OK, TRUNCATED, Parsed, normal_text, parse_reply
from calibench.elicit.protocols.base import Protocol
from calibench.elicit.readers import read_text

MAX_TOKENS = 256
# a line that opens the final statement; bounded repeats keep the search linear
FINAL = re.compile(r"^[ \t*#>_-]{0,6}(?:final[ \t]{1,3})?answer[ \t*_]{0,3}:", re.IGNORECASE | re.MULTILINE)
# the confidence line after the answer line, blank lines between allowed
CONFIDENCE_LINE = re.compile(r"(?:[ \t]{0,20}\n){1,4}([ \t*_]{0,6}confidence[ \t*_]{0,3}:[^\n]{0,200})", re.IGNORECASE)


@dataclass(frozen=True)
class ChainOfThought(Protocol):
    """Free-text reasoning whose final answer alone is read."""

    def read(self, response, question, *, prefilled=True):
        return read_text(response, lambda text, finish: read_final_answer(text, question.letters, question.choices, finish_reason=finish))


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
    name="cot", version=1, reads="cot", request="cot", max_tokens=MAX_TOKENS,
    instruction="Think step by step, then give the letter of your answer and your confidence (0-100%) that it is correct. "
                "End your reply with two lines:\nAnswer: <letter>\nConfidence: <0-100>%",
    summary="step-by-step reasoning, then 'Answer: <letter> / Confidence: <0-100>%'; only the final answer is read",
    cites="Xiong et al. 2024, Can LLMs Express Their Uncertainty?",
)
