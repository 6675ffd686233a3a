import numpy as np
import pytest
from scipy.stats import binomtest

from calibench import metrics
from calibench.errors import CalibenchError


def test_holm_matches_the_step_down_by_hand():
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> kept at 0.06
    adjusted = metrics.holm([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert metrics.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    nan = metrics.holm([0.01, np.nan])
    assert nan[0] == pytest.approx(0.01) and np.isnan(nan[1])


def test_mcnemar_is_the_binomial_test_on_discordant_pairs():
    a = np.array([1] * 30 + [0] * 10 + [1] * 50 + [0] * 10, dtype=bool)
    b = np.array([0] * 30 + [1] * 10 + [1] * 50 + [0] * 10, dtype=bool)
    test = metrics.mcnemar(a, b)
    assert (test.a_only, test.b_only, test.n) == (30, 10, 100)
    assert test.p_value == pytest.approx(binomtest(10, 40, 0.5).pvalue)
    assert metrics.mcnemar(a, a).p_value == 1.0
    with pytest.raises(CalibenchError, match="McNemar"):
        metrics.mcnemar(a, b[:5])


def test_paired_difference_matches_a_plain_paired_bootstrap():
    rng = np.random.default_rng(1)
    n = 400
    p_a = rng.choice(np.arange(50, 101, 5), n) / 100
    p_b = np.clip(p_a - 0.1, 0, 1)
    y = (rng.uniform(size=n) < p_a - 0.2).astype(float)
    result = metrics.paired_difference(p_a, y, p_b, y, "brier", n_boot=2000, seed=3)
    assert result.a == pytest.approx(metrics.brier(p_a, y)) and result.b == pytest.approx(metrics.brier(p_b, y))
    assert result.difference.value == pytest.approx(result.a - result.b)
    diffs = []
    for _ in range(2000):
        i = rng.integers(0, n, n)
        diffs.append(metrics.brier(p_a[i], y[i]) - metrics.brier(p_b[i], y[i]))
    lo, hi = np.quantile(diffs, [0.025, 0.975])
    assert result.difference.low == pytest.approx(lo, abs=0.004) and result.difference.high == pytest.approx(hi, abs=0.004)
    assert result.p_value < 0.01  # lowering overconfident confidences by 0.1 clearly improves Brier


def test_paired_difference_p_value_is_large_for_the_same_signal_and_uniform_under_the_null():
    rng = np.random.default_rng(2)
    p = rng.uniform(0.3, 1, 300)
    y = (rng.uniform(size=300) < p).astype(float)
    same = metrics.paired_difference(p, y, p, y, "ece", n_boot=200)
    assert same.difference.value == 0 and same.p_value == 1.0
    # two exchangeable signals: over many datasets p < 0.05 about 5% of the time
    small = 0
    for k in range(100):
        y = (rng.uniform(size=200) < 0.7).astype(float)
        a, b = rng.uniform(0.5, 0.9, 200), rng.uniform(0.5, 0.9, 200)
        small += metrics.paired_difference(a, y, b, y, "brier", n_boot=200, seed=k).p_value < 0.05
    assert small <= 14


def test_a_clear_difference_survives_holm_over_a_study_of_tests():
    """A p-value counted from 1,000 resamples cannot go below 0.002, which Holm over 150 tests
    makes 0.3: the standard-error p-value resolves a difference many standard errors from 0."""
    rng = np.random.default_rng(3)
    p = rng.choice(np.arange(50, 101, 5), 300) / 100
    y = (rng.uniform(size=300) < 0.3).astype(float)
    d = metrics.paired_difference(p, y, np.clip(p - 0.3, 0, 1), y, "ece_debiased_l1", n_boot=1000)
    assert d.difference.low > 0 and d.p_value < 1e-6
    assert metrics.holm([d.p_value] + [0.5] * 149)[0] < 0.05
