"""Compute the reference libraries' outputs on seeded inputs and store them as test fixtures.

Run by ``make golden`` in its own virtualenv (.venv-golden), which holds scikit-learn,
netcal (with torch==2.13.0, the CPU build on this machine), relplot and
uncertainty-calibration. calibench itself is not imported: the fixtures are the
references' word alone. The ordinary tests (tests/metrics/test_golden.py) compare
calibench against ``fixtures.json`` without any of these packages installed.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
import relplot.metrics
import sklearn.calibration
import sklearn.metrics
from calibration import utils as kumar
from netcal.metrics import ECE as NetcalECE
from netcal.metrics import MCE as NetcalMCE

OUT = Path(__file__).with_name("fixtures.json")


def inputs() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(20261128)
    cases = {}
    # continuous confidences, miscalibrated one way at the bottom and the other at the top
    p = rng.uniform(0, 1, 600)
    y = (rng.uniform(0, 1, 600) < 0.15 + 0.7 * p**2).astype(int)
    cases["continuous"] = (p, y)
    # stated percentages on a 5% grid, with exact 0, 30, 60, 70 and 100; underconfident on
    # the multiples of 10 (the bin edges), overconfident between them, so that a bin rule
    # that moves edge values to the bin below changes the ECE
    c = rng.choice(np.arange(0, 101, 5), 800)
    c[:5] = [0, 30, 60, 70, 100]
    p = c / 100
    rate = np.clip(np.where(c % 10 == 0, p + 0.15, p - 0.15), 0, 1)
    y = (rng.uniform(0, 1, 800) < rate).astype(int)
    cases["percent_grid"] = (p, y)
    # a verbalized-looking small sample: mostly 80-100 in steps of 5 (Xiong et al.)
    c = rng.choice([60, 70, 75, 80, 85, 90, 95, 100], 120, p=[0.03, 0.07, 0.05, 0.2, 0.15, 0.25, 0.1, 0.15])
    p = c / 100
    y = (rng.uniform(0, 1, 120) < p - 0.2).astype(int)
    cases["verbalized_small"] = (p, y)
    return cases


def references(p: np.ndarray, y: np.ndarray) -> dict:
    out = {}
    for strategy in ("uniform", "quantile"):
        prob_true, prob_pred = sklearn.calibration.calibration_curve(y, p, n_bins=10, strategy=strategy)
        out[f"sklearn_calibration_curve_{strategy}"] = {"prob_true": prob_true.tolist(), "prob_pred": prob_pred.tolist()}
    out["sklearn_brier_score_loss"] = float(sklearn.metrics.brier_score_loss(y, p))
    out["sklearn_roc_auc_score"] = float(sklearn.metrics.roc_auc_score(y, p))
    out["sklearn_log_loss_clipped_1e-6"] = float(sklearn.metrics.log_loss(y, np.clip(p, 1e-6, 1 - 1e-6)))
    out["netcal_ece_10"] = float(NetcalECE(bins=10).measure(p, y))
    out["netcal_mce_10"] = float(NetcalMCE(bins=10).measure(p, y))
    value, width = relplot.metrics.smECE(p, y, return_width=True)
    out["relplot_smece"] = float(value)
    out["relplot_smece_sigma"] = float(width)
    out["relplot_binned_ece_10"] = float(relplot.metrics.binnedECE(p, y, nbins=10))
    out["kumar_get_ece_10"] = float(kumar.get_ece(p, y, num_bins=10))
    out["kumar_get_ece_em_10"] = float(kumar.get_ece_em(p, y, num_bins=10))
    for debias in (False, True):
        out[f"kumar_l2_equal_mass_10_debias_{debias}"] = float(
            kumar.lower_bound_scaling_ce(p, y, p=2, debias=debias, num_bins=10, binning_scheme=kumar.get_equal_bins)
        )
    out["kumar_binning_ce_l2_distinct"] = float(kumar.get_binning_ce(p, y, p=2, debias=False))
    out["kumar_binning_ce_l1_distinct"] = float(kumar.get_binning_ce(p, y, p=1, debias=False))
    return out


def main() -> None:
    cases = {}
    for name, (p, y) in inputs().items():
        cases[name] = {"p": p.tolist(), "y": y.tolist(), "reference": references(p, y)}
    meta = {
        "generated_by": "tests/golden/make_golden.py",
        "python": sys.version.split()[0],
        "versions": {pkg: version(pkg) for pkg in ("numpy", "scikit-learn", "netcal", "relplot", "uncertainty-calibration", "torch")},
    }
    OUT.write_text(json.dumps({"meta": meta, "cases": cases}, indent=1) + "\n")
    print(f"wrote {OUT} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
