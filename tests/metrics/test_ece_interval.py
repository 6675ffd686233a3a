import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from calibench import metrics
from calibench.errors import CalibenchError


def _plain_debiased(p, y, n_bins=10):
    """The definition, bin by bin, in a loop."""
    total = 0.0
    bins = np.minimum(np.floor(np.round(p * n_bins, 12)).astype(int), n_bins - 1)
    for b in range(n_bins):
        m = bins == b
        k = m.sum()
        if k == 0:
            continue
        gap, acc = p[m].mean() - y[m].mean(), y[m].mean()
        squared = gap**2 - (acc * (1 - acc) / (k - 1) if k >= 2 else 0.0)
        total += k / p.size * np.sqrt(max(squared, 0.0))
    return total


@pytest.mark.parametrize("seed", range(5))
def test_debiased_l1_matches_its_definition(seed):
    rng = np.random.default_rng(seed)
    p = rng.choice(np.arange(0, 101, 5), 200) / 100 if seed % 2 else rng.uniform(size=200)
    y = (rng.uniform(size=200) < p - 0.1).astype(float)
    assert metrics.ece_debiased_l1(p, y) == pytest.approx(_plain_debiased(p, y), abs=1e-12)
    # it never exceeds the plug-in ECE: each bin's root is at most |gap_b|
    assert metrics.ece_debiased_l1(p, y) <= metrics.ece(p, y) + 1e-12


def test_debiased_l1_keeps_a_single_item_bin_plug_in_and_is_exact_on_pure_bins():
    # one item at 0.95, wrong: that bin adds 0.95 / 3; the pure bin at 0.5 (2 right) has no variance
    p = np.array([0.95, 0.5, 0.5])
    y = np.array([0, 1, 1])
    assert metrics.ece_debiased_l1(p, y) == pytest.approx((0.95 + 2 * 0.5) / 3)


def test_calibration_test_matches_a_plain_simulation_and_separates_the_cases():
    rng = np.random.default_rng(3)
    p = rng.choice(np.arange(60, 101, 5) / 100, 300)
    y = (rng.uniform(size=300) < p - 0.04).astype(float)
    test = metrics.calibration_test(p, y, n_sims=2000, seed=1)
    observed = metrics.ece(p, y)
    sims = []
    for _ in range(2000):
        q = rng.choice(p, p.size)
        sims.append(metrics.ece(q, (rng.uniform(size=p.size) < q).astype(float)))
    assert test.statistic == pytest.approx(observed)
    assert test.p_value == pytest.approx((1 + np.sum(np.array(sims) >= observed)) / 2001, abs=0.03)
    far = metrics.calibration_test(p, (rng.uniform(size=300) < 0.5 * p).astype(float), n_sims=500)
    assert far.rejected and far.p_value == pytest.approx(1 / 501)


def test_interval_low_end_follows_the_test():
    rng = np.random.default_rng(4)
    p = rng.choice(np.arange(30, 101, 5) / 100, 300)
    calibrated = (rng.uniform(size=300) < p).astype(float)
    est, test = metrics.ece_interval(p, calibrated, n_boot=300, n_sims=300)
    assert not test.rejected and est.low == 0.0 and est.high > est.value > 0
    assert "0 unless calibration is rejected" in est.method
    plug_in = metrics.bootstrap_ci(p, calibrated, "ece", n_boot=300)
    assert est.high == pytest.approx(plug_in.high)  # the high end is the plug-in's upper percentile
    far = (rng.uniform(size=300) < 0.55 * p).astype(float)
    est, test = metrics.ece_interval(p, far, n_boot=300, n_sims=300)
    assert test.rejected and 0 < est.low <= est.value <= est.high
    assert est.value == pytest.approx(metrics.ece_debiased_l1(p, far))


def test_interval_rejects_bad_options():
    with pytest.raises(CalibenchError, match="level"):
        metrics.ece_interval([0.5, 0.6], [0, 1], level=1.5)
    with pytest.raises(CalibenchError, match="n_sims"):
        metrics.calibration_test([0.5, 0.6], [0, 1], n_sims=0)


def test_panel_headline_is_the_debiased_interval_with_the_test():
    rng = np.random.default_rng(5)
    p = rng.choice(np.arange(30, 101, 5) / 100, 300)
    y = (rng.uniform(size=300) < p).astype(float)
    result = metrics.panel(p, y, n_boot=300, noise_sims=300, seed=2)
    head = result["ece_debiased_l1"]
    est, test = metrics.ece_interval(p, y, n_boot=300, n_sims=300, seed=2)
    assert result.calibration_test.statistic == pytest.approx(test.statistic)
    assert (result.calibration_test.p_value, result.calibration_test.rejected) == (test.p_value, test.rejected)
    assert (head.value, head.low, head.high) == pytest.approx((est.value, est.low, est.high))
    assert result.to_dict()["calibration_test"]["p_value"] == test.p_value


def _coverage_bench():
    path = Path(__file__).parents[2] / "benchmarks" / "bench_coverage.py"
    spec = importlib.util.spec_from_file_location("bench_coverage", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_coverage"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize("confidences,truth,n", [
    ("grid", "calibrated", 300),
    ("grid", "minus3", 300),
    ("continuous", "minus10", 300),
    ("grid-high", "under5", 300),
    ("grid", "minus3", 100),
])
def test_headline_interval_covers_the_true_ece(confidences, truth, n):
    """The fast version of benchmarks/bench_coverage.py: 300 replications, 300 resamples each.

    At 95% nominal and 300 replications the Monte Carlo standard error is 1.3 points; the bound
    of 0.88 leaves room for it below the 90% the full simulation shows.
    """
    bench = _coverage_bench()
    r = bench.replicate(bench.CONFIDENCES[confidences], bench.TRUTHS[truth][1], n, 300, seed=7, n_boot=300, n_sims=300)
    assert r["coverage"] >= 0.88, r
    if truth == "calibrated":  # the plug-in percentile interval never covers 0: what the headline fixed
        assert r["plug_in_coverage"] < 0.05
