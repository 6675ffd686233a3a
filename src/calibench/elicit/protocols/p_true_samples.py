"""``p-true-samples``: P(True) with the model's own brainstormed answers in the context.

Kadavath et al. 2022, "Language Models (Mostly) Know What They Know", the P(True) variant
"with samples": before judging whether its answer is correct, the model is shown other
answers it gave to the same question, which the paper found to improve P(True)'s
discrimination. Here the brainstormed answers are ``K`` letters sampled from the answer read
at temperature ``TEMPERATURE`` (the question alone, the letter constrained to the options,
each with its own seed; itemised as ``answer~brainstorm``); then, in the answer read's
conversation, "Answers you gave when asked this question again: B, B, C, B, A. Is your
answer correct? Reply True or False.", read as ``p-true`` reads (P(True) renormalised over
True and False at the first generated token; without logprobs, the word written). It is
asked only when all K brainstormed letters were read; otherwise its item is ``failed``
("never asked"), as a follow-up whose answer read failed.
"""

from __future__ import annotations

from dataclasses import dataclass

from calibench.elicit.protocols.answer import ANSWER
from calibench.elicit.protocols.base import Protocol
from calibench.elicit.protocols.p_true import P_TRUE_QUESTION
from calibench.elicit.protocols.sampled import samples_of

K = 5
TEMPERATURE = 1.0


# the brainstormed letters: the answer read sampled, each the model's own letter
BRAINSTORM = samples_of(ANSWER, K, TEMPERATURE, suffix="~brainstorm", own_letter=True)


@dataclass(frozen=True)
class PTrueWithSamples(Protocol):
    """P(True) after the brainstormed answers."""

    def ready(self, question, earlier: dict) -> bool:
        """Asked only when every brainstormed letter was read: a shorter list would tell the model
        something other than what it said."""
        return all(letter is not None for letter in _letters(question, earlier))

    def messages(self, question, *, answer=None, backend="llama.cpp", logprobs=True, earlier=None):
        letters = [question.letters[0]] * K if earlier is None else _letters(question, earlier)  # planning: a stand-in
        turn = super().messages(question, answer=answer, backend=backend, logprobs=logprobs)
        turn[-1] = {"role": "user", "content": f"Answers you gave when asked this question again: {', '.join(letters)}. {P_TRUE_QUESTION}"}
        return turn


def _letters(question, earlier: dict) -> list[str | None]:
    return [None if earlier.get(b.name) is None else b.read(earlier[b.name], question).parsed.letter for b in BRAINSTORM]


P_TRUE_SAMPLES = PTrueWithSamples(
    name="p-true-samples", version=1, reads="p-true", request="p-true-samples", follows="answer", follow_up=P_TRUE_QUESTION,
    builds_on=tuple(b.name for b in BRAINSTORM),
    summary=f"P(True) as p-true, after {K} answers sampled from the model at temperature {TEMPERATURE} are shown to it",
    cites="Kadavath et al. 2022, Language Models (Mostly) Know What They Know (P(True) with samples)",
)
