"""calibench against the reference libraries, on fixtures computed by tests/golden/make_golden.py.

Where the definitions agree the numbers must agree to 1e-9. Where they differ (the
equal-width bin rule), the test pins the difference: the reference's number is reproduced
exactly by calibench's own binned machinery with the reference's bin rule swapped in, so the
bin rule is the only difference, and on data with confidences on bin edges the numbers differ.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from calibench import metrics
from calibench.metrics._inputs import binned_sums

FIXTURES = json.loads((Path(__file__).parents[1] / "golden" / "fixtures.json").read_text())["cases"]
CASES = sorted(FIXTURES)
TOL = 1e-9


def case(name):
    c = FIXTURES[name]
    return np.array(c["p"]), np.array(c["y"], dtype=float), c["reference"]


def ece_with_index(p, y, idx):
    cnt, sp, sy = binned_sums(None, idx, int(idx.max()) + 1, p, y)
    return float(np.abs(sp - sy).sum() / p.size)


def mce_with_index(p, y, idx):
    cnt, sp, sy = binned_sums(None, idx, int(idx.max()) + 1, p, y)
    keep = cnt > 0
    return float(np.max(np.abs(sp[keep] - sy[keep]) / cnt[keep]))


# The references' equal-width rules, written out.
def relplot_index(p):  # int(p / 0.1): 0.3 -> 2, 1.0 -> a bin of its own
    return (p / 0.1).astype(int)


def netcal_index(p):  # histogram against linspace edges, after clipping into (0, 1)
    eps = np.finfo(np.float64).eps
    return np.searchsorted(np.linspace(0, 1, 11), np.clip(p, eps, 1 - eps), side="right") - 1


def kumar_index(p):  # bisect_left on edges i/10: right-closed bins
    return np.searchsorted(np.array([i * 1.0 / 10 for i in range(1, 11)]), p, side="left")


def on_an_edge(p):
    return bool(np.any(np.isin(np.round(p * 10, 9), np.arange(11))))


@pytest.mark.parametrize("name", CASES)
def test_agreeing_definitions_match_to_1e9(name):
    p, y, ref = case(name)
    assert metrics.brier(p, y) == pytest.approx(ref["sklearn_brier_score_loss"], abs=TOL)
    assert metrics.auroc(p, y) == pytest.approx(ref["sklearn_roc_auc_score"], abs=TOL)
    assert metrics.nll(p, y) == pytest.approx(ref["sklearn_log_loss_clipped_1e-6"], abs=TOL)
    value, sigma = metrics.smece(p, y, return_sigma=True)
    assert value == pytest.approx(ref["relplot_smece"], abs=TOL)
    assert sigma == ref["relplot_smece_sigma"]
    assert metrics.ece(p, y, strategy="quantile") == pytest.approx(ref["kumar_get_ece_em_10"], abs=TOL)
    assert metrics.ece(p, y, strategy="quantile", norm="l2") == pytest.approx(ref["kumar_l2_equal_mass_10_debias_False"], abs=TOL)
    assert metrics.ece_debiased(p, y) == pytest.approx(ref["kumar_l2_equal_mass_10_debias_True"], abs=TOL)
    assert metrics.ece(p, y, strategy="distinct", norm="l2") == pytest.approx(ref["kumar_binning_ce_l2_distinct"], abs=TOL)
    assert metrics.ece(p, y, strategy="distinct") == pytest.approx(ref["kumar_binning_ce_l1_distinct"], abs=TOL)


def test_continuous_equal_width_matches_every_reference():
    p, y, ref = case("continuous")
    ours = metrics.ece(p, y)
    for key in ("netcal_ece_10", "relplot_binned_ece_10", "kumar_get_ece_10"):
        assert ours == pytest.approx(ref[key], abs=TOL), key
    assert metrics.ece(p, y, norm="max") == pytest.approx(ref["netcal_mce_10"], abs=TOL)
    curve = ref["sklearn_calibration_curve_uniform"]
    bins = metrics.reliability_bins(p, y)
    np.testing.assert_allclose(bins.accuracy, curve["prob_true"], atol=TOL)
    np.testing.assert_allclose(bins.mean_confidence, curve["prob_pred"], atol=TOL)
    # sklearn's quantile edges (interpolated percentiles) cut where uncertainty-calibration's
    # midpoints do when there are no ties, as here
    curve = ref["sklearn_calibration_curve_quantile"]
    bins = metrics.reliability_bins(p, y, strategy="quantile")
    np.testing.assert_allclose(bins.accuracy, curve["prob_true"], atol=TOL)
    np.testing.assert_allclose(bins.mean_confidence, curve["prob_pred"], atol=TOL)


@pytest.mark.parametrize("name", ["percent_grid", "verbalized_small"])
def test_equal_width_bin_rule_is_the_only_difference_on_stated_percentages(name):
    p, y, ref = case(name)
    assert on_an_edge(p)
    # each reference's number is our machinery with its bin rule
    assert ece_with_index(p, y, relplot_index(p)) == pytest.approx(ref["relplot_binned_ece_10"], abs=TOL)
    assert ece_with_index(p, y, netcal_index(p)) == pytest.approx(ref["netcal_ece_10"], abs=TOL)
    assert mce_with_index(p, y, netcal_index(p)) == pytest.approx(ref["netcal_mce_10"], abs=TOL)
    assert ece_with_index(p, y, kumar_index(p)) == pytest.approx(ref["kumar_get_ece_10"], abs=TOL)
    # and ours, left-closed with exact edges, is the integer rule floor(c * 10 / 100)
    c = np.round(p * 100).astype(int)
    assert metrics.ece(p, y) == pytest.approx(ece_with_index(p, y, np.minimum(c * 10 // 100, 9)), abs=TOL)


def test_pinned_differences_on_the_percent_grid():
    p, y, ref = case("percent_grid")
    ours = metrics.ece(p, y)
    # netcal and relplot put 0.3, 0.6, 0.7 one bin low; relplot also gives 1.0 its own bin;
    # uncertainty-calibration's bins are right-closed: 0.1, 0.2, ... go one bin low.
    assert abs(ours - ref["netcal_ece_10"]) > 1e-4
    assert abs(ours - ref["kumar_get_ece_10"]) > 1e-4
    assert ref["netcal_ece_10"] == pytest.approx(ref["relplot_binned_ece_10"], abs=TOL)  # 1.0 alone or not, same here
