"""Paired comparisons for results.json: model against model within each protocol, and protocol
against protocol within each model, each on the answers both parsed (complete-case).

Per pair: the exact McNemar test of the accuracy difference, and the paired bootstrap of the
differences in the headline ECE (bin-debiased), the Brier score and AUROC. Every p-value of a
study forms one family, corrected with Holm's method: a claim the report makes from a
comparison needs its Holm-adjusted p-value below ``ALPHA``. Pairs with fewer than ``MIN_N``
shared answers are not compared: the report makes no claim from them.
"""

from __future__ import annotations

from itertools import combinations
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from calibench import metrics
from calibench.elicit.parser import PARSED
from calibench.study.validity import cell

MIN_N = 30  # fewer answers than this never enter a headline, a trend or a "best" claim
ALPHA = 0.05
TESTED = ("ece_debiased_l1", "brier", "auroc")
PAIRED_BOOTSTRAP = "paired bootstrap: percentile interval, p from its standard error"


class PairedTest(BaseModel):
    """One metric's difference b - a on the paired answers, its interval and p-values."""

    model_config = ConfigDict(extra="forbid")

    metric: str
    a: float | None
    b: float | None
    difference: float | None
    low: float | None
    high: float | None
    p_value: float | None
    p_holm: float | None = None
    method: str


class Comparison(BaseModel):
    """Two rows of the table compared on the same answers: two models (``kind="models"``, within
    one protocol) or two protocols (``kind="protocols"``, within one model)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["models", "protocols"]
    within: str
    a: str
    b: str
    policy: Literal["complete_case"] = "complete_case"
    n: int
    tests: list[PairedTest]

    def test(self, metric: str) -> PairedTest | None:
        return next((t for t in self.tests if t.metric == metric), None)


class Difference(BaseModel):
    """One metric's paired difference read in a chosen direction, b - a (see :func:`difference`)."""

    n: int
    value: float | None
    low: float | None
    high: float | None
    p_value: float | None
    p_holm: float | None


def difference(found: list[Comparison], *, kind: str, within: str, a: str, b: str, metric: str) -> Difference | None:
    """``metric``'s paired difference b - a between rows ``a`` and ``b`` (two models within a
    protocol, or two protocols within a model), whichever order the comparison was stored in;
    None when they were not compared."""
    c = next((c for c in found if c.kind == kind and c.within == within and {c.a, c.b} == {a, b}), None)
    test = c.test(metric) if c else None
    if test is None:
        return None
    sign = 1 if c.a == a else -1  # stored as b - a in the comparison's own order
    flip = lambda x: None if x is None else sign * x  # noqa: E731
    low, high = flip(test.low), flip(test.high)
    if low is not None and high is not None:
        low, high = min(low, high), max(low, high)
    return Difference(n=c.n, value=flip(test.difference), low=low, high=high, p_value=test.p_value, p_holm=test.p_holm)


def finite(x) -> float | None:
    """A number as stored in results.json: None for a missing or undefined (NaN, infinite) value."""
    return None if x is None or not np.isfinite(x) else float(x)


def _paired(a: list[dict], b: list[dict]) -> tuple[list[dict], list[dict]]:
    """The parsed answers of a and b to the same (question, repetition, option order), in one order."""
    there = {cell(i): i for i in b if i["status"] in PARSED}
    pairs = [(i, there[cell(i)]) for i in a if i["status"] in PARSED and cell(i) in there]
    return [x for x, _ in pairs], [y for _, y in pairs]


def compare(kind: str, within: str, a: str, b: str, items_a: list[dict], items_b: list[dict], cfg) -> Comparison | None:
    """One comparison (unadjusted p-values), or None when fewer than ``MIN_N`` answers pair up."""
    first, second = _paired(items_a, items_b)
    if len(first) < MIN_N:
        return None
    p_a = np.array([i["confidence"] for i in first])
    y_a = np.array([float(i["correct"]) for i in first])
    p_b = np.array([i["confidence"] for i in second])
    y_b = np.array([float(i["correct"]) for i in second])
    questions = [i["question_id"] for i in first]
    groups = questions if len(set(questions)) < len(questions) else None  # several answers per question
    acc = metrics.mcnemar(y_a.astype(bool), y_b.astype(bool))
    tests = [PairedTest(metric="accuracy", a=acc.accuracy_a, b=acc.accuracy_b, difference=acc.accuracy_b - acc.accuracy_a,
                        low=None, high=None, p_value=acc.p_value,
                        method=f"exact McNemar ({acc.a_only} right only for a, {acc.b_only} only for b)")]
    for name in TESTED:
        d = metrics.paired_difference(p_b, y_b, p_a, y_a, name, n_boot=cfg.n_boot, seed=cfg.seed, n_bins=cfg.n_bins, groups=groups)
        tests.append(PairedTest(metric=name, a=finite(d.b), b=finite(d.a), difference=finite(d.difference.value),
                                low=finite(d.difference.low), high=finite(d.difference.high), p_value=finite(d.p_value),
                                method=PAIRED_BOOTSTRAP + (", clustered by question" if groups else "")))
    return Comparison(kind=kind, within=within, a=a, b=b, n=len(first), tests=tests)


def comparisons(items_by_model: dict[str, list[dict]], protocols: list[str], cfg, order: list[str] | None = None) -> list[Comparison]:
    """Every model pair within each protocol and every protocol pair within each model, with
    Holm-adjusted p-values over all of them. ``order`` lists the models as a and b are taken
    (smaller model first, so differences read "larger minus smaller")."""
    names = order or list(items_by_model)
    out = []
    for protocol in protocols:
        for a, b in combinations(names, 2):
            chosen = [[i for i in items_by_model[m] if i["protocol"] == protocol] for m in (a, b)]
            out.append(compare("models", protocol, a, b, *chosen, cfg))
    for model in names:
        for a, b in combinations(protocols, 2):
            chosen = [[i for i in items_by_model[model] if i["protocol"] == p] for p in (a, b)]
            out.append(compare("protocols", model, a, b, *chosen, cfg))
    out = [c for c in out if c is not None]
    tests = [t for c in out for t in c.tests]
    for test, adjusted in zip(tests, metrics.holm([np.nan if t.p_value is None else t.p_value for t in tests])):
        test.p_holm = finite(adjusted)
    return out
