"""The multiple-choice ``Question`` that every later stage consumes."""

from __future__ import annotations

import string
from dataclasses import dataclass

LETTERS = string.ascii_uppercase[:10]
MIN_CHOICES, MAX_CHOICES = 2, 10


@dataclass(frozen=True, slots=True)
class Question:
    """One multiple-choice question with its answer key.

    ``choices`` are the option texts in order; option ``i`` is labelled ``LETTERS[i]`` and
    ``answer`` is the correct option's letter. ``dataset`` names where it came from (a
    vendored dataset's name or a user file's stem), ``subject`` and ``category`` are the
    strata the study sampler uses. ``id`` is unique within its dataset.
    """

    id: str
    dataset: str
    subject: str
    category: str
    question: str
    choices: tuple[str, ...]
    answer: str

    def __post_init__(self) -> None:
        # Validation is the loaders' job (they name file, line and field); this guards
        # Questions built by hand in Python.
        if not MIN_CHOICES <= len(self.choices) <= MAX_CHOICES:
            raise ValueError(f"question {self.id!r}: needs {MIN_CHOICES} to {MAX_CHOICES} choices, got {len(self.choices)}")
        if self.answer not in self.letters:
            raise ValueError(f"question {self.id!r}: answer {self.answer!r} is not one of {', '.join(self.letters)}")

    @property
    def letters(self) -> tuple[str, ...]:
        """The option letters, ``("A", "B", ...)``, one per choice."""
        return tuple(LETTERS[: len(self.choices)])

    @property
    def answer_index(self) -> int:
        """The 0-based index of the correct choice."""
        return LETTERS.index(self.answer)
