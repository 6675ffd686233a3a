"""Adversarial replies at the length cap: every rule must stay linear (at most 50 ms a reply).

The previous parser's lenient rules backtracked cubically: ``"Answer: C\\nConfidence"``
followed by 800 spaces took 7 s. Degenerate models emit such runs, and a hostile endpoint
can send anything, so each generator below fills the whole 20,000-character cap with runs
of whitespace, digits, labels or percent signs after every label the parser knows.
"""

import time

import pytest

from calibench.elicit.parser import MAX_REPLY_CHARS, parse_reply

N = MAX_REPLY_CHARS
LABELS = ["Answer:", "Answer", "answer is", "Confidence:", "Confidence", "confidence level of", '"answer":', '"confidence":',
          "option", "I choose", "(", "**", "A.", "I am"]
FILLERS = [" ", "\n", " \n", "\t", "9", "0.", "%", " %", "A", "A ", "A, ", "(A)", "**A**", "-", "<", "{", '"', "e9", ".5"]


def _generators():
    for label in LABELS:
        for filler in FILLERS:
            yield f"label {label!r} + {filler!r}", "Answer: C\n" + label + filler * (N // len(filler))
            yield f"repeated {label!r}{filler!r}", (label + filler) * (N // (len(label) + len(filler)))
    yield "digits then %", "Confidence: " + "1" * N + "%"
    yield "option lines", "A. x\n" * (N // 5)
    yield "json open", '{"answer": "A", "confidence": ' + "9" * N
    yield "nested braces", "{" * N


CASES = list(_generators())


@pytest.mark.parametrize("kind", ["text", "json", "number"])
def test_adversarial_replies_parse_in_linear_time(kind):
    slow = []
    for name, reply in CASES:
        best = float("inf")
        for _ in range(3):  # retried: a noisy machine should not fail a linear parser
            t0 = time.perf_counter()
            parse_reply(reply, ("A", "B", "C", "D"), kind=kind, finish_reason="length", options=("x", "y", "z", "w"))
            best = min(best, time.perf_counter() - t0)
            if best <= 0.05:
                break
        if best > 0.05:
            slow.append((name, round(best, 3)))
    assert not slow, f"{len(slow)} of {len(CASES)} adversarial replies took over 50 ms: {slow[:10]}"
