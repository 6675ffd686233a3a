import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calibench import metrics


def expected_over_tie_orders(p, y, fn):
    """Average of fn over every order of the items that sorts confidence descending."""
    p, y = np.asarray(p), np.asarray(y, dtype=float)
    values = []
    for perm in itertools.permutations(range(p.size)):
        perm = list(perm)
        if np.all(np.diff(p[perm]) <= 0):
            values.append(fn(y[perm]))
    return np.mean(values)


def aurc_of_order(y_sorted):
    return np.mean(np.cumsum(1 - y_sorted) / np.arange(1, y_sorted.size + 1))


@pytest.mark.parametrize(
    ("p", "y"),
    [
        ([0.9, 0.9, 0.9, 0.5, 0.5, 0.7, 1.0], [1, 0, 1, 0, 1, 1, 0]),
        ([0.8, 0.8, 0.8, 0.8], [1, 0, 0, 1]),
        ([0.1, 0.2, 0.3, 0.4, 0.5], [0, 0, 1, 1, 1]),
    ],
)
def test_aurc_is_the_expectation_over_tie_orders(p, y):
    assert metrics.aurc(p, y) == pytest.approx(expected_over_tie_orders(p, y, aurc_of_order), abs=1e-12)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 6])
def test_accuracy_at_coverage_is_the_expectation_over_tie_orders(k):
    p = [0.9, 0.9, 0.9, 0.5, 0.5, 0.7]
    y = [1, 0, 1, 0, 1, 1]
    expected = expected_over_tie_orders(p, y, lambda ys: ys[:k].mean())
    assert metrics.accuracy_at_coverage(p, y, coverage=k / 6) == pytest.approx(expected, abs=1e-12)


def test_auroc_extremes_and_ties():
    assert metrics.auroc([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0]) == 1.0
    assert metrics.auroc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]) == 0.0
    assert metrics.auroc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]) == 0.5
    assert np.isnan(metrics.auroc([0.5, 0.7], [1, 1]))


def test_aurc_perfect_ranking_is_the_minimum():
    y = np.array([1] * 7 + [0] * 3, dtype=float)
    best = metrics.aurc(np.linspace(1, 0.1, 10), y)
    worst = metrics.aurc(np.linspace(0.1, 1, 10), y)
    assert best < metrics.aurc(np.full(10, 0.5), y) < worst
    assert metrics.aurc(np.full(10, 0.5), y) == pytest.approx(0.3, abs=1e-12)  # uninformative: the error rate


@given(st.lists(st.tuples(st.integers(0, 20), st.booleans()), min_size=2, max_size=50), st.randoms(use_true_random=False))
@settings(max_examples=150, deadline=None)
def test_selective_metrics_ignore_input_order(data, rnd):
    p = np.array([c / 20 for c, _ in data])
    y = np.array([float(b) for _, b in data])
    order = list(range(p.size))
    rnd.shuffle(order)
    for fn in (metrics.aurc, metrics.accuracy_at_coverage):
        assert fn(p, y) == pytest.approx(fn(p[order], y[order]), abs=1e-12)
    a, b = metrics.auroc(p, y), metrics.auroc(p[order], y[order])
    assert (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b, abs=1e-12)
    assert 0 <= metrics.aurc(p, y) <= 1


def test_selective_metrics_of_weight_rows_equal_their_definitions_on_each_resample():
    from calibench.metrics.selective import accuracy_at_coverage_w, aurc_w, auroc_w

    rng = np.random.default_rng(9)
    n = 200
    p = np.sort(rng.uniform(size=n))  # continuous: a resample's ties repeat one item, so their order is moot
    y = (rng.uniform(size=n) < p).astype(float)
    w = rng.multinomial(n, np.full(n, 1 / n), size=20).astype(float)
    got_auroc, got_aurc, got_half = auroc_w(p, y, w), aurc_w(p, y, w), accuracy_at_coverage_w(p, y, w, coverage=0.45)
    for r, row in enumerate(w.astype(int)):
        ip, iy = np.repeat(p, row), np.repeat(y, row)
        pos, neg = ip[iy == 1], ip[iy == 0]
        wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
        assert got_auroc[r] == pytest.approx(wins / (pos.size * neg.size), abs=1e-12)
        ys = iy[np.argsort(-ip, kind="stable")]
        assert got_aurc[r] == pytest.approx(aurc_of_order(ys), abs=1e-12)
        k = 0.45 * n
        right = ys[: int(k)].sum() + (k - int(k)) * ys[int(k)]
        assert got_half[r] == pytest.approx(right / k, abs=1e-12)
