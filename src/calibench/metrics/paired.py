"""Paired comparisons on the same questions: two models, or two protocols of one model.

- :func:`paired_difference`: metric(a) - metric(b) with a paired bootstrap interval (the same
  questions resampled for both, which keeps their correlation: much narrower than comparing
  two separate intervals) and the two-sided p-value of "no difference" from the bootstrap
  standard error.
- :func:`mcnemar`: the exact McNemar test of an accuracy difference (a binomial test on the
  questions exactly one of the two got right).
- :func:`holm`: Holm's step-down correction of a family of p-values, which keeps the chance
  of any false claim in the family below alpha.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import binomtest, norm

from calibench.errors import CalibenchError
from calibench.metrics._inputs import check_inputs
from calibench.metrics.bootstrap import Estimate, _check_options, _Design, _estimate, _resamples, evaluate
from calibench.metrics.registry import WeightedMetric, resolve


@dataclass(frozen=True)
class PairedDifference:
    """metric(a) - metric(b) on the same questions, its paired bootstrap interval and p-value.

    ``p_value`` is two-sided, from the bootstrap standard error: 2 Phi(-|difference| / sd of
    the resampled differences). A count of resamples beyond 0 cannot go below 1 / n_boot,
    which Holm's correction over a study's hundred-odd tests would turn into "not
    significant" for any difference; the standard error resolves small p-values.
    """

    metric: str
    a: float
    b: float
    difference: Estimate
    p_value: float

    def to_dict(self) -> dict:
        out = asdict(self)
        out["difference"] = self.difference.to_dict()
        return out


def paired_difference(
    p_a,
    y_a,
    p_b,
    y_b,
    metric: str | WeightedMetric = "ece",
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    method: str = "percentile",
    groups=None,
    **metric_options,
) -> PairedDifference:
    """metric(a) - metric(b) where item i of a and item i of b are the same question.

    Each resample draws the questions once for both; ``groups`` resamples whole groups.
    ``metric`` names a panel metric or is a weighted function (as :func:`calibench.metrics.bootstrap_ci`).
    """
    _check_options(n_boot, level, method)
    p_a, y_a = check_inputs(p_a, y_a)
    p_b, y_b = check_inputs(p_b, y_b)
    if p_a.size != p_b.size:
        raise CalibenchError(f"paired samples differ in length ({p_a.size} vs {p_b.size}); pair them on the same questions")
    fn = resolve(metric, **metric_options)
    design = _Design([p_a, y_a, p_b, y_b], groups)
    pa, ya, pb, yb = design.atoms
    weights, jack = _resamples(design, n_boot, seed, method)

    def difference(w: np.ndarray) -> np.ndarray:
        return evaluate(fn, pa, ya, w) - evaluate(fn, pb, yb, w)

    boot = difference(weights)
    estimate = _estimate(difference, boot, design, jack, level, method)
    boot = boot[~np.isnan(boot)]
    sd = float(boot.std(ddof=1)) if boot.size > 1 else float("nan")
    if np.isnan(sd) or np.isnan(estimate.value):
        p_value = float("nan")
    elif sd == 0:  # every resample gives the same difference
        p_value = 1.0 if estimate.value == 0 else 0.0
    else:
        p_value = float(2 * norm.sf(abs(estimate.value) / sd))
    counts = design.counts[None, :]
    name = metric if isinstance(metric, str) else "metric"
    return PairedDifference(name, float(evaluate(fn, pa, ya, counts)[0]), float(evaluate(fn, pb, yb, counts)[0]), estimate, p_value)


def paired_bootstrap(p_a, y_a, p_b, y_b, metric: str | WeightedMetric = "ece", **options) -> Estimate:
    """The interval of metric(a) - metric(b) alone (see :func:`paired_difference`)."""
    return paired_difference(p_a, y_a, p_b, y_b, metric, **options).difference


@dataclass(frozen=True)
class McNemar:
    """Exact McNemar test: of ``n`` paired questions, ``a_only`` right only for a, ``b_only`` only for b."""

    n: int
    accuracy_a: float
    accuracy_b: float
    a_only: int
    b_only: int
    p_value: float

    def to_dict(self) -> dict:
        return asdict(self)


def mcnemar(right_a, right_b) -> McNemar:
    """Exact (binomial) McNemar test of equal accuracy for paired correct/incorrect outcomes.

    Under the null the discordant questions split evenly, so ``min(a_only, b_only)`` is
    Binomial(a_only + b_only, 1/2); the p-value is two-sided, 1 when none are discordant.
    """
    a = np.asarray(right_a, dtype=bool)
    b = np.asarray(right_b, dtype=bool)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise CalibenchError(f"McNemar needs two equal, non-empty 1-D outcome arrays, got shapes {a.shape} and {b.shape}")
    a_only, b_only = int(np.sum(a & ~b)), int(np.sum(~a & b))
    p = float(binomtest(min(a_only, b_only), a_only + b_only, 0.5).pvalue) if a_only + b_only else 1.0
    return McNemar(int(a.size), float(a.mean()), float(b.mean()), a_only, b_only, p)


def holm(p_values) -> np.ndarray:
    """Holm-adjusted p-values: sorted ascending, the k-th of m is multiplied by (m - k + 1), made
    non-decreasing and capped at 1. Reject at alpha where the adjusted value is below alpha.
    NaN entries stay NaN and do not count in m."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    if ok.size == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    m = order.size
    adjusted = np.maximum.accumulate(p[order] * (m - np.arange(m)))
    out[order] = np.minimum(adjusted, 1.0)
    return out
