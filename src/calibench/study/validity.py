"""What a protocol does to the answers it measures, from items alone.

- :func:`validity`: a protocol that fixes its own letter (``verbalized``, ``verbalized-json``)
  against the answer read on the same (question, option order, repetition): letter
  agreement, both accuracies, and the exact McNemar test of their difference (two-sided
  binomial test on the discordant pairs). A protocol whose accuracy differs from the answer
  read's with p < ``DISTORTING_P`` is marked distorting.
- :func:`positions`: the distribution of the answer positions (letters as shown) against
  the gold positions of the same items, and their total-variation distance: a position bias.
- :func:`confidence_values`: how stated values pile up (the most common value's share),
  to see a constraint or a habit pinning the number.
- :func:`permutation_summary`: with several option orders, accuracy and confidence per order,
  their means (position-debiased) and the share of questions answered alike in every order.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from pydantic import BaseModel, ConfigDict

from calibench.elicit.parser import PARSED
from calibench.metrics.paired import mcnemar

DISTORTING_P = 0.01


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Validity(_Model):
    """The protocol's letters against the answer read's on the same items."""

    reference: str
    n: int  # items where both read a letter
    agreement: float | None
    accuracy: float | None
    reference_accuracy: float | None
    accuracy_difference: float | None
    right_only_here: int  # right under this protocol, wrong under the answer read
    right_only_reference: int
    mcnemar_p: float | None
    distorting: bool


class Positions(_Model):
    """Answer positions (letters as shown) against the gold positions of the same items."""

    n: int
    answers: dict[str, float]
    gold: dict[str, float]
    tv_distance: float | None


class ConfidenceValues(_Model):
    n: int
    distinct: int
    most_common: float | None
    most_common_share: float | None
    top: list[tuple[float, int]]


class PermutationRow(_Model):
    rotation: int
    n: int
    accuracy: float | None
    mean_confidence: float | None


class Permutations(_Model):
    orders: int
    n_questions: int
    per_order: list[PermutationRow]
    debiased_accuracy: float | None
    debiased_mean_confidence: float | None
    agreement: float | None  # share of questions with the same letter (original labelling) in every order


def cell(item: dict) -> tuple:
    """The answer an item is one of: (question, repetition, option order)."""
    return item["question_id"], item["repetition"], item.get("rotation", 0)


def validity(items: list[dict], reference_items: list[dict], reference: str) -> Validity | None:
    """The protocol's ``items`` against ``reference_items`` (the answer read's letters); None if none pair."""
    ref = {cell(i): i for i in reference_items if i["letter"] is not None}
    pairs = [(i, ref[cell(i)]) for i in items if i["letter"] is not None and cell(i) in ref]
    if not pairs:
        return None
    test = mcnemar([bool(a["correct"]) for a, _ in pairs], [bool(b["correct"]) for _, b in pairs])
    return Validity(
        reference=reference,
        n=len(pairs),
        agreement=float(np.mean([a["letter"] == r["letter"] for a, r in pairs])),
        accuracy=test.accuracy_a,
        reference_accuracy=test.accuracy_b,
        accuracy_difference=test.accuracy_a - test.accuracy_b,
        right_only_here=test.a_only,
        right_only_reference=test.b_only,
        mcnemar_p=test.p_value,
        distorting=test.p_value < DISTORTING_P,
    )


def positions(items: list[dict], letters: list[str]) -> Positions | None:
    """Where the answers fall, as shown, against where the gold answers of the same items fall."""
    read = [i for i in items if i.get("shown_letter") is not None]
    if not read:
        return None
    answers, gold = Counter(i["shown_letter"] for i in read), Counter(i["shown_answer"] for i in read)
    n = len(read)
    a = {k: answers.get(k, 0) / n for k in letters}
    g = {k: gold.get(k, 0) / n for k in letters}
    return Positions(n=n, answers=a, gold=g, tv_distance=0.5 * sum(abs(a[k] - g[k]) for k in letters))


def confidence_values(items: list[dict]) -> ConfidenceValues | None:
    """The stated values' distribution; None for no values or continuous ones (more distinct
    values than half the answers: letter probabilities, P(True)), where no value piles up."""
    values = [round(float(i["confidence"]), 6) for i in items if i["status"] in PARSED]
    counts = Counter(values).most_common()
    if not values or len(counts) > len(values) / 2:
        return None
    return ConfidenceValues(n=len(values), distinct=len(counts), most_common=counts[0][0],
                            most_common_share=counts[0][1] / len(values), top=[(v, c) for v, c in counts[:5]])


def permutation_summary(items: list[dict]) -> Permutations | None:
    orders = sorted({i.get("rotation", 0) for i in items})
    if len(orders) < 2:
        return None
    rows = []
    for r in orders:
        chosen = [i for i in items if i.get("rotation", 0) == r and i["status"] in PARSED]
        rows.append(PermutationRow(rotation=r, n=len(chosen),
                                   accuracy=float(np.mean([bool(i["correct"]) for i in chosen])) if chosen else None,
                                   mean_confidence=float(np.mean([i["confidence"] for i in chosen])) if chosen else None))
    letters: dict[tuple, dict[int, str | None]] = {}
    for i in items:
        letters.setdefault((i["question_id"], i["repetition"]), {})[i.get("rotation", 0)] = i["letter"]
    complete = [v for v in letters.values() if len(v) == len(orders) and all(x is not None for x in v.values())]
    acc = [r.accuracy for r in rows if r.accuracy is not None]
    conf = [r.mean_confidence for r in rows if r.mean_confidence is not None]
    return Permutations(
        orders=len(orders),
        n_questions=len({q for q, _ in letters}),
        per_order=rows,
        debiased_accuracy=float(np.mean(acc)) if acc else None,
        debiased_mean_confidence=float(np.mean(conf)) if conf else None,
        agreement=float(np.mean([len(set(v.values())) == 1 for v in complete])) if complete else None,
    )
