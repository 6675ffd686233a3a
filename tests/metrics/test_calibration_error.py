import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calibench import metrics

pairs = st.lists(st.tuples(st.integers(0, 100), st.booleans()), min_size=1, max_size=80)


def arrays(data):
    return np.array([c / 100 for c, _ in data]), np.array([float(b) for _, b in data])


def test_hand_computed_ece_rms_mce():
    p = [0.15, 0.15, 0.85, 0.85, 0.85, 0.85]
    y = [0, 0, 1, 1, 1, 0]
    # bins: 0.15 (n=2, acc 0, gap 0.15); 0.85 (n=4, acc 0.75, gap 0.10)
    assert metrics.ece(p, y) == pytest.approx(2 / 6 * 0.15 + 4 / 6 * 0.10)
    assert metrics.ece(p, y, norm="l2") == pytest.approx(np.sqrt(2 / 6 * 0.15**2 + 4 / 6 * 0.10**2))
    assert metrics.ece(p, y, norm="max") == pytest.approx(0.15)


def test_edge_values_change_ece_as_the_bin_rule_says():
    # 0.3 (underconfident) opens bin 3 with 0.35 (overconfident): they cancel there
    p = [0.3, 0.35, 0.25]
    y = [1, 0, 1]
    expected = (abs((0.3 - 1) + (0.35 - 0)) + abs(0.25 - 1)) / 3
    assert metrics.ece(p, y) == pytest.approx(expected)


def test_debiased_subtracts_the_binomial_variance():
    p = np.array([0.5] * 4 + [0.9] * 10)
    y = np.array([1, 0, 1, 0] + [1] * 8 + [0] * 2, dtype=float)
    # distinct bins: 0.5 (acc .5, gap 0), 0.9 (acc .8, gap .1)
    sq = 4 / 14 * (0 - 0.25 / 3) + 10 / 14 * (0.1**2 - 0.16 / 9)
    assert metrics.ece_debiased(p, y, strategy="distinct") == pytest.approx(np.sqrt(max(sq, 0)))


def test_sweep_stops_before_the_first_non_monotone_binning():
    p = np.linspace(0.05, 0.95, 10)
    y = np.array([0, 0, 1, 0, 1, 1, 0, 1, 1, 1], dtype=float)
    for b in range(1, 11):
        bins = metrics.reliability_bins(p, y, n_bins=b, strategy="quantile")
        if np.any(np.diff(bins.accuracy) < 0):
            first_bad = b
            break
    value = metrics.ece_sweep(p, y)
    assert value == pytest.approx(metrics.ece(p, y, n_bins=first_bad - 1, strategy="quantile"))


def test_perfect_and_worst_cases():
    assert metrics.ece([1.0, 1.0, 0.0], [1, 1, 0]) == 0.0
    assert metrics.ece([1.0, 1.0, 0.0], [0, 0, 1]) == 1.0
    assert metrics.ece_debiased([1.0, 1.0, 0.0, 0.0], [1, 1, 0, 0]) == 0.0


@given(pairs, st.integers(1, 15), st.sampled_from(["uniform", "quantile", "distinct"]), st.randoms(use_true_random=False))
@settings(max_examples=150, deadline=None)
def test_invariant_to_permutation_and_bounded(data, n_bins, strategy, rnd):
    p, y = arrays(data)
    order = list(range(p.size))
    rnd.shuffle(order)
    gap = abs(p.mean() - y.mean())
    for norm in ("l1", "l2", "max"):
        a = metrics.ece(p, y, n_bins=n_bins, strategy=strategy, norm=norm)
        b = metrics.ece(p[order], y[order], n_bins=n_bins, strategy=strategy, norm=norm)
        assert a == pytest.approx(b, abs=1e-12)
        assert 0.0 <= a <= 1.0
    l1 = metrics.ece(p, y, n_bins=n_bins, strategy=strategy)
    l2 = metrics.ece(p, y, n_bins=n_bins, strategy=strategy, norm="l2")
    mx = metrics.ece(p, y, n_bins=n_bins, strategy=strategy, norm="max")
    assert gap - 1e-12 <= l1 <= l2 + 1e-12 <= mx + 2e-12  # |gap| <= L1 <= L2 <= max
    assert 0.0 <= metrics.ece_debiased(p, y, n_bins=n_bins, strategy=strategy) <= 1.0
    assert metrics.ece_sweep(p, y) == pytest.approx(metrics.ece_sweep(p[order], y[order]), abs=1e-12)


def test_ece_of_calibrated_data_shrinks_with_n():
    rng = np.random.default_rng(7)
    means = []
    for n in (100, 1000, 10000):
        values = []
        for _ in range(30):
            p = rng.choice(np.arange(50, 101, 5), n) / 100
            y = (rng.uniform(size=n) < p).astype(float)
            values.append(metrics.ece(p, y))
        means.append(np.mean(values))
    assert means[0] > means[1] > means[2]
    assert means[2] < 0.01


def test_each_bootstrap_replicate_of_ece_sweep_is_ece_sweep_of_its_resample():
    from calibench.metrics.calibration_error import ece_sweep_w

    p = np.array([0.2, 0.25, 0.45, 0.7, 0.75, 0.85])
    y = np.array([0, 0, 1, 0, 1, 1.0])
    w = np.array([[0, 1, 0, 0, 3, 2]])
    assert ece_sweep_w(p, y, w)[0][0] == pytest.approx(0.1333333333)  # it was 0.2167 (all items' sweep range)
    rng = np.random.default_rng(3)
    p = np.sort(rng.choice(np.linspace(0.05, 1, 20), size=60))  # atoms come sorted by confidence
    y = (rng.uniform(size=60) < p).astype(float)
    w = rng.multinomial(60, np.full(60, 1 / 60), size=40)
    got = ece_sweep_w(p, y, w)[0]
    want = [metrics.ece_sweep(np.repeat(p, row), np.repeat(y, row)) for row in w]
    np.testing.assert_allclose(got, want, atol=1e-12)


def sweep_written_out(p, y):
    """ECE_sweep from its definition: the items sorted, np.array_split runs, each cut moved past
    the tied confidences of the run below it (uncertainty-calibration's cut at the midpoint)."""
    order = np.argsort(p, kind="stable")
    p, y = p[order], y[order]
    best = abs(p.sum() - y.sum()) / p.size
    for b in range(2, min(p.size, np.unique(p).size) + 1):
        last_below = np.array([run[-1] for run in np.array_split(p, b)[:-1]])
        bins = np.searchsorted(last_below, p, side="left")  # a value equal to a cut goes below it
        full = [j for j in range(b) if np.any(bins == j)]
        acc = [y[bins == j].mean() for j in full]
        if any(later < earlier for earlier, later in zip(acc, acc[1:])):
            break
        best = sum(abs(p[bins == j].sum() - y[bins == j].sum()) for j in full) / p.size
    return best


@pytest.mark.parametrize("kind", ["grid", "continuous"])
def test_sweep_of_weight_rows_equals_the_definition_on_each_resample(kind):
    from calibench.metrics.calibration_error import ece_sweep_w

    rng = np.random.default_rng(11)
    n = 80
    p = np.sort(rng.choice(np.arange(40, 101, 5), n) / 100 if kind == "grid" else rng.uniform(size=n))
    y = (rng.uniform(size=n) < p - 0.1).astype(float)
    w = rng.multinomial(n, np.full(n, 1 / n), size=30).astype(float)
    got = ece_sweep_w(p, y, w)[0]
    want = [sweep_written_out(np.repeat(p, row.astype(int)), np.repeat(y, row.astype(int))) for row in w]
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert metrics.ece_sweep(p, y) == pytest.approx(sweep_written_out(p, y), abs=1e-12)


def test_sweep_bins_and_range_differ_from_the_reference_code_as_documented():
    from calibench.metrics.calibration_error import ece_sweep_w

    # n = 10: calibench's 4 bins hold 3, 3, 2, 2 items (np.array_split) and are monotone, 5 are
    # not, so ECE_sweep is the 4-bin quantile ECE, 0.2. Roelofs et al.'s floor(i b / n) bins
    # hold 3, 2, 3, 2 items, are not monotone at b = 4, and their code returns 3 bins' 0.24.
    p = np.round(np.linspace(0.05, 0.95, 10), 2)
    y = np.array([0, 0, 0, 1, 0, 0, 1, 0, 0, 1.0])
    value, chosen = ece_sweep_w(p, y, None)
    assert chosen[0] == 4 and value[0] == pytest.approx(0.2, abs=1e-12)
    assert value[0] == pytest.approx(metrics.ece(p, y, n_bins=4, strategy="quantile"), abs=1e-12)
    # perfectly separated: every b is monotone, and the sweep reaches one bin per item (the reference stops at n - 1)
    p = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.8])
    y = np.array([0, 0, 0, 1, 1, 1.0])
    value, chosen = ece_sweep_w(p, y, None)
    assert chosen[0] == 6 and value[0] == pytest.approx(np.abs(p - y).mean(), abs=1e-12)
    # tied confidences stay in one bin: two distinct values allow two bins at most
    p = np.array([0.6] * 5 + [0.9] * 5)
    y = np.array([0, 0, 1, 1, 1, 1, 1, 1, 1, 0.0])
    value, chosen = ece_sweep_w(p, y, None)
    assert chosen[0] == 2 and value[0] == pytest.approx(metrics.ece(p, y, strategy="distinct"), abs=1e-12)
