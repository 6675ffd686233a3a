"""Calibration metrics on confidences p in [0, 1] and outcomes y in {0, 1}: pure numpy/scipy.

Every function validates its input (NaN, values outside [0, 1], length mismatch, empty
input raise :class:`calibench.errors.CalibenchError`) and states the definition it uses.
:func:`panel` computes them all with bootstrap CIs. The headline calibration error is
:func:`ece_debiased_l1` with :func:`ece_interval` (see :mod:`calibench.metrics.ece_interval`).
"""

from calibench.metrics.binning import ReliabilityBins, reliability_bins, wilson_interval
from calibench.metrics.bootstrap import Estimate, bootstrap_ci
from calibench.metrics.calibration_error import ece, ece_debiased, ece_debiased_l1, ece_sweep
from calibench.metrics.ece_interval import CalibrationTest, calibration_test, ece_interval
from calibench.metrics.noise_floor import NoiseFloor, noise_floor
from calibench.metrics.paired import McNemar, PairedDifference, holm, mcnemar, paired_bootstrap, paired_difference
from calibench.metrics.panel import Panel, panel
from calibench.metrics.risk_coverage import RiskCoverage, prr, risk_coverage
from calibench.metrics.scores import BrierDecomposition, brier, brier_decomposition, nll
from calibench.metrics.selective import accuracy_at_coverage, aurc, auroc
from calibench.metrics.smooth import smece
from calibench.metrics.summary import accuracy, mean_confidence, overconfidence_gap

__all__ = [
    "BrierDecomposition",
    "CalibrationTest",
    "Estimate",
    "McNemar",
    "NoiseFloor",
    "PairedDifference",
    "Panel",
    "ReliabilityBins",
    "RiskCoverage",
    "accuracy",
    "accuracy_at_coverage",
    "aurc",
    "auroc",
    "bootstrap_ci",
    "brier",
    "brier_decomposition",
    "calibration_test",
    "ece",
    "ece_debiased",
    "ece_debiased_l1",
    "ece_interval",
    "ece_sweep",
    "holm",
    "mcnemar",
    "mean_confidence",
    "nll",
    "noise_floor",
    "overconfidence_gap",
    "paired_bootstrap",
    "paired_difference",
    "panel",
    "prr",
    "reliability_bins",
    "risk_coverage",
    "smece",
    "wilson_interval",
]
