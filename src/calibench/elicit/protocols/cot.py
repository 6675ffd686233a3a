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

from calibench.elicit.parser import LENIENT, MAX_REPLY_CHARS, NO_ANSWER, OK, TRUNCATED, Parsed, normal_text, parse_reply
from calibench.elicit.protocols.base import Protocol
from calibench.elicit.readers import Reading

MAX_TOKENS = 256
# a line that opens the final statement; bounded repeats keep the search linear
FINAL = re.compile(r"^[ \t*#>_-]{0,6}(?:final[ \t]{1,3})?answer[ \t*_]{0,3}:", re.IGNORECASE | re.MULTILINE)
_ANSWER_LINE = re.compile(r"[^\n]{0,300}")


@dataclass(frozen=True)
class ChainOfThought(Protocol):
    """Free-text reasoning whose final answer alone is read."""

    def read(self, response, question, *, prefilled=True):
        choice = (response.get("choices") or [{}])[0] if isinstance(response, dict) else {}
        text = (choice.get("message") or {}).get("content") if isinstance(choice, dict) else None
        finish = choice.get("finish_reason") if isinstance(choice, dict) else None
        return Reading(read_final_answer(text, question.letters, question.choices, finish_reason=finish), None, text, finish)


def read_final_answer(text: str | None, letters, options, *, finish_reason: str | None = None) -> Parsed:
    """The final answer and confidence of a reasoned reply (see the module docstring)."""
    text = (text or "")[:MAX_REPLY_CHARS]
    last = None
    for last in islice(FINAL.finditer(text), 10_000):
        pass
    if last is None:
        status = TRUNCATED if finish_reason == "length" else NO_ANSWER
        return Parsed(None, None, None, status, "cot-no-final-answer")
    # the final statement as the format asks for it: a decorated marker ("**Final answer:** B")
    # is read the same, but counts as lenient
    after = text[last.end():]
    plain = after.lstrip("*_ \t")
    exact = text[last.start():last.end()] == "Answer:" and after[: len(after) - len(plain)] in ("", " ")
    parsed = parse_reply("Answer: " + plain, letters, kind="text", finish_reason=finish_reason, options=options)
    if parsed.status == OK and not exact:
        parsed = replace(parsed, status=LENIENT)
    if parsed.letter is None and parsed.status == NO_ANSWER:
        stated = normal_text(_ANSWER_LINE.match(text, last.end()).group(0))
        matches = [letter for letter, option in zip(letters, options) if stated and normal_text(option) == stated]
        if len(matches) == 1:  # the option's text instead of its letter: read the rest with the letter in its place
            rest = text[last.end():].split("\n", 1)
            again = parse_reply(f"Answer: {matches[0]}\n" + (rest[1] if len(rest) > 1 else ""), letters, kind="text",
                                finish_reason=finish_reason, options=options)
            if again.letter == matches[0]:
                return replace(again, status=LENIENT if again.status == OK else again.status, rule="cot-option-text")
    return replace(parsed, rule=f"cot:{parsed.rule}")


COT = ChainOfThought(
    name="cot", version=1, reads="cot", request="cot", max_tokens=MAX_TOKENS,
    instruction="Think step by step, then give the letter of your answer and your confidence (0-100%) that it is correct. "
                "End your reply with two lines:\nAnswer: <letter>\nConfidence: <0-100>%",
    summary="step-by-step reasoning, then 'Answer: <letter> / Confidence: <0-100>%'; only the final answer is read",
    cites="Xiong et al. 2024, Can LLMs Express Their Uncertainty?",
)
