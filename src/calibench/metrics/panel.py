"""The whole metrics panel in one call, every scalar with a bootstrap CI."""

from __future__ import annotations

from dataclasses import dataclass


from calibench.errors import CalibenchError
from calibench.metrics._inputs import check_inputs, check_positive_int
from calibench.metrics.binning import ReliabilityBins, reliability_bins
from calibench.metrics.bootstrap import Estimate, _check_options, bootstrap_many
from calibench.metrics.calibration_error import ece_sweep_w
from calibench.metrics.ece_interval import CalibrationTest, test_from_scores, with_test
from calibench.metrics.noise_floor import NoiseFloor, calibrated_scores
from calibench.metrics.registry import weighted_metrics
from calibench.metrics.smooth import smece_w

PANEL_VERSION = 2  # 2: the bin-debiased ECE with its calibration test


@dataclass(frozen=True)
class Panel:
    """Every metric of one (model, protocol) sample, with CIs, reliability bins and the noise floor.

    ``metrics`` maps each name of :func:`calibench.metrics.registry.weighted_metrics` to an
    :class:`Estimate`; ``panel["ece"].value`` reads one. ``options`` records how it was
    computed, so that a stored panel describes itself. ``metrics["ece_debiased_l1"]`` is the
    headline calibration error; its interval's low end is 0 unless ``calibration_test``
    rejected perfect calibration (:mod:`calibench.metrics.ece_interval`).
    """

    n: int
    metrics: dict[str, Estimate]
    reliability: ReliabilityBins
    reliability_distinct: ReliabilityBins
    noise_floor: NoiseFloor
    calibration_test: CalibrationTest
    smece_sigma: float
    ece_sweep_bins: int
    options: dict

    def __getitem__(self, name: str) -> Estimate:
        return self.metrics[name]

    def to_dict(self) -> dict:
        """A JSON-serialisable dict (NaN as null)."""
        return {
            "panel_version": PANEL_VERSION,
            "n": self.n,
            "options": dict(self.options),
            "metrics": {name: est.to_dict() for name, est in self.metrics.items()},
            "reliability": self.reliability.to_dict(),
            "reliability_distinct": self.reliability_distinct.to_dict(),
            "noise_floor": self.noise_floor.to_dict(),
            "calibration_test": self.calibration_test.to_dict(),
            "smece_sigma": self.smece_sigma,
            "ece_sweep_bins": self.ece_sweep_bins,
        }


def panel(
    p,
    y,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    n_bins: int = 10,
    level: float = 0.95,
    method: str = "percentile",
    groups=None,
    coverage: float = 0.5,
    noise_sims: int = 1000,
) -> Panel:
    """Compute the whole panel for confidences ``p`` and outcomes ``y``.

    Every scalar (accuracy, mean confidence, gap, the ECE family, Brier and its parts, NLL,
    AUROC, AURC, accuracy at ``coverage``) gets a seeded bootstrap CI at ``level``, all from
    the same ``n_boot`` resamples (``groups`` switches to a cluster bootstrap). Reliability
    bins come with Wilson intervals, equal-width (``n_bins``) and per distinct confidence;
    the noise floor is the ECE of a perfectly calibrated model with these confidences at
    this n (mean and 95th percentile over ``noise_sims`` simulations), and the same
    simulations test perfect calibration, which sets the low end of the headline
    ``ece_debiased_l1`` interval. Binned metrics use ``n_bins`` (default 10, the reference
    study's setting).
    """
    _check_options(n_boot, level, method)
    check_positive_int("n_bins", n_bins)
    check_positive_int("noise_sims", noise_sims)
    if not 0 < coverage <= 1:
        raise CalibenchError(f"coverage must lie in (0, 1], got {coverage!r}")
    p, y = check_inputs(p, y)
    table = weighted_metrics(n_bins=n_bins, coverage=coverage)
    estimates = bootstrap_many(table, p, y, n_boot=n_boot, seed=seed, level=level, method=method, groups=groups)
    scores = calibrated_scores(p, n=p.size, metric=table["ece"], n_sims=noise_sims, seed=seed)
    floor = NoiseFloor.from_scores("ece", p.size, scores)
    test = test_from_scores(estimates["ece"].value, scores, level)
    estimates["ece_debiased_l1"] = with_test(estimates["ece_debiased_l1"], estimates["ece"], test)
    _, sigma = smece_w(p, y, None)
    _, sweep_bins = ece_sweep_w(p, y, None)
    return Panel(
        n=int(p.size),
        metrics=estimates,
        reliability=reliability_bins(p, y, n_bins=n_bins, strategy="uniform", interval=level),
        reliability_distinct=reliability_bins(p, y, strategy="distinct", interval=level),
        noise_floor=floor,
        calibration_test=test,
        smece_sigma=float(sigma[0]),
        ece_sweep_bins=int(sweep_bins[0]),
        options={
            "n_boot": n_boot,
            "seed": seed,
            "n_bins": n_bins,
            "level": level,
            "method": method,
            "coverage": coverage,
            "clustered": groups is not None,
            "noise_sims": noise_sims,
            "bin_rule": "uniform bins left-closed [k/B, (k+1)/B), 1.0 in the last bin",
        },
    )

