"""The noise floor: what a perfectly calibrated model would score, by simulation.

Plug-in calibration errors are biased upward at small n: even a perfectly calibrated model
scores ECE > 0. The floor says whether a measured value is distinguishable from zero.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass

import numpy as np

from calibench.errors import CalibenchError
from calibench.metrics._inputs import check_confidences, check_positive_int
from calibench.metrics.bootstrap import evaluate
from calibench.metrics.registry import WeightedMetric, resolve

_BLOCK_CELLS = 500_000  # simulations x atoms drawn at once (the bootstrap's block size)


@dataclass(frozen=True)
class NoiseFloor:
    """Mean and upper quantile of a metric for a perfectly calibrated model."""

    metric: str
    n: int
    mean: float
    upper: float
    quantile: float
    n_sims: int

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_scores(cls, metric: str, n: int, scores: np.ndarray, quantile: float = 0.95) -> NoiseFloor:
        """The floor of ``metric`` from its values over calibrated simulations (:func:`calibrated_scores`)."""
        return cls(metric, int(n), float(scores.mean()), float(np.quantile(scores, quantile)), quantile, int(scores.size))


def noise_floor(
    p,
    *,
    n: int | None = None,
    metric: str | WeightedMetric = "ece",
    n_sims: int = 1000,
    quantile: float = 0.95,
    seed: int = 0,
    **metric_options,
) -> NoiseFloor:
    """Simulate ``metric`` for a perfectly calibrated model with confidences like ``p``.

    Each simulation draws n confidences from the empirical distribution of ``p`` (default
    n = len(p)) and outcomes y ~ Bernoulli(confidence), so that calibration holds exactly
    in expectation, and scores them. Returns the mean and the ``quantile`` (default 95th
    percentile) over ``n_sims`` simulations. A measured ECE below the upper value cannot be
    told apart from perfect calibration at this n (see :func:`calibrated_scores`).
    """
    values = check_confidences(p)
    n = values.size if n is None else n
    check_positive_int("n", n)
    check_positive_int("n_sims", n_sims)
    if not 0 < quantile < 1:
        raise CalibenchError(f"quantile must lie in (0, 1), got {quantile!r}")
    scores = calibrated_scores(values, n=n, metric=resolve(metric, **metric_options), n_sims=n_sims, seed=seed)
    name = metric if isinstance(metric, str) else "metric"
    return NoiseFloor.from_scores(name, n, scores, quantile)


def calibrated_scores(values: np.ndarray, *, n: int, metric: WeightedMetric, n_sims: int, seed: int) -> np.ndarray:
    """``metric`` over ``n_sims`` simulated perfectly calibrated samples of size n (validated confidences).

    Each draws n confidences from the empirical distribution of ``values`` and outcomes y ~
    Bernoulli(confidence): consistency resampling (Broecker and Smith 2007). The simulations
    are rows of counts over (confidence, outcome) pairs, scored together.
    """
    levels, value_level, freq = np.unique(values, return_inverse=True, return_counts=True)
    rng = np.random.default_rng(seed)
    # atoms (level, 0) and (level, 1), interleaved so that they stay sorted by p then y
    atom_p = np.repeat(levels, 2)
    atom_y = np.tile([0.0, 1.0], levels.size)
    # a binomial per level and simulation costs several times an item drawn: the multinomial
    # while that stays cheap or the levels are few against n, items otherwise
    if levels.size * 4 < n or levels.size * n_sims <= 1_000_000:
        drawn = rng.multinomial(n, freq / values.size, size=n_sims)
        right = rng.binomial(drawn, levels)
        weights = np.empty((n_sims, 2 * levels.size))
        weights[:, 0::2] = drawn - right
        weights[:, 1::2] = right
        return evaluate(metric, atom_p, atom_y, weights)
    return evaluate(metric, atom_p, atom_y, _drawn_items(rng, value_level.reshape(-1), levels, n, n_sims))


def _drawn_items(rng: np.random.Generator, value_level: np.ndarray, levels: np.ndarray, n: int, n_sims: int) -> Iterator[np.ndarray]:
    """The simulations drawn item by item, in blocks of rows of counts over the atoms.

    The same distribution as the multinomial: each row draws n of the values (their levels
    ``value_level``) with replacement and an outcome for each, counted row by row as the
    bootstrap does; the blocks are evaluated as they come, never all held at once.
    """
    width = 2 * levels.size
    step = max(1, _BLOCK_CELLS // width)
    for start in range(0, n_sims, step):
        level = value_level[rng.integers(0, value_level.size, size=(min(step, n_sims - start), n))]
        atoms = 2 * level + (rng.random(level.shape) < levels[level])
        counts = np.empty((atoms.shape[0], width))
        for row, drawn in enumerate(atoms):
            counts[row] = np.bincount(drawn, minlength=width)
        yield counts
