"""Accuracy, mean confidence and the signed overconfidence gap."""

from __future__ import annotations

import numpy as np

from calibench.metrics._inputs import check_inputs, total, wsum


def accuracy_w(p, y, w) -> np.ndarray:
    return wsum(w, y) / total(w, y.size)


def mean_confidence_w(p, y, w) -> np.ndarray:
    return wsum(w, p) / total(w, p.size)


def overconfidence_gap_w(p, y, w) -> np.ndarray:
    return wsum(w, p - y) / total(w, p.size)


def accuracy(p, y) -> float:
    """The share of correct answers, mean(y)."""
    p, y = check_inputs(p, y)
    return float(accuracy_w(p, y, None)[0])


def mean_confidence(p, y) -> float:
    """The mean stated confidence, mean(p)."""
    p, y = check_inputs(p, y)
    return float(mean_confidence_w(p, y, None)[0])


def overconfidence_gap(p, y) -> float:
    """Mean confidence minus accuracy, signed: positive means overconfident.

    Its absolute value is the one-bin ECE (HELM's "ECE-1bin") and a lower bound of every
    binned L1 ECE.
    """
    p, y = check_inputs(p, y)
    return float(overconfidence_gap_w(p, y, None)[0])
