"""Bin rules and reliability bins.

Three rules assign confidences to bins:

- ``"uniform"`` (equal width): bin k is [k/B, (k+1)/B), left-closed, the last bin also
  holding 1.0. The edges are the doubles nearest k/B, and a confidence equal to an edge lands
  in the bin that edge opens. So 0.3, 0.6 and 0.7 open bins 3, 6 and 7 with B = 10, where
  netcal and relplot (digitizing against ``linspace`` edges, whose 0.3 is
  0.30000000000000004) put them one bin lower; scikit-learn 1.9's ``calibration_curve``
  (``np.searchsorted(edges, p)``, right-closed bins) puts every edge from 0.1 to 0.9 one
  bin lower (``tests/metrics/test_binning.py`` pins it); and 1.0 shares the top bin instead of getting
  one of its own (torchmetrics #3510). For stated percentages p = c/100 this is exactly the
  integer rule bin = floor(c * B / 100), capped at B - 1.
- ``"quantile"`` (equal mass), as in uncertainty-calibration (Kumar et al. 2019) and
  therefore HELM: sort the n confidences, split them into B runs of n//B or n//B + 1
  (``np.array_split``), and cut between runs; tied confidences always stay in one bin, so on
  heavily tied data some bins merge and fewer than B remain.
- ``"distinct"``: one bin per distinct confidence value, the natural binning when stated
  confidences sit on a grid (uncertainty-calibration's discrete binning).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from calibench.metrics._inputs import (
    binned_sums,
    check_choice,
    check_inputs,
    check_positive_int,
    distinct_levels,
    rowwise_searchsorted,
    sort_items,
)
from calibench.errors import CalibenchError

STRATEGIES = ("uniform", "quantile", "distinct")


def uniform_bin_index(p: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal-width bin of each confidence under the left-closed rule of the module docstring.

    The product p * B can round across an integer, so the truncated guess is checked
    against the exact edges k / B (each the double nearest the rational) on both sides;
    this equals ``searchsorted(k / B, p, side="right")`` and costs less than half as much.
    """
    x = np.multiply(p, n_bins)
    k = x.astype(np.int64)
    np.divide(k, n_bins, out=x)  # the guessed bin's lower edge
    below = np.less(p, x)
    k -= below
    np.add(k, 1.0, out=x)
    x /= n_bins  # the (corrected) bin's upper edge
    np.greater_equal(p, x, out=below)
    k += below
    np.minimum(k, n_bins - 1, out=k)  # 1.0 shares the top bin
    return k


def assign_bins(p: np.ndarray, w, n_bins: int, strategy: str) -> tuple[np.ndarray, int]:
    """Bin index of each atom, (K,) or per replicate (R, K), and the number of bin slots.

    ``p`` must be sorted ascending for "quantile" and "distinct" (see ``sort_items``).
    """
    if strategy == "uniform":
        return uniform_bin_index(p, n_bins), n_bins
    level = distinct_levels(p)
    if strategy == "distinct":
        return level, int(level[-1]) + 1
    return _quantile_bins(level, w, n_bins), n_bins


def _quantile_bins(level: np.ndarray, w, n_bins: int) -> np.ndarray:
    # Work in integer ranks, not float edges: uncertainty-calibration's cut between runs i-1
    # and i is the midpoint of the last value of run i-1 (level a) and the first of run i, and
    # a confidence lies above that cut exactly when its level exceeds a.
    weights = np.ones((1, level.size)) if w is None else w
    cum = np.cumsum(weights, axis=1)
    n = cum[:, -1]
    nb = np.minimum(n_bins, n)
    i = np.arange(1, n_bins)[None, :]
    starts = i * np.floor(n / nb)[:, None] + np.minimum(i, (n % nb)[:, None])
    atom_before_cut = rowwise_searchsorted(cum, starts - 1, side="right")
    cut_level = level[np.minimum(atom_before_cut, level.size - 1)].astype(np.float64)
    cut_level[i >= nb[:, None]] = level[-1] + 1  # rows with fewer items than bins
    queries = np.broadcast_to(level.astype(np.float64), weights.shape)
    idx = rowwise_searchsorted(cut_level, queries, side="left")
    return idx[0] if w is None else idx


def binned(p: np.ndarray, y: np.ndarray, w, *, n_bins: int, strategy: str):
    """Per-replicate bin counts, confidence sums and outcome sums, each (R, slots)."""
    idx, slots = assign_bins(p, w, n_bins, strategy)
    return binned_sums(w, idx, slots, p, y)


def wilson_interval(successes: np.ndarray, n: np.ndarray, *, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion; NaN where n is 0."""
    z = norm.ppf(0.5 + confidence / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        phat = successes / n
        denom = 1 + z**2 / n
        center = (phat + z**2 / (2 * n)) / denom
        half = z * np.sqrt(phat * (1 - phat) / n + z**2 / (4 * n**2)) / denom
    # at 0 or n successes the Wilson bound is exactly 0 or 1; rounding would leave 1e-17
    low = np.where(successes == 0, 0.0, np.clip(center - half, 0.0, 1.0))
    high = np.where(successes == n, 1.0, np.clip(center + half, 0.0, 1.0))
    return low, high


@dataclass(frozen=True)
class ReliabilityBins:
    """The non-empty bins of a reliability diagram, each with its count, mean confidence,
    accuracy, the Wilson interval of the accuracy, and the lowest and highest confidence it holds."""

    strategy: str
    n_bins: int
    count: np.ndarray
    mean_confidence: np.ndarray
    accuracy: np.ndarray
    accuracy_low: np.ndarray
    accuracy_high: np.ndarray
    confidence_min: np.ndarray
    confidence_max: np.ndarray
    interval: float

    def to_dict(self) -> dict:
        """A JSON-serialisable dict (arrays as lists)."""
        return {
            "strategy": self.strategy,
            "n_bins": self.n_bins,
            "interval": self.interval,
            **{
                k: getattr(self, k).tolist()
                for k in ("count", "mean_confidence", "accuracy", "accuracy_low", "accuracy_high", "confidence_min", "confidence_max")
            },
        }


def reliability_bins(p, y, *, n_bins: int = 10, strategy: str = "uniform", interval: float = 0.95) -> ReliabilityBins:
    """Reliability-diagram bins: per non-empty bin the count, mean confidence and accuracy.

    ``strategy`` is one of "uniform", "quantile" or "distinct" (see the module docstring for
    the exact rules). Each accuracy carries a Wilson score interval at level ``interval``,
    which stays sensible for small and pure bins where a bootstrap interval collapses.
    """
    check_choice("strategy", strategy, STRATEGIES)
    check_positive_int("n_bins", n_bins)
    if not 0 < interval < 1:
        raise CalibenchError(f"interval must lie in (0, 1), got {interval!r}")
    p, y = check_inputs(p, y)
    p, y = sort_items(p, y, None)
    idx, slots = assign_bins(p, None, n_bins, strategy)
    cnt, sp, sy = (a[0] for a in binned_sums(None, idx, slots, p, y))
    keep = cnt > 0
    lo = np.full(slots, np.inf)
    hi = np.full(slots, -np.inf)
    np.minimum.at(lo, idx, p)
    np.maximum.at(hi, idx, p)
    low, high = wilson_interval(sy[keep], cnt[keep], confidence=interval)
    return ReliabilityBins(
        strategy=strategy,
        n_bins=n_bins,
        count=cnt[keep].astype(np.int64),
        mean_confidence=sp[keep] / cnt[keep],
        accuracy=sy[keep] / cnt[keep],
        accuracy_low=low,
        accuracy_high=high,
        confidence_min=lo[keep],
        confidence_max=hi[keep],
        interval=interval,
    )
