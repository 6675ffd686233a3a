import numpy as np
import pytest

from calibench import metrics
from calibench.errors import CalibenchError
from calibench.metrics.risk_coverage import prr, risk_coverage


def polygraph_prr(confidence, right):
    """LM-Polygraph's PredictionRejectionArea (max_rejection=1), normalised by the random and
    oracle areas, written out plainly: uncertainty = -confidence, quality = right."""
    target = np.asarray(right, dtype=float)
    n = target.size
    remaining = np.arange(1, n + 1)
    ue = np.flip(np.cumsum(target[np.argsort(-confidence)]) / remaining).mean()
    oracle = np.flip(np.cumsum(np.flip(np.sort(target))) / remaining).mean()
    random = target.mean()
    return (ue - random) / (oracle - random)


@pytest.mark.parametrize("seed", range(4))
def test_prr_matches_lm_polygraph_on_untied_confidences(seed):
    rng = np.random.default_rng(seed)
    p = rng.uniform(size=300)
    y = (rng.uniform(size=300) < p).astype(float)
    assert prr(p, y) == pytest.approx(polygraph_prr(p, y), abs=1e-12)


def test_prr_extremes():
    y = np.array([1, 1, 0, 0, 1, 0], dtype=float)
    assert prr(np.where(y == 1, 0.9, 0.1) + np.arange(6) * 1e-3, y) == pytest.approx(1.0)  # perfect ranking
    assert prr(np.where(y == 1, 0.1, 0.9), y) < 0  # inverted ranking
    assert prr(np.full(6, 0.7), y) == pytest.approx(0.0)  # one confidence for all: chance
    assert np.isnan(prr([0.2, 0.9], [1, 1]))


def test_risk_coverage_curve_with_intervals():
    rng = np.random.default_rng(5)
    p = rng.choice(np.arange(40, 101, 5), 400) / 100
    y = (rng.uniform(size=400) < p - 0.1).astype(float)
    curve = risk_coverage(p, y, points=10, n_boot=300)
    assert curve.coverage[0] == 0.1 and curve.coverage[-1] == 1.0
    assert curve.risk[-1] == pytest.approx(1 - y.mean())  # answering everything: the error rate
    for c, r in zip(curve.coverage, curve.risk):
        assert r == pytest.approx(1 - metrics.accuracy_at_coverage(p, y, coverage=c))
    assert all(lo <= r <= hi for lo, r, hi in zip(curve.low, curve.risk, curve.high))
    assert curve.prr.value == pytest.approx(prr(p, y)) and curve.prr.low < curve.prr.value < curve.prr.high
    with pytest.raises(CalibenchError, match="at least 2"):
        risk_coverage([0.5], [1])
