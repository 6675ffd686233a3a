"""Selective prediction as LM-Polygraph reports it: the risk-coverage curve and the
prediction-rejection ratio (PRR), each with bootstrap intervals.

Answer only the most confident share c of the questions (the coverage) and abstain on the
rest: the risk at c is the error rate among those answered (ties in confidence taken in
expectation, as in :mod:`calibench.metrics.selective`). The area under that curve over
c = 1/n, ..., 1 is the AURC; LM-Polygraph's prediction-rejection area is the same curve read
as accuracy against the share rejected, with ``max_rejection=1``, so that

    PRR = (AURC_random - AURC) / (AURC_random - AURC_oracle),

where the random order's risk is the error rate at every coverage and the oracle answers
every right answer first. PRR is 1 for a confidence that ranks every right answer above every
wrong one, 0 for one no better than chance, negative for one worse; NaN when all answers are
right or all wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from calibench.errors import CalibenchError
from calibench.metrics._inputs import check_inputs, check_positive_int, total, wsum
from calibench.metrics.bootstrap import Estimate, _check_options, bootstrap_many
from calibench.metrics.selective import _harmonic, accuracy_at_coverage_w, aurc_w


def prr_w(p, y, w) -> np.ndarray:
    """Weighted form of :func:`prr`."""
    n = total(w, p.size)
    right = wsum(w, y)
    errors = n - right
    random = errors / n
    # the oracle's risk at k answered is max(0, k - right) / k: summed over k, E - R (H(n) - H(R))
    oracle = (errors - right * (_harmonic(n) - _harmonic(right))) / n
    with np.errstate(invalid="ignore", divide="ignore"):
        return (random - aurc_w(p, y, w)) / (random - oracle)


def prr(p, y) -> float:
    """The prediction-rejection ratio of confidences ``p`` for outcomes ``y`` (module docstring)."""
    p, y = check_inputs(p, y)
    return float(prr_w(p, y, None)[0])


def _risk_at(p, y, w, *, coverage: float) -> np.ndarray:
    return 1 - accuracy_at_coverage_w(p, y, w, coverage=coverage)


@dataclass(frozen=True)
class RiskCoverage:
    """The risk-coverage curve at ``coverage`` points with pointwise intervals, and PRR."""

    coverage: list[float]
    risk: list[float]
    low: list[float]
    high: list[float]
    prr: Estimate
    level: float
    n_boot: int

    def to_dict(self) -> dict:
        return {**{k: getattr(self, k) for k in ("coverage", "risk", "low", "high", "level", "n_boot")}, "prr": self.prr.to_dict()}


def risk_coverage(p, y, *, points: int = 20, n_boot: int = 1000, seed: int = 0, level: float = 0.95, groups=None) -> RiskCoverage:
    """Risk at coverage 1/points, 2/points, ..., 1 and PRR, each with a percentile bootstrap
    interval at ``level`` from the same resamples (``groups``: resample whole groups)."""
    _check_options(n_boot, level, "percentile")
    check_positive_int("points", points)
    p, y = check_inputs(p, y)
    if p.size < 2:
        raise CalibenchError("a risk-coverage curve needs at least 2 answers")
    coverages = [k / points for k in range(1, points + 1)]
    table = {str(c): partial(_risk_at, coverage=c) for c in coverages}
    table["prr"] = prr_w
    found = bootstrap_many(table, p, y, n_boot=n_boot, seed=seed, level=level, method="percentile", groups=groups)
    curve = [found[str(c)] for c in coverages]
    return RiskCoverage(coverages, [e.value for e in curve], [e.low for e in curve], [e.high for e in curve], found["prr"], level, n_boot)
