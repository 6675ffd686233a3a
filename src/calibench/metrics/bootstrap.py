"""Bootstrap confidence intervals: percentile and BCa, plain, paired and clustered.

Resampling counts, not items: a resample of n items drawn with replacement is a row of
counts over the distinct (confidence, outcome) pairs, drawn as one multinomial. All
resamples are evaluated together by the metrics' weighted forms, so 1,000 resamples of a
study cost a few matrix products, not 1,000 calls.

- Plain: items resampled independently.
- Cluster (``groups=``): whole groups (e.g. subjects) resampled with replacement, for data
  whose items are not independent.
- Paired (:mod:`calibench.metrics.paired`): the same question indices drawn for two models,
  for the CI of a difference between them on the same questions.

BCa (Efron 1987) corrects the percentile interval for bias (z0, from the share of
resamples below the estimate) and skew (the acceleration, from a jackknife that leaves
out one item, or one group; with more than ``MAX_JACKKNIFE`` of them, one of that many
random equal blocks).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import partial

import numpy as np
from scipy.stats import norm

from calibench.errors import CalibenchError
from calibench.metrics._inputs import check_choice, check_inputs, check_positive_int
from calibench.metrics.registry import WeightedMetric, resolve

METHODS = ("percentile", "bca")
MAX_JACKKNIFE = 2000
_CHUNK_CELLS = 500_000  # replicate rows x atoms evaluated at once: bounds memory, and keeps each array in cache


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its bootstrap confidence interval."""

    value: float
    low: float
    high: float
    level: float
    method: str
    n_boot: int

    def to_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in asdict(self).items()}


class _Design:
    """Atoms (columns) shared by the models being resampled, and how rows of counts are drawn."""

    def __init__(self, columns: list[np.ndarray], groups=None):
        stacked = np.stack(columns)
        keys, inverse = np.unique(stacked, axis=1, return_inverse=True)
        self.atoms = keys  # (n_columns, K)
        self.item_atom = inverse.reshape(-1)
        self.n = stacked.shape[1]
        k = keys.shape[1]
        self.counts = np.bincount(self.item_atom, minlength=k).astype(np.float64)
        if groups is None:
            self.group_atoms = None
        else:
            labels = np.asarray(groups)
            if labels.shape != (self.n,):
                raise CalibenchError(f"groups must hold one label per item ({self.n}), got shape {labels.shape}")
            _, g = np.unique(labels, return_inverse=True)
            g = g.reshape(-1)
            n_groups = int(g.max()) + 1
            if n_groups < 2:
                raise CalibenchError("a cluster bootstrap needs at least 2 groups")
            self.group_atoms = np.zeros((n_groups, k))
            np.add.at(self.group_atoms, (g, self.item_atom), 1.0)

    def draw(self, rng: np.random.Generator, rows: int) -> np.ndarray:
        """``rows`` rows of counts (R, K)."""
        return np.concatenate(list(self.draw_blocks(rng, rows)))

    def draw_blocks(self, rng: np.random.Generator, rows: int) -> Iterator[np.ndarray]:
        """The rows of :meth:`draw`, block by block as ``evaluate_many`` takes them: the same
        random stream, without holding all R x K counts at once."""
        step = max(1, _CHUNK_CELLS // self.counts.size)
        for start in range(0, rows, step):
            yield self._draw(rng, min(step, rows - start))

    def _draw(self, rng: np.random.Generator, rows: int) -> np.ndarray:
        if self.group_atoms is not None:
            n_groups = self.group_atoms.shape[0]
            picks = rng.multinomial(n_groups, np.full(n_groups, 1.0 / n_groups), size=rows)
            return picks @ self.group_atoms
        k = self.counts.size
        if k * 4 < self.n:  # few distinct pairs: one multinomial per row is cheapest
            return rng.multinomial(self.n, self.counts / self.n, size=rows).astype(np.float64)
        # items drawn with replacement, counted row by row: a bincount over K bins stays in
        # cache, where one over rows * K scatters across memory
        out = np.empty((rows, k))
        for row, atoms in enumerate(self.item_atom[rng.integers(0, self.n, size=(rows, self.n))]):
            out[row] = np.bincount(atoms, minlength=k)
        return out

    def jackknife(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Leave-one-out weight rows and how many units each row stands for."""
        if self.group_atoms is not None:
            units = self.group_atoms
            if units.shape[0] > MAX_JACKKNIFE:
                block = rng.permutation(units.shape[0]) % MAX_JACKKNIFE
                units = np.stack([units[block == b].sum(axis=0) for b in range(MAX_JACKKNIFE)])
            return units.sum(axis=0)[None, :] - units, np.ones(units.shape[0])
        k = self.counts.size
        if k <= MAX_JACKKNIFE:
            return self.counts[None, :] - np.eye(k), self.counts.copy()
        block = rng.permutation(self.n) % MAX_JACKKNIFE
        units = np.zeros((MAX_JACKKNIFE, k))
        np.add.at(units, (block, self.item_atom), 1.0)
        return self.counts[None, :] - units, np.ones(MAX_JACKKNIFE)


def _recycle_block_memory() -> None:
    """Have the heap recycle the memory of block-sized temporaries instead of mapping it anew.

    glibc's malloc serves each array above its threshold from a fresh mapping, whose every
    page then faults in on first touch, and raises the threshold (up to 32 MiB) only when
    such a mapping is freed. Freeing one unused 30 MB array first does that: about 40% less
    time for the panel's metrics on continuous confidences at n = 14,042. Elsewhere a no-op.
    """
    primer = np.empty(30_000_000, dtype=np.uint8)
    del primer


def evaluate(metric: WeightedMetric, p: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """A weighted metric over replicate rows ``w`` (R, K) (see :func:`evaluate_many`)."""
    return evaluate_many({"metric": metric}, p, y, w)["metric"]


def evaluate_many(metrics: dict[str, WeightedMetric], p: np.ndarray, y: np.ndarray, w) -> dict[str, np.ndarray]:
    """Weighted metrics over replicate rows of counts over atoms ``p``, ``y`` (K,).

    ``w`` is an (R, K) array of rows, or an iterable of blocks of rows (``_Design.draw_blocks``).
    The rows go in blocks that bound memory and stay in cache, every metric on one block
    before the next, so that the metrics share what they compute alike on it
    (``running_counts``). Metrics see the atoms sorted by p, then y.
    """
    order = None
    if not np.all((p[1:] > p[:-1]) | ((p[1:] == p[:-1]) & (y[1:] >= y[:-1]))):  # a design's atoms already are
        order = np.lexsort((y, p))
        p, y = p[order], y[order]
    blocks = w
    if isinstance(w, np.ndarray):
        step = max(1, _CHUNK_CELLS // max(1, p.size))
        blocks = (w[start : start + step] for start in range(0, w.shape[0], step))
    _recycle_block_memory()
    values: dict[str, list] = {name: [] for name in metrics}
    for block in blocks:
        block = block if order is None else block[:, order]
        for name, metric in metrics.items():
            values[name].append(metric(p, y, block))
    return {name: np.concatenate(parts) for name, parts in values.items()}


def _interval(theta_hat: float, boot: np.ndarray, jack, level: float, method: str) -> tuple[float, float, int]:
    boot = boot[~np.isnan(boot)]
    if np.isnan(theta_hat) or boot.size == 0:
        return np.nan, np.nan, int(boot.size)
    alpha = (1 - level) / 2
    if method == "percentile":
        lo, hi = np.quantile(boot, [alpha, 1 - alpha])
        return float(lo), float(hi), int(boot.size)
    below = (np.sum(boot < theta_hat) + 0.5 * np.sum(boot == theta_hat)) / boot.size
    if below <= 0 or below >= 1:  # all resamples on one side: no bias correction is possible
        return float(boot.min()), float(boot.max()), int(boot.size)
    z0 = norm.ppf(below)
    theta_jack, mult = jack
    ok = ~np.isnan(theta_jack)
    theta_jack, mult = theta_jack[ok], mult[ok]
    dev = np.average(theta_jack, weights=mult) - theta_jack
    denom = 6 * np.sum(mult * dev**2) ** 1.5
    accel = float(np.sum(mult * dev**3) / denom) if denom > 0 else 0.0
    z = norm.ppf([alpha, 1 - alpha])
    adjusted = norm.cdf(z0 + (z0 + z) / (1 - accel * (z0 + z)))
    lo, hi = np.quantile(boot, adjusted)
    return float(lo), float(hi), int(boot.size)


def _check_options(n_boot: int, level: float, method: str) -> None:
    check_positive_int("n_boot", n_boot)
    check_choice("method", method, METHODS)
    if not 0 < level < 1:
        raise CalibenchError(f"level must lie in (0, 1), got {level!r}")


def _estimate(statistic, boot: np.ndarray, design: _Design, jack, level: float, method: str) -> Estimate:
    """Point value and (for BCa) jackknife values of ``statistic(w)`` with its resampled values
    ``boot``, as an Estimate."""
    theta_hat = float(statistic(design.counts[None, :])[0])
    jack_values = (statistic(jack[0]), jack[1]) if jack is not None else None
    lo, hi, valid = _interval(theta_hat, boot, jack_values, level, method)
    return Estimate(theta_hat, lo, hi, level, method, valid)


def _resamples(design: _Design, n_boot: int, seed: int, method: str):
    rng = np.random.default_rng(seed)
    weights = design.draw(rng, n_boot)
    return weights, (design.jackknife(rng) if method == "bca" else None)


def bootstrap_many(
    metrics: dict[str, WeightedMetric],
    p: np.ndarray,
    y: np.ndarray,
    *,
    n_boot: int,
    seed: int,
    level: float,
    method: str,
    groups=None,
) -> dict[str, Estimate]:
    """Several metrics over the same resamples (validated inputs); used by the panel."""
    design = _Design([p, y], groups)
    ap, ay = design.atoms
    rng = np.random.default_rng(seed)  # as _resamples: the rows, then the jackknife
    boot = evaluate_many(metrics, ap, ay, design.draw_blocks(rng, n_boot))
    jack = design.jackknife(rng) if method == "bca" else None
    return {name: _estimate(partial(evaluate, metric, ap, ay), boot[name], design, jack, level, method) for name, metric in metrics.items()}


def bootstrap_ci(
    p,
    y,
    metric: str | WeightedMetric = "ece",
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    method: str = "percentile",
    groups=None,
    **metric_options,
) -> Estimate:
    """A metric's value with its bootstrap CI (percentile or BCa), seeded.

    ``metric`` names a panel metric (``calibench.metrics.registry.weighted_metrics``;
    ``n_bins`` and ``coverage`` are passed on) or is a weighted function. With ``groups``
    the resampling unit is the group (cluster bootstrap). Resamples where the metric is
    undefined (AUROC with one class) are left out; ``n_boot`` of the result counts those kept.
    """
    _check_options(n_boot, level, method)
    p, y = check_inputs(p, y)
    name = metric if isinstance(metric, str) else "metric"
    fn = resolve(metric, **metric_options)
    return bootstrap_many({name: fn}, p, y, n_boot=n_boot, seed=seed, level=level, method=method, groups=groups)[name]
