import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calibench import metrics


def test_brier_and_nll_by_hand():
    p, y = [0.9, 0.6, 0.2], [1, 0, 0]
    assert metrics.brier(p, y) == pytest.approx((0.01 + 0.36 + 0.04) / 3)
    assert metrics.nll(p, y) == pytest.approx(-(np.log(0.9) + np.log(0.4) + np.log(0.8)) / 3)


def test_nll_clips_certain_mistakes():
    assert metrics.nll([1.0], [0]) == pytest.approx(-np.log(1e-6))
    assert metrics.nll([1.0], [0], eps=1e-3) == pytest.approx(-np.log(1e-3))


@given(
    st.lists(st.tuples(st.floats(0, 1), st.booleans()), min_size=1, max_size=60),
    st.integers(1, 12),
    st.sampled_from(["uniform", "quantile", "distinct"]),
)
@settings(max_examples=200, deadline=None)
def test_decomposition_adds_up_exactly(data, n_bins, strategy):
    p = np.array([a for a, _ in data])
    y = np.array([float(b) for _, b in data])
    d = metrics.brier_decomposition(p, y, n_bins=n_bins, strategy=strategy)
    assert d.brier == pytest.approx(metrics.brier(p, y), abs=1e-12)
    assert d.reliability - d.resolution + d.uncertainty + d.within_bin == pytest.approx(d.brier, abs=1e-12)
    assert d.reliability >= 0 and d.resolution >= -1e-15 and 0 <= d.uncertainty <= 0.25
    if strategy == "distinct":
        assert d.within_bin == pytest.approx(0.0, abs=1e-12)


def test_recalibrating_moves_reliability_not_resolution():
    rng = np.random.default_rng(2)
    c = rng.choice(np.arange(0, 101, 10), 4000)
    y = (rng.uniform(size=4000) < c / 100).astype(float)
    calibrated = metrics.brier_decomposition(c / 100, y, strategy="distinct")
    shifted = metrics.brier_decomposition(np.clip(c / 100 + 0.05, 0, 1) * 0.95, y, strategy="distinct")
    assert shifted.reliability > calibrated.reliability
    assert shifted.resolution == pytest.approx(calibrated.resolution, abs=1e-12)
