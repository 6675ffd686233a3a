"""The headline calibration error: a bin-debiased ECE with an interval that covers the truth.

The plug-in ECE (:func:`calibench.metrics.ece`) is biased upward: within a bin the sampling
noise of the accuracy adds to the gap, so a perfectly calibrated model scores about 0.04 at
n = 300, and a percentile bootstrap of the plug-in value, being centred above it, almost never
contains a small true error (docs/statistics.md measures it). What is estimated here is the
population value of the same binned ECE,

    ECE* = sum_b P(bin b) |E[p | b] - P(y = 1 | b)|,

which equals the canonical E|p - P(y = 1 | p)| whenever miscalibration keeps its sign within
each bin.

- **Estimate** (:func:`calibench.metrics.ece_debiased_l1`): per bin, the squared gap (conf_b - acc_b)^2 overstates
  the true squared gap by the variance of acc_b, so its unbiased estimate acc_b (1 - acc_b) /
  (n_b - 1) is subtracted (the per-bin correction of Kumar, Liang and Ma 2019), clipped at 0
  and square-rooted, and the bins are weighted n_b / n as in the ECE. Bins holding one item
  keep their plug-in gap. Same bins as the plug-in ECE (equal width, left-closed).
- **Interval**: from one set of bootstrap resamples, the low end is the 2.5% percentile of the
  bin-debiased estimate and the high end the 97.5% percentile of the plug-in ECE. The plug-in
  over-estimates every bin's gap (E|gap_b| >= |true gap_b|, |.| being convex), so its upper
  percentile is a conservative high end; the debiased estimate lies below it (its root is at
  most |gap_b| in every bin) and, when the error is moderate and n large, slightly below the
  truth (the root of a noisy square), so its percentile interval alone under-covers there (91%
  in the coverage simulation) while this one does not. The low end is 0 whenever a test of
  perfect calibration does not reject at 1 - level: consistency resampling (Broecker and
  Smith 2007; Vaicenavicius et al. 2019), the plug-in ECE against its distribution under a
  perfectly calibrated model with the same confidences at the same n (the noise floor).
  Extending the interval to 0 only adds coverage; at a true ECE of 0 it covers as often as
  the test does not reject falsely.

``benchmarks/bench_coverage.py`` measures the coverage by simulation (grid and continuous
confidences, calibrated to strongly miscalibrated, n from 100 to 14,042).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import partial

import numpy as np

from calibench.errors import CalibenchError
from calibench.metrics._inputs import check_inputs, check_positive_int
from calibench.metrics.bootstrap import Estimate, bootstrap_many
from calibench.metrics.calibration_error import ece_w
from calibench.metrics.noise_floor import calibrated_scores
from calibench.metrics.registry import weighted_metrics


@dataclass(frozen=True)
class CalibrationTest:
    """Consistency-resampling test of perfect calibration on the plug-in ECE.

    ``p_value`` is (1 + the simulations scoring at least ``statistic``) / (1 + ``n_sims``);
    ``rejected`` is ``p_value < 1 - level``.
    """

    statistic: float
    p_value: float
    rejected: bool
    level: float
    n_sims: int

    def to_dict(self) -> dict:
        return asdict(self)


def calibration_test(p, y, *, n_bins: int = 10, n_sims: int = 1000, level: float = 0.95, seed: int = 0) -> CalibrationTest:
    """Test perfect calibration: is the plug-in ECE larger than a calibrated model's would be?

    Simulates ``n_sims`` samples of the same size whose confidences are drawn from ``p`` and
    whose outcomes are Bernoulli(confidence), scores each with the plug-in ECE, and compares
    the observed value (Broecker and Smith 2007's consistency resampling; the simulations are
    the noise floor's, :func:`calibench.metrics.noise_floor`).
    """
    check_positive_int("n_bins", n_bins)
    check_positive_int("n_sims", n_sims)
    if not 0 < level < 1:
        raise CalibenchError(f"level must lie in (0, 1), got {level!r}")
    p, y = check_inputs(p, y)
    ece = partial(ece_w, n_bins=n_bins)
    scores = calibrated_scores(p, n=p.size, metric=ece, n_sims=n_sims, seed=seed)
    return test_from_scores(float(ece(p, y, None)[0]), scores, level)


def test_from_scores(statistic: float, scores: np.ndarray, level: float) -> CalibrationTest:
    """The test's verdict for an observed plug-in ECE, given calibrated simulations' ECEs."""
    # a simulation that ties the observed value up to rounding counts as reaching it
    p_value = (1 + int(np.sum(scores >= statistic - 1e-12))) / (1 + scores.size)
    return CalibrationTest(statistic, p_value, bool(p_value < 1 - level), level, int(scores.size))


def with_test(debiased: Estimate, plug_in: Estimate, test: CalibrationTest) -> Estimate:
    """The headline interval from the same resamples' bin-debiased and plug-in ECEs: the
    debiased estimate, from its lower percentile (0 unless ``test`` rejected calibration) to the
    plug-in's upper percentile (module docstring)."""
    low = debiased.low if test.rejected else 0.0
    high = max(plug_in.high, debiased.high)
    method = f"{debiased.method}: low end the debiased ECE's (0 unless calibration is rejected), high end the plug-in's"
    return Estimate(debiased.value, low, high, debiased.level, method, debiased.n_boot)


def ece_interval(
    p,
    y,
    *,
    n_bins: int = 10,
    n_boot: int = 1000,
    n_sims: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    groups=None,
) -> tuple[Estimate, CalibrationTest]:
    """The bin-debiased ECE with its interval, and the calibration test that sets its low end.

    ``groups`` resamples whole groups in the bootstrap (see :func:`calibench.metrics.bootstrap_ci`).
    """
    check_positive_int("n_boot", n_boot)
    test = calibration_test(p, y, n_bins=n_bins, n_sims=n_sims, level=level, seed=seed)
    p, y = check_inputs(p, y)
    table = weighted_metrics(n_bins=n_bins)
    found = bootstrap_many({name: table[name] for name in ("ece_debiased_l1", "ece")}, p, y, n_boot=n_boot, seed=seed,
                           level=level, method="percentile", groups=groups)
    return with_test(found["ece_debiased_l1"], found["ece"], test), test
