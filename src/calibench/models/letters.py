"""Answer-letter probabilities from the top logprobs an endpoint returns.

At the answer position (the first generated token that is an option letter once
whitespace, quotes and trailing punctuation are stripped: "B", " B", "\"B", "B."; or, when
the parsed answer is known, the first token that is that letter, so that an article "A"
before "B" is not mistaken for the answer), the
probabilities of every top-logprob token that normalises to a letter are summed per
letter. ``raw`` keeps those sums; ``probs`` renormalises them over the question's options,
and ``mass`` (the raw total) says how much of the model's probability the options held.
A letter missing from the top-k gets probability 0: the top-k list is all an endpoint gives.
Entries that are no log-probability (positive, infinite, not a number) are ignored.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

_STRIP = " \t\n\r\"'`*([{"
_TRAIL = ".:)]},;\"'`*"


@dataclass(frozen=True)
class LetterProbabilities:
    """Per-letter probability at the answer position; see the module docstring."""

    position: int
    token: str
    probs: dict[str, float]
    raw: dict[str, float]
    mass: float

    def to_dict(self) -> dict:
        return asdict(self)


def normalise_token(token: str) -> str:
    """A token's text as a candidate letter: surrounding whitespace, quotes and punctuation removed."""
    return token.strip(_STRIP).rstrip(_TRAIL).strip()


def letter_probabilities(
    content: list[dict] | None, letters: tuple[str, ...] | list[str], *, answer: str | None = None
) -> LetterProbabilities | None:
    """Letter probabilities from an OpenAI-style ``choices[0].logprobs.content`` list.

    ``letters`` are the question's option letters; ``answer``, if given, the parsed answer
    letter. Returns None when there are no logprobs, no generated token is the answer
    letter, or the answer position carries no top logprobs.
    """
    if not isinstance(content, list) or not content:
        return None
    wanted = set(letters)
    target = {answer} if answer is not None else wanted
    for position, entry in enumerate(content):
        if not isinstance(entry, dict) or normalise_token(str(entry.get("token", ""))) not in target:
            continue
        return letter_probabilities_at(entry, letters, position=position)
    return None


def letter_probabilities_at(entry, letters, *, position: int = 0) -> LetterProbabilities | None:
    """Letter probabilities at one generated position (``content[position]``), whatever token was
    sampled there: the answer read asks for one token after a prefilled ``Answer:`` and reads its
    top logprobs. None when the position carries no top logprobs or no letter's mass."""
    raw = token_mass(entry, {letter: letter for letter in letters})
    if raw is None:
        return None
    mass = sum(raw.values())
    if mass <= 0:
        return None
    probs = {k: v / mass for k, v in raw.items()}
    return LetterProbabilities(position, str(entry.get("token")), probs, raw, min(mass, 1.0))


def token_mass(entry, names: dict[str, str]) -> dict[str, float] | None:
    """Summed probability per name at one position: ``names`` maps a normalised token text to a
    name (``{"A": "A"}``, or ``{"true": "true"}`` for P(True), matched lower-cased when the keys are).
    None when the position carries no top logprobs."""
    if not isinstance(entry, dict):
        return None
    top = entry.get("top_logprobs")
    if not isinstance(top, list) or not top:
        return None
    lower = all(k == k.lower() for k in names)
    raw = dict.fromkeys(names.values(), 0.0)
    for alt in top:
        if not isinstance(alt, dict):
            continue
        text = normalise_token(str(alt.get("token", "")))
        name = names.get(text.lower() if lower else text)
        logprob = _logprob(alt.get("logprob"))
        # a log-probability is at most 0; anything else (a broken or hostile endpoint) is ignored
        if name is not None and logprob is not None and logprob <= 1e-6:
            raw[name] += math.exp(min(logprob, 0.0))
    return raw


def _logprob(value) -> float | None:
    """A finite number, or None (booleans, strings, and integers too large for a float are no data)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        value = float(value)
    except OverflowError:
        return None
    return value if math.isfinite(value) else None
