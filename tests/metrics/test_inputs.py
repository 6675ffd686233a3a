import numpy as np
import pytest

from calibench import metrics
from calibench.errors import CalibenchError
from calibench.metrics._inputs import RunningCounts, distinct_levels, segment_sums
from calibench.metrics.bootstrap import _Design

FUNCTIONS = [
    metrics.ece,
    metrics.ece_debiased,
    metrics.ece_sweep,
    metrics.smece,
    metrics.brier,
    metrics.nll,
    metrics.auroc,
    metrics.aurc,
    metrics.accuracy,
    metrics.mean_confidence,
    metrics.overconfidence_gap,
    metrics.reliability_bins,
    metrics.brier_decomposition,
    metrics.accuracy_at_coverage,
    metrics.panel,
    metrics.bootstrap_ci,
]


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("p", "y", "message"),
    [
        ([0.5, float("nan")], [1, 0], r"not finite numbers \(first: nan at index 1\)"),
        ([0.5, 1.5], [1, 0], r"outside \[0, 1\] \(first: 1.5 at index 1\)"),
        ([-0.1, 0.5], [1, 0], r"outside \[0, 1\]"),
        ([0.5, 0.6], [1, 0, 1], r"differ in length \(2 vs 3\)"),
        ([], [], r"empty input"),
        ([0.5, 0.6], [1, 2], r"y must hold only 0 and 1; found 2.0 at index 1"),
        ([[0.5]], [1], r"one-dimensional"),
        (["a", "b"], [1, 0], r"sequence of numbers"),
        ([0.5, float("inf")], [1, 0], r"not finite"),
    ],
)
def test_bad_input_is_a_clear_error(fn, p, y, message):
    with pytest.raises(CalibenchError, match=message):
        fn(p, y)


def test_booleans_and_ints_are_accepted():
    assert metrics.accuracy([0.9, 0.2], [True, False]) == 0.5
    assert metrics.brier([1, 0], [1, 0]) == 0.0


@pytest.mark.parametrize("kwargs", [{"n_bins": 0}, {"strategy": "equal"}, {"norm": "l3"}, {"n_bins": 2.5}])
def test_bad_options(kwargs):
    with pytest.raises(CalibenchError):
        metrics.ece([0.5, 0.6], [1, 0], **kwargs)


def test_design_compresses_items_to_sorted_atoms():
    p = np.array([0.9, 0.5, 0.9, 0.5, 0.9])
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    design = _Design([p, y])
    ap, ay = design.atoms
    assert ap.tolist() == [0.5, 0.5, 0.9, 0.9]
    assert ay.tolist() == [0.0, 1.0, 0.0, 1.0]
    assert design.counts.tolist() == [1, 1, 1, 2]
    assert distinct_levels(ap).tolist() == [0, 0, 1, 1]
    np.testing.assert_array_equal(ap[design.item_atom], p)
    np.testing.assert_array_equal(ay[design.item_atom], y)


def test_running_counts_match_a_loop():
    rng = np.random.default_rng(0)
    w = rng.integers(0, 3, size=(7, 12)).astype(float)
    w[3] = 0  # a replicate without items
    counts = RunningCounts(w)
    rows = np.arange(7)
    atoms = rng.integers(0, 13, size=(7, 5))
    np.testing.assert_array_equal(counts.total, w.sum(axis=1))
    np.testing.assert_array_equal(counts.before(rows, atoms), [[r[:a].sum() for a in at] for r, at in zip(w, atoms)])
    cum = np.cumsum(w, axis=1)
    np.testing.assert_array_equal(counts.at(np.arange(13)) - counts.offset[:-1, None], np.c_[np.zeros(7), cum])
    np.testing.assert_array_equal(counts.at(np.array([0, 4, 12])) - counts.offset[:-1, None], np.c_[np.zeros(7), cum[:, [3, 11]]])
    np.testing.assert_array_equal(counts.per_bin(rows, np.tile([0, 4, 12], (7, 1))), np.c_[w[:, :4].sum(axis=1), w[:, 4:].sum(axis=1)])
    full = rows[w.sum(axis=1) > 0]
    ranks = np.stack([rng.integers(0, w[r].sum(), size=5) for r in full])
    expected = [[np.searchsorted(np.cumsum(w[r]), q, side="right") for q in qs] for r, qs in zip(full, ranks)]
    np.testing.assert_array_equal(counts.holding(full, ranks), expected)


@pytest.mark.parametrize("n_bins", [3, 40, 600, 2000])
def test_segment_sums_match_a_loop(n_bins):
    rng = np.random.default_rng(n_bins)
    w = rng.integers(0, 3, size=(6, 2000)).astype(float)
    v = rng.uniform(size=2000)
    shared = np.r_[0, np.sort(rng.integers(0, 2001, size=n_bins - 1)), 2000]
    per_row = np.stack([np.r_[0, np.sort(rng.integers(0, 2001, size=n_bins - 1)), 2000] for _ in range(6)])
    for bounds in (shared, per_row):
        got_w, got_v = segment_sums(w, bounds, None, v)
        b = np.broadcast_to(bounds, (6, n_bins + 1))
        want_w = [[w[r, b[r, j] : b[r, j + 1]].sum() for j in range(n_bins)] for r in range(6)]
        want_v = [[(w[r] * v)[b[r, j] : b[r, j + 1]].sum() for j in range(n_bins)] for r in range(6)]
        np.testing.assert_allclose(got_w, want_w, atol=1e-9)
        np.testing.assert_allclose(got_v, want_v, atol=1e-9)
