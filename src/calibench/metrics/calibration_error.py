"""Binned calibration-error estimators: ECE, RMS calibration error, MCE, ECE_sweep and debiased L2.

All of them compare, within each bin b of n_b items, the mean confidence conf_b with the
accuracy acc_b. With n items in all:

- L1 (ECE, Guo et al. 2017): sum_b (n_b / n) |conf_b - acc_b|;
- L2 (RMS calibration error): sqrt(sum_b (n_b / n) (conf_b - acc_b)^2);
- max (MCE): max over non-empty bins of |conf_b - acc_b|.

Bins follow :mod:`calibench.metrics.binning` ("uniform", "quantile" or "distinct").
"""

from __future__ import annotations

import numpy as np

from calibench.metrics._inputs import (
    binned_value_sums,
    check_choice,
    check_inputs,
    check_positive_int,
    level_bounds,
    item_and_right_counts,
    level_ends,
    segment_sums,
    sort_items,
)
from calibench.metrics.binning import STRATEGIES, assign_bins, bin_sums, binned, quantile_bounds

NORMS = ("l1", "l2", "max")


def _error_from_bins(cnt: np.ndarray, sp: np.ndarray, sy: np.ndarray, norm: str) -> np.ndarray:
    n = cnt.sum(axis=1)
    diff = sp - sy  # n_b (conf_b - acc_b)
    if norm == "l1":
        return np.abs(diff).sum(axis=1) / n
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.where(cnt > 0, diff / cnt, 0.0)
    if norm == "l2":
        return np.sqrt((diff * gap).sum(axis=1) / n)
    return np.abs(gap).max(axis=1)


def ece_w(p, y, w, *, n_bins: int = 10, strategy: str = "uniform", norm: str = "l1") -> np.ndarray:
    """Weighted form of :func:`ece` (see :mod:`calibench.metrics._inputs`)."""
    p, y = sort_items(p, y, w) if strategy != "uniform" else (p, y)
    if norm == "l1":  # sum_b |sum_{i in b} (p_i - y_i)| / n needs one sum per bin, not three
        if w is None:
            idx, slots = assign_bins(p, n_bins, strategy)  # first: its temporaries are freed before p - y
            (diff,) = binned_value_sums(idx, slots, p - y)
            return np.abs(diff).sum(axis=1) / p.size
        cnt, diff = bin_sums(p, w, n_bins, strategy, p - y)
        return np.abs(diff).sum(axis=1) / cnt.sum(axis=1)
    cnt, sp, sy = binned(p, y, w, n_bins=n_bins, strategy=strategy)
    return _error_from_bins(cnt, sp, sy, norm)


def ece(p, y, *, n_bins: int = 10, strategy: str = "uniform", norm: str = "l1") -> float:
    """Binned calibration error of confidences ``p`` against outcomes ``y``.

    Defaults give the reference study's ECE: 10 equal-width bins, left-closed, L1 norm.
    ``strategy="quantile"`` gives equal-mass bins (HELM's ECE-10 with ``n_bins=10``),
    ``strategy="distinct"`` one bin per distinct confidence (``n_bins`` is then ignored).
    ``norm="l2"`` is the RMS calibration error and ``norm="max"`` the MCE. Definitions and
    the exact bin rules are in the module docstrings.
    """
    check_choice("strategy", strategy, STRATEGIES)
    check_choice("norm", norm, NORMS)
    check_positive_int("n_bins", n_bins)
    p, y = check_inputs(p, y)
    return float(ece_w(p, y, None, n_bins=n_bins, strategy=strategy, norm=norm)[0])


def ece_debiased_w(p, y, w, *, n_bins: int = 10, strategy: str = "quantile") -> np.ndarray:
    """Weighted form of :func:`ece_debiased`."""
    p, y = sort_items(p, y, w) if strategy != "uniform" else (p, y)
    cnt, sp, sy = binned(p, y, w, n_bins=n_bins, strategy=strategy)
    n = cnt.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = (sp - sy) / cnt
        acc = sy / cnt
        per_bin = gap**2 - acc * (1 - acc) / (cnt - 1)
    per_bin = np.where(cnt >= 2, per_bin, 0.0)
    return np.sqrt(np.maximum((cnt / n * per_bin).sum(axis=1), 0.0))


def ece_debiased(p, y, *, n_bins: int = 10, strategy: str = "quantile") -> float:
    """Debiased L2 calibration error (Kumar, Liang and Ma 2019).

    The plug-in squared error of each bin, (conf_b - acc_b)^2, overstates the truth by the
    sampling variance of acc_b; this subtracts its unbiased estimate acc_b (1 - acc_b) /
    (n_b - 1), weights the bins by n_b / n, and returns the square root of the sum clipped
    at 0. Bins with fewer than 2 items contribute 0. Equal-mass bins by default, as Roelofs
    et al. (2022) recommend; identical to uncertainty-calibration's
    ``lower_bound_scaling_ce(p=2, debias=True, binning_scheme=get_equal_bins)``.
    """
    check_choice("strategy", strategy, STRATEGIES)
    check_positive_int("n_bins", n_bins)
    p, y = check_inputs(p, y)
    return float(ece_debiased_w(p, y, None, n_bins=n_bins, strategy=strategy)[0])


def ece_debiased_l1_w(p, y, w, *, n_bins: int = 10) -> np.ndarray:
    """Weighted form of :func:`ece_debiased_l1`."""
    cnt, sp, sy = binned(p, y, w, n_bins=n_bins, strategy="uniform")
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.where(cnt > 0, (sp - sy) / cnt, 0.0)
        acc = sy / cnt
        variance = np.where(cnt >= 2, acc * (1 - acc) / (cnt - 1), 0.0)
    return (cnt * np.sqrt(np.maximum(gap**2 - variance, 0.0))).sum(axis=1) / cnt.sum(axis=1)


def ece_debiased_l1(p, y, *, n_bins: int = 10) -> float:
    """Bin-debiased ECE, calibench's headline calibration error (see :mod:`calibench.metrics.ece_interval`).

    Over the plug-in ECE's bins (``n_bins`` equal-width, left-closed), with gap_b = conf_b -
    acc_b: sum_b (n_b / n) sqrt(max(gap_b^2 - acc_b (1 - acc_b) / (n_b - 1), 0)). The
    subtracted term is the unbiased estimate of the variance of acc_b, by which gap_b^2
    overstates the true squared gap (the per-bin correction of Kumar, Liang and Ma 2019,
    aggregated with the L1 ECE's weights); a bin of one item keeps |gap_b|.
    """
    check_positive_int("n_bins", n_bins)
    p, y = check_inputs(p, y)
    return float(ece_debiased_l1_w(p, y, None, n_bins=n_bins)[0])


def ece_sweep_w(p, y, w, *, norm: str = "l1", max_bins: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Weighted form of :func:`ece_sweep`; returns (error, chosen number of bins) per replicate.

    Each b of the sweep reads the bins' item and outcome counts off running counts (integers,
    so the monotonicity test is exact), at O(b log K) per replicate instead of a pass over
    the atoms; the confidence sums are taken once, at each replicate's chosen b.
    """
    p, y = sort_items(p, y, w)
    weights = np.ones((1, p.size)) if w is None else w
    rows = np.arange(weights.shape[0])
    ends = level_ends(p)
    items, right = item_and_right_counts(y, w)
    # each replicate sweeps up to its own item count and its own distinct confidences: the
    # sweep of a resample is the sweep of the items drawn into it, not of all of them
    per_level = np.diff(items.at(level_bounds(p)), axis=1)
    limit = np.minimum(items.total, np.count_nonzero(per_level, axis=1))
    if max_bins is not None:
        limit = np.minimum(limit, max_bins)
    best = [(rows, quantile_bounds(ends, items, 1, rows))]  # (replicates, bounds) at each b they passed
    alive = np.ones(rows.size, dtype=bool)
    for b in range(2, int(limit.max()) + 1):
        alive &= b <= limit
        live = np.flatnonzero(alive)
        if live.size == 0:
            break
        bounds = quantile_bounds(ends, items, b, live)
        cnt = items.per_bin(live, bounds)
        with np.errstate(invalid="ignore", divide="ignore"):
            acc = np.where(cnt > 0, right.per_bin(live, bounds) / cnt, np.nan)
        monotone = np.all((acc >= np.fmax.accumulate(acc, axis=1)) | np.isnan(acc), axis=1)
        alive[live[~monotone]] = False
        if monotone.any():
            best.append((live[monotone], bounds[monotone]))
    chosen = np.ones(rows.size, dtype=np.int64)
    for at, bounds in best:  # later b override earlier ones
        chosen[at] = bounds.shape[1] - 1
    final = np.full((rows.size, int(chosen.max()) + 1), p.size)  # bins past a row's b stay empty
    for at, bounds in best:
        final[at, : bounds.shape[1]] = bounds
    (sp,) = segment_sums(weights, final, p)
    cnt, sy = items.per_bin(rows, final), right.per_bin(rows, final)
    return _error_from_bins(cnt, sp, sy, norm), chosen


def ece_sweep(p, y, *, norm: str = "l1", max_bins: int | None = None) -> float:
    """ECE_sweep (Roelofs et al. 2022): equal-mass ECE at the largest monotone bin count.

    Sweeps b = 1, 2, ... equal-mass bins and stops before the first b whose bin accuracies,
    in order of confidence, are not non-decreasing (a bin's accuracy below the one before);
    returns the error at the last monotone b. Two choices differ from the authors' reference
    code (google-research ``caltrain/calibration_metrics.py``, ``em_monotonic_sweep``):

    - Bins. calibench uses its "quantile" bins, those of ``ece(strategy="quantile")``: the
      sorted items split into b runs of n // b or n // b + 1, the longer runs first
      (``np.array_split``), and a cut never splits tied confidences (the tie goes below it,
      so on tied data bins merge). The reference puts the item of rank i (0-based, after
      ``np.argsort``) in bin floor(i b / n), which spreads the longer runs out (n = 10, b = 4:
      3, 2, 3, 2 items against calibench's 3, 3, 2, 2) and splits tied confidences in
      whatever order the sort left them: on 5%-grid stated confidences identical values
      would land in different bins.
    - Range. calibench sweeps up to the number of distinct confidences (more bins add no
      resolution), which on continuous data is n, or ``max_bins``; the reference sweeps
      b = 2, ..., n - 1, so it never reaches one bin per item, where perfectly separated
      data take calibench.

    The stopping rule and the error at the chosen b (``norm``; the reference's class
    defaults to L2, calibench to L1) are the same.
    """
    check_choice("norm", norm, NORMS)
    if max_bins is not None:
        check_positive_int("max_bins", max_bins)
    p, y = check_inputs(p, y)
    return float(ece_sweep_w(p, y, None, norm=norm, max_bins=max_bins)[0][0])
