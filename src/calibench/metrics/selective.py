"""Discrimination and selective prediction: does higher confidence mean more often right?

Ties in confidence are common in stated confidences (many answers at 90% or 100%), so each
metric here is defined as its expectation over a random order within tied confidences:
AUROC counts a tied (right, wrong) pair as one half, and the risk-coverage curve is
interpolated linearly through each tied group.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma

from calibench.errors import CalibenchError
from calibench.metrics._inputs import binned_sums, check_inputs, distinct_levels, rowwise_searchsorted, sort_items


def _groups_descending(p, y, w):
    """Per distinct confidence, most confident first: item counts and error counts, each (R, V)."""
    p, y = sort_items(p, y, w)
    level = distinct_levels(p)
    cnt, correct = binned_sums(w, level, int(level[-1]) + 1, y)
    return cnt[:, ::-1], (cnt - correct)[:, ::-1]


def auroc_w(p, y, w) -> np.ndarray:
    p, y = sort_items(p, y, w)
    level = distinct_levels(p)
    cnt, pos = binned_sums(w, level, int(level[-1]) + 1, y)
    neg = cnt - pos
    below = np.cumsum(neg, axis=1) - neg
    n_pos, n_neg = pos.sum(axis=1), neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * (below + 0.5 * neg)).sum(axis=1) / (n_pos * n_neg)


def auroc(p, y) -> float:
    """Area under the ROC curve of confidence as a predictor of being right.

    The probability that a random right answer got a higher confidence than a random wrong
    one, ties counting one half (as scikit-learn's ``roc_auc_score``). 0.5 means confidence
    carries no information about correctness. NaN when every answer is right or every one wrong.
    """
    p, y = check_inputs(p, y)
    return float(auroc_w(p, y, None)[0])


def _harmonic(x: np.ndarray) -> np.ndarray:
    return digamma(x + 1) + np.euler_gamma


def aurc_w(p, y, w) -> np.ndarray:
    m, e = _groups_descending(p, y, w)
    before = np.cumsum(m, axis=1) - m
    err_before = np.cumsum(e, axis=1) - e
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(m > 0, e / np.where(m > 0, m, 1), 0.0)
    # sum over k in (N0, N0 + m] of (E0 + (k - N0) r) / k, in closed form
    part = (err_before - before * rate) * (_harmonic(before + m) - _harmonic(before)) + rate * m
    return part.sum(axis=1) / m.sum(axis=1)


def aurc(p, y) -> float:
    """Area under the risk-coverage curve (Geifman and El-Yaniv 2017); lower is better.

    Answer the k most confident questions and abstain on the rest; the risk at coverage k/n
    is the error rate among those k. AURC is the mean risk over k = 1..n, with ties in
    confidence broken at random (in expectation). A model whose confidence ranks its
    answers perfectly gets the minimum possible for its accuracy; an uninformative one gets
    about its error rate.
    """
    p, y = check_inputs(p, y)
    return float(aurc_w(p, y, None)[0])


def accuracy_at_coverage_w(p, y, w, *, coverage: float = 0.5) -> np.ndarray:
    m, e = _groups_descending(p, y, w)
    cum_m, cum_e = np.cumsum(m, axis=1), np.cumsum(e, axis=1)
    k = coverage * cum_m[:, -1:]
    g = np.minimum(rowwise_searchsorted(cum_m, k, side="left"), m.shape[1] - 1)
    rows = np.arange(m.shape[0])[:, None]
    m_g, e_g = m[rows, g], e[rows, g]
    start, err_start = cum_m[rows, g] - m_g, cum_e[rows, g] - e_g
    with np.errstate(invalid="ignore", divide="ignore"):
        errors = err_start + (k - start) * e_g / m_g
    return (1 - errors / k)[:, 0]


def accuracy_at_coverage(p, y, *, coverage: float = 0.5) -> float:
    """Accuracy on the ``coverage`` share of questions answered with the highest confidence.

    Ties at the cut are taken in expectation (the tied group's accuracy, pro rata), so the
    result does not depend on the order of the input.
    """
    if not 0 < coverage <= 1:
        raise CalibenchError(f"coverage must lie in (0, 1], got {coverage!r}")
    p, y = check_inputs(p, y)
    return float(accuracy_at_coverage_w(p, y, None, coverage=coverage)[0])
