"""The named scalar metrics that the bootstrap, the noise floor and the panel evaluate.

Each entry maps a name to its weighted form ``fn(p, y, w) -> (R,)`` (see
:mod:`calibench.metrics._inputs`), with its options bound.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from calibench.errors import CalibenchError
from calibench.metrics.calibration_error import ece_debiased_l1_w, ece_debiased_w, ece_sweep_w, ece_w
from calibench.metrics.scores import brier_decomposition_w, brier_w, nll_w
from calibench.metrics.selective import accuracy_at_coverage_w, aurc_w, auroc_w
from calibench.metrics.smooth import smece_w
from calibench.metrics.summary import accuracy_w, mean_confidence_w, overconfidence_gap_w

WeightedMetric = Callable[[np.ndarray, np.ndarray, "np.ndarray | None"], np.ndarray]


def _first(fn):
    return lambda p, y, w: fn(p, y, w)[0]


def _brier_part(part: str, *, n_bins: int):
    return lambda p, y, w: brier_decomposition_w(p, y, w, n_bins=n_bins, strategy="uniform")[part]


def weighted_metrics(*, n_bins: int = 10, coverage: float = 0.5) -> dict[str, WeightedMetric]:
    """Every scalar metric of the panel, by name, in the panel's order."""
    return {
        "accuracy": accuracy_w,
        "mean_confidence": mean_confidence_w,
        "overconfidence_gap": overconfidence_gap_w,
        "ece": partial(ece_w, n_bins=n_bins, strategy="uniform", norm="l1"),
        "ece_debiased_l1": partial(ece_debiased_l1_w, n_bins=n_bins),
        "ece_quantile": partial(ece_w, n_bins=n_bins, strategy="quantile", norm="l1"),
        "ece_distinct": partial(ece_w, n_bins=n_bins, strategy="distinct", norm="l1"),
        "rms_calibration_error": partial(ece_w, n_bins=n_bins, strategy="uniform", norm="l2"),
        "mce": partial(ece_w, n_bins=n_bins, strategy="uniform", norm="max"),
        "ece_sweep": _first(ece_sweep_w),
        "ece_debiased_l2": partial(ece_debiased_w, n_bins=n_bins, strategy="quantile"),
        "smece": _first(smece_w),
        "brier": brier_w,
        "brier_reliability": _brier_part("reliability", n_bins=n_bins),
        "brier_resolution": _brier_part("resolution", n_bins=n_bins),
        "brier_uncertainty": _brier_part("uncertainty", n_bins=n_bins),
        "brier_within_bin": _brier_part("within_bin", n_bins=n_bins),
        "nll": nll_w,
        "auroc": auroc_w,
        "aurc": aurc_w,
        "accuracy_at_coverage": partial(accuracy_at_coverage_w, coverage=coverage),
    }


def resolve(metric: str | WeightedMetric, **options) -> WeightedMetric:
    """A metric by name (see :func:`weighted_metrics`) or a weighted function given directly."""
    if callable(metric):
        return metric
    table = weighted_metrics(**options)
    if metric not in table:
        raise CalibenchError(f"unknown metric {metric!r}; known: {', '.join(table)}")
    return table[metric]
