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
    RunningCounts,
    binned_sums,
    check_choice,
    check_inputs,
    check_positive_int,
    distinct_levels,
    level_ends,
    running_counts,
    segment_sums,
    sort_items,
)
from calibench.errors import CalibenchError

STRATEGIES = ("uniform", "quantile", "distinct")


def uniform_bin_index(p: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal-width bin of each confidence under the left-closed rule of the module docstring.

    Equals ``searchsorted(k / B, p, side="right") - 1`` (capped at B - 1) with the exact
    edges k / B, each the double nearest the rational, at under half its cost. The product
    p * B can round across an integer; p * B * (1 - 2^-48) cannot round up across one (the
    margin dwarfs rounding, 2^-53, and is far below the gap between edges), so its truncation
    is the exact bin or the one below, and one comparison with that bin's upper edge decides.
    """
    guess = np.multiply(p, n_bins * (1 - 2.0**-48)).astype(np.int64)
    upper = np.append(np.arange(1, n_bins) / n_bins, np.inf)  # 1.0 shares the top bin
    guess += p >= upper.take(guess)
    return guess


def assign_bins(p: np.ndarray, n_bins: int, strategy: str) -> tuple[np.ndarray, int]:
    """Bin index of each item (K,) and the number of bin slots.

    ``p`` must be sorted ascending for "quantile" and "distinct" (see ``sort_items``).
    """
    if strategy == "uniform":
        return uniform_bin_index(p, n_bins), n_bins
    if strategy == "distinct":
        level = distinct_levels(p)
        return level, int(level[-1]) + 1
    bounds = quantile_bounds(level_ends(p), RunningCounts(np.ones((1, p.size))), n_bins, np.zeros(1, dtype=np.int64))
    return np.repeat(np.arange(n_bins), np.diff(bounds[0])), n_bins


def quantile_bounds(ends: np.ndarray, counts: RunningCounts, n_bins: int, rows: np.ndarray) -> np.ndarray:
    """Equal-mass bins of replicates ``rows`` (L,) as atom bounds (L, n_bins + 1) (see ``segment_sums``).

    ``ends`` are the atoms' ``level_ends``, ``counts`` the running item counts. As
    uncertainty-calibration's cut between runs i-1 and i is the midpoint of the last value of
    run i-1 and the first of run i, the atoms above that cut are exactly those past the run
    of equal confidences that holds run i-1's last item, which integer ranks find.
    """
    k = ends.size
    n = counts.total[rows][:, None]
    nb = np.minimum(n_bins, n)
    size, extra = np.divmod(n, np.maximum(nb, 1))  # a row without items has every bin empty
    i = np.arange(1, n_bins)
    last = np.maximum(i * size + np.minimum(i, extra) - 1, 0)  # the last item of each run but the last
    bounds = np.empty((rows.size, n_bins + 1), dtype=np.int64)
    bounds[:, 0], bounds[:, -1] = 0, k
    bounds[:, 1:-1] = np.where(i < nb, ends[np.minimum(counts.holding(rows, last), k - 1)], k)
    return bounds


def bin_sums(p: np.ndarray, w, n_bins: int, strategy: str, *values: np.ndarray) -> list[np.ndarray]:
    """Per-replicate, per-bin sums of the weights and of each value, each (R, slots).

    ``p`` must be sorted ascending unless the bins are uniform and ``w`` is None.
    """
    if w is None or strategy != "quantile":
        idx, slots = assign_bins(p, n_bins, strategy)
        return binned_sums(w, idx, slots, *values)
    rows, items = np.arange(w.shape[0]), running_counts(w)
    bounds = quantile_bounds(level_ends(p), items, n_bins, rows)
    return [items.per_bin(rows, bounds).astype(np.float64), *segment_sums(w, bounds, *values)]


def binned(p: np.ndarray, y: np.ndarray, w, *, n_bins: int, strategy: str):
    """Per-replicate bin counts, confidence sums and outcome sums, each (R, slots)."""
    if w is None or strategy != "quantile":
        return bin_sums(p, w, n_bins, strategy, p, y)
    rows, items = np.arange(w.shape[0]), running_counts(w)
    bounds = quantile_bounds(level_ends(p), items, n_bins, rows)
    (sp,) = segment_sums(w, bounds, p)
    return items.per_bin(rows, bounds).astype(np.float64), sp, running_counts(w, y).per_bin(rows, bounds).astype(np.float64)


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
    idx, slots = assign_bins(p, n_bins, strategy)
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
