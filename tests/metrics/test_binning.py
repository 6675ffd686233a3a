import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calibench import metrics
from calibench.metrics.binning import assign_bins, uniform_bin_index, wilson_interval


def test_edges_open_their_bin_and_one_shares_the_top_bin():
    p = np.array([0.0, 0.1, 0.3, 0.6, 0.7, 0.9999, 1.0])
    assert uniform_bin_index(p, 10).tolist() == [0, 1, 3, 6, 7, 9, 9]


@pytest.mark.parametrize("n_bins", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 20, 25, 30, 33, 40, 50, 64, 100, 1000])
def test_stated_percentages_bin_as_integers(n_bins):
    c = np.arange(101)
    expected = np.minimum(c * n_bins // 100, n_bins - 1)
    np.testing.assert_array_equal(uniform_bin_index(c / 100, n_bins), expected)


@given(st.floats(0, 1), st.integers(1, 200))
def test_uniform_bin_contains_its_value(x, n_bins):
    k = int(uniform_bin_index(np.array([x]), n_bins)[0])
    assert 0 <= k < n_bins
    assert k / n_bins <= x
    assert x < (k + 1) / n_bins or (k == n_bins - 1 and x <= 1.0)


def test_quantile_bins_follow_array_split_and_keep_ties_together():
    p = np.sort(np.array([0.1, 0.2, 0.2, 0.2, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]))
    idx, _ = assign_bins(p, 5, "quantile")
    # runs of 2 give cuts at the midpoints 0.2 (inside the tie), 0.35, 0.65 and 0.85 as in
    # uncertainty-calibration's get_equal_bins; a value equal to a cut goes below it, so the
    # three 0.2s stay together and bin 1 is empty
    assert idx.tolist() == [0, 0, 0, 0, 2, 2, 3, 3, 4, 4]


def test_reliability_bins_counts_and_wilson():
    p = [0.05, 0.15, 0.15, 0.95, 0.95, 0.95, 1.0]
    y = [0, 0, 1, 1, 1, 0, 1]
    bins = metrics.reliability_bins(p, y)
    assert bins.count.tolist() == [1, 2, 4]
    np.testing.assert_allclose(bins.accuracy, [0, 0.5, 0.75])
    np.testing.assert_allclose(bins.mean_confidence, [0.05, 0.15, (0.95 * 3 + 1) / 4])
    assert bins.confidence_min.tolist() == [0.05, 0.15, 0.95] and bins.confidence_max.tolist() == [0.05, 0.15, 1.0]
    assert np.all(bins.accuracy_low <= bins.accuracy) and np.all(bins.accuracy <= bins.accuracy_high)
    d = bins.to_dict()
    assert d["count"] == [1, 2, 4] and d["strategy"] == "uniform"


def test_wilson_interval_known_value():
    # 8 of 10 at 95%: the textbook Wilson interval is [0.4902, 0.9433]
    lo, hi = wilson_interval(np.array([8.0]), np.array([10.0]))
    assert lo[0] == pytest.approx(0.4902, abs=1e-4) and hi[0] == pytest.approx(0.9433, abs=1e-4)
    lo, hi = wilson_interval(np.array([0.0]), np.array([5.0]))
    assert lo[0] == 0.0 and 0 < hi[0] < 0.5  # a pure bin keeps a real interval


def test_distinct_bins_one_per_value():
    bins = metrics.reliability_bins([0.8, 0.8, 0.9, 1.0, 1.0], [1, 0, 1, 1, 1], strategy="distinct")
    assert bins.mean_confidence.tolist() == [0.8, 0.9, 1.0] and bins.count.tolist() == [2, 1, 2]


@given(st.lists(st.tuples(st.integers(0, 100), st.booleans()), min_size=1, max_size=60), st.integers(1, 12))
@settings(max_examples=200, deadline=None)
def test_bins_partition_the_items(pairs, n_bins):
    p = np.array([c / 100 for c, _ in pairs])
    y = np.array([float(b) for _, b in pairs])
    for strategy in ("uniform", "quantile", "distinct"):
        bins = metrics.reliability_bins(p, y, n_bins=n_bins, strategy=strategy)
        assert bins.count.sum() == p.size
        assert np.all(np.diff(bins.mean_confidence) > 0)  # bins are ordered and disjoint
        assert np.all(bins.confidence_max[:-1] < bins.confidence_min[1:])


def test_wilson_bounds_are_exact_at_the_ends():
    lo, hi = wilson_interval(np.array([0.0, 7.0, 3.0]), np.array([7.0, 7.0, 7.0]))
    assert lo[0] == 0.0 and hi[1] == 1.0 and 0 < lo[2] < 3 / 7 < hi[2] < 1


def test_scikit_learns_rule_puts_every_inner_edge_one_bin_lower():
    # scikit-learn 1.9's calibration_curve bins with np.searchsorted(edges[1:-1], p) (side
    # "left": right-closed bins); calibench's left-closed rule puts k/10 in bin k
    from sklearn.calibration import calibration_curve

    edges = np.array([k / 10 for k in range(1, 10)])
    ours = uniform_bin_index(edges, 10)
    assert ours.tolist() == list(range(1, 10))
    for k, e in enumerate(edges, start=1):
        # one confidence at the edge and one mid-way into the bin it opens: scikit-learn
        # averages them only if it puts the edge into that bin too
        _, mean_conf = calibration_curve(np.array([0, 0]), np.array([e, e + 0.05]), n_bins=10)
        assert mean_conf.size == 2, k  # two bins: the edge went one lower
