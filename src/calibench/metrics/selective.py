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
from calibench.metrics._inputs import RunningCounts, binned_sums, check_inputs, distinct_levels, sort_items


def _per_level(p, y, w, *, wrong: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per distinct confidence, least confident first: items and right (or wrong) answers, each (R, V)."""
    p, y = sort_items(p, y, w)
    level = distinct_levels(p)
    cnt, hits = binned_sums(w, level, int(level[-1]) + 1, 1 - y if wrong else y)
    return cnt, hits


def auroc_w(p, y, w) -> np.ndarray:
    cnt, pos = _per_level(p, y, w, wrong=False)
    neg = cnt - pos
    # each right answer beats the wrong ones below its level and half of those at it:
    # sum_l pos_l (negatives up to and including l - neg_l / 2)
    wins = np.einsum("ij,ij->i", pos, RunningCounts(neg).inclusive() - 0.5 * neg)
    with np.errstate(invalid="ignore", divide="ignore"):
        return wins / (pos.sum(axis=1) * neg.sum(axis=1))


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
    m, e = _per_level(p, y, w, wrong=True)
    counts, errors = RunningCounts(m), RunningCounts(e)
    n = counts.total
    # per level, least confident first: the items and errors above it, and the items at or above it
    above = counts.offset[1:, None] - counts.flat[1:].reshape(m.shape)
    at_or_above = counts.offset[1:, None] - counts.flat[:-1].reshape(m.shape)
    errors_above = errors.offset[1:, None] - errors.flat[1:].reshape(m.shape)
    rate = np.divide(e, m, out=np.zeros_like(e), where=m > 0)
    h = _harmonic(np.arange(int(n.max()) + 1))  # counts are whole numbers: H from a table
    # sum over k in (a, a + m] of (E_a + (k - a) r) / k, in closed form
    part = np.einsum("ij,ij->i", errors_above - above * rate, h[at_or_above] - h[above])
    with np.errstate(invalid="ignore", divide="ignore"):
        return (part + e.sum(axis=1)) / n


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
    m, e = _per_level(p, y, w, wrong=True)
    counts, errors = RunningCounts(m), RunningCounts(e)
    n = counts.total[:, None]
    k = coverage * n
    rows = np.arange(m.shape[0])
    # the cut lies in the level holding item n - k (counting up from the least confident):
    # every level above it is answered, and that one pro rata
    g = np.minimum(counts.holding(rows, np.floor(n - k).astype(np.int64)), m.shape[1] - 1)
    start = n - counts.before(rows, g + 1)
    err_start = errors.total[:, None] - errors.before(rows, g + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        wrong = err_start + (k - start) * e[rows[:, None], g] / m[rows[:, None], g]
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
