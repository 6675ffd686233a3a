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
from calibench.metrics._inputs import check_inputs, distinct_levels, item_and_right_counts, level_bounds, sort_items


def _tallies(p, y, w):
    """Running counts of items and of right answers at each distinct confidence, least confident first.

    Each is (R, V + 1): column l is the count before level l, plus the counts of the rows
    before (see :class:`RunningCounts`), so differences along a row count items, and the last
    column minus column l counts the items at level l or above.
    """
    p, y = sort_items(p, y, w)
    items, right = item_and_right_counts(y, w)
    bounds = level_bounds(p)
    return items.at(bounds), right.at(bounds)


def auroc_w(p, y, w) -> np.ndarray:
    items, right = _tallies(p, y, w)
    wrong = items - right
    pos, neg = np.diff(right, axis=1), np.diff(wrong, axis=1)
    # each right answer beats the wrong ones below its level and half of those at it: twice
    # the wins is sum_l pos_l (2 (wrong up to and including l) - neg_l), exact in integers
    twice = np.einsum("ij,ij->i", pos, 2 * (wrong[:, 1:] - wrong[:, :1]) - neg)
    n_pos, n_neg = right[:, -1] - right[:, 0], wrong[:, -1] - wrong[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        return twice / (2 * n_pos * n_neg)


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
    items, right = _tallies(p, y, w)
    wrong = items - right
    n = items[:, -1] - items[:, 0]
    # column l: the items (errors) at level l or above; column l + 1: those above it
    items_from = items[:, -1:] - items
    h = _harmonic(np.arange(int(n.max()) + 1))[items_from]  # counts are whole numbers: H from a table
    items_from = items_from.astype(np.float64)
    errors_from = (wrong[:, -1:] - wrong).astype(np.float64)
    above, errors_above = items_from[:, 1:], errors_from[:, 1:]
    rate = (errors_from[:, :-1] - errors_above) / np.maximum(items_from[:, :-1] - above, 1)  # 0 where a level is empty
    # sum over k in (a, a + m] of (E_a + (k - a) r) / k, in closed form
    part = np.einsum("ij,ij->i", errors_above - above * rate, h[:, :-1] - h[:, 1:])
    with np.errstate(invalid="ignore", divide="ignore"):
        return (part + wrong[:, -1] - wrong[:, 0]) / n


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
    p, y = sort_items(p, y, w)
    items, right = item_and_right_counts(y, w)
    level = distinct_levels(p)
    starts = level_bounds(p)
    rows = np.arange(items.total.size)
    n = items.total[:, None]
    k = coverage * n
    # the cut lies in the level holding item n - k, counting up from the least confident:
    # every level above it is answered, and that one pro rata (ties taken in expectation)
    g = level[np.minimum(items.holding(rows, np.floor(n - k).astype(np.int64)), p.size - 1)]
    lo, hi = starts[g], starts[g + 1]
    m_g = items.before(rows, hi) - items.before(rows, lo)
    e_g = m_g - (right.before(rows, hi) - right.before(rows, lo))
    start = n - items.before(rows, hi)
    err_start = start - (right.total[:, None] - right.before(rows, hi))
    with np.errstate(invalid="ignore", divide="ignore"):
        wrong = err_start + (k - start) * e_g / m_g
        return (1 - wrong / k)[:, 0]


def accuracy_at_coverage(p, y, *, coverage: float = 0.5) -> float:
    """Accuracy on the ``coverage`` share of questions answered with the highest confidence.

    Ties at the cut are taken in expectation (the tied group's accuracy, pro rata), so the
    result does not depend on the order of the input.
    """
    if not 0 < coverage <= 1:
        raise CalibenchError(f"coverage must lie in (0, 1], got {coverage!r}")
    p, y = check_inputs(p, y)
    return float(accuracy_at_coverage_w(p, y, None, coverage=coverage)[0])
