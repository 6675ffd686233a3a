"""``p-true-samples``: P(True) with the model's own brainstormed answers in the context.

Kadavath et al. 2022, "Language Models (Mostly) Know What They Know", the P(True) variant
"with samples": before judging whether its answer is correct, the model is shown other
answers it gave to the same question, which the paper found to improve P(True)'s
discrimination. Here the brainstormed answers are ``K`` letters sampled from the answer read
at temperature ``TEMPERATURE`` (the question alone, the letter constrained to the options,
each with its own seed; itemised as ``answer~brainstorm``); then, in the answer read's
conversation, "Answers you gave when asked this question again: B, B, C, B, A. Is your
answer correct? Reply True or False.", read as ``p-true`` reads (P(True) renormalised over
True and False at the first generated token; without logprobs, the word written). A
brainstormed answer that failed or read no letter is left out of the list.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from calibench.elicit.protocols.answer import ANSWER
from calibench.elicit.protocols.base import Protocol
from calibench.elicit.protocols.p_true import P_TRUE_QUESTION
from calibench.elicit.protocols.sampled import Sampled

K = 5
TEMPERATURE = 1.0


@dataclass(frozen=True)
class Brainstorm(Sampled):
    """A letter sampled from the answer read: the question alone, the letter constrained to the options."""

    @property
    def label(self) -> str:
        return "answer~brainstorm"

    def messages(self, question, **kwargs):
        return self.base.messages(question, **{**kwargs, "logprobs": False})

    def options(self, question, **kwargs):
        options = self.base.options(question, **{**kwargs, "logprobs": False})
        return replace(options, temperature=self.temperature, seed=(options.seed or 0) + 1 + self.index)

    def read(self, response, question, *, prefilled=True):
        return self.base.read(response, question, prefilled=False)


BRAINSTORM = [Brainstorm(**{**{f.name: getattr(ANSWER, f.name) for f in fields(Protocol)}, "name": f"answer~brainstorm{j}",
                            "request": f"answer~brainstorm{j}"}, base=ANSWER, index=j, temperature=TEMPERATURE) for j in range(K)]


@dataclass(frozen=True)
class PTrueWithSamples(Protocol):
    """P(True) after the brainstormed answers."""

    def messages(self, question, *, answer=None, backend="llama.cpp", logprobs=True, earlier=None):
        if earlier is None:  # planning: the most it sends
            letters = [question.letters[0]] * K
        else:
            letters = [b.read(earlier[b.name], question).parsed.letter for b in BRAINSTORM if earlier.get(b.name) is not None]
            letters = [letter for letter in letters if letter is not None]
        turn = super().messages(question, answer=answer, backend=backend, logprobs=logprobs)
        said = ", ".join(letters) if letters else "none"
        turn[-1] = {"role": "user", "content": f"Answers you gave when asked this question again: {said}. {P_TRUE_QUESTION}"}
        return turn


P_TRUE_SAMPLES = PTrueWithSamples(
    name="p-true-samples", version=1, reads="p-true", request="p-true-samples", follows="answer", follow_up=P_TRUE_QUESTION,
    builds_on=tuple(b.name for b in BRAINSTORM),
    summary=f"P(True) as p-true, after {K} answers sampled from the model at temperature {TEMPERATURE} are shown to it",
    cites="Kadavath et al. 2022, Language Models (Mostly) Know What They Know (P(True) with samples)",
)
