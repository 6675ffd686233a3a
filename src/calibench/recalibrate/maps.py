"""Post-hoc recalibration maps from stated confidence to the probability of being right.

Every method fits on (p, y) and returns a :class:`FrozenMap`, whose ``transform(p)``
applies it to any confidences: the same questions (never for evaluation: see
:mod:`calibench.recalibrate.crossfit`), held-out ones, or another run (transfer).

- ``shift``: p - (mean p - mean y), clipped to [0, 1]; the one-number baseline that removes
  the average overconfidence.
- ``temperature``: logit(p') = logit(p) / T, T fitted by minimum log loss; p is clipped to
  [1e-4, 1 - 1e-4] first, since stated 0% and 100% have infinite logits.
- ``platt``: logit(p') = a logit(p) + b (Platt scaling on the logit), by minimum log loss.
- ``isotonic``: the monotone step function of least squared error (scikit-learn).
- ``histogram``: 10 equal-mass bins of p, each mapped to its accuracy (Zadrozny and Elkan).
- ``scaling-binning`` (Kumar et al. 2019): Platt fitted on one half, then its outputs on
  the other half put into 10 equal-mass bins, each mapped to the mean Platt output in it.
- ``base-rate``: every confidence mapped to the accuracy of the fitted answers. Not a
  recalibration but its no-information baseline: perfectly calibrated on average and blind to
  which answers are right, it is what every map tends to when confidence carries no signal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, logit
from sklearn.isotonic import IsotonicRegression

from calibench.errors import CalibenchError
from calibench.metrics._inputs import check_confidences, check_inputs

METHODS = ("temperature", "platt", "isotonic", "histogram", "scaling-binning", "shift")
BASE_RATE = "base-rate"
_EPS = 1e-4
_BINS = 10


def _logits(p: np.ndarray) -> np.ndarray:
    return logit(np.clip(p, _EPS, 1 - _EPS))


def _log_loss(q: np.ndarray, y: np.ndarray) -> float:
    q = np.clip(q, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log1p(-q)))


def _fit_platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    res = minimize(lambda ab: _log_loss(expit(ab[0] * z + ab[1]), y), x0=np.array([1.0, 0.0]), method="Nelder-Mead",
                   options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 2000})
    return float(res.x[0]), float(res.x[1])


def _equal_mass_edges(x: np.ndarray, n_bins: int) -> np.ndarray:
    """Inner edges splitting sorted x into n_bins runs (ties kept together by the search below)."""
    qs = np.quantile(x, np.linspace(0, 1, n_bins + 1)[1:-1])
    return np.unique(qs)


def _bin_means(x: np.ndarray, targets: np.ndarray) -> tuple[list[float], list[float]]:
    """Equal-mass bins of x, each mapped to the mean of ``targets`` in it (the overall mean if empty)."""
    edges = _equal_mass_edges(x, _BINS)
    idx = np.searchsorted(edges, x, side="right")
    counts = np.bincount(idx, minlength=edges.size + 1)
    sums = np.bincount(idx, weights=targets, minlength=edges.size + 1)
    values = np.where(counts > 0, sums / np.maximum(counts, 1), targets.mean())
    return edges.tolist(), values.tolist()


@dataclass(frozen=True)
class FrozenMap:
    """A fitted recalibration map: ``method``, its parameters, and ``transform(p)``."""

    method: str
    params: dict = field(default_factory=dict)

    def transform(self, p) -> np.ndarray:
        """Recalibrated confidences for ``p`` (validated like any confidences), in [0, 1]."""
        p = check_confidences(p)
        m, k = self.method, self.params
        if m == BASE_RATE:
            out = np.full(p.shape, k["rate"])
        elif m == "shift":
            out = p - k["shift"]
        elif m == "temperature":
            out = expit(_logits(p) / k["temperature"])
        elif m == "platt":
            out = expit(k["a"] * _logits(p) + k["b"])
        elif m == "isotonic":
            out = np.interp(p, k["x"], k["y"])
        elif m == "histogram":
            out = np.asarray(k["values"])[np.searchsorted(k["edges"], p, side="right")]
        else:  # scaling-binning
            s = expit(k["a"] * _logits(p) + k["b"])
            out = np.asarray(k["values"])[np.searchsorted(k["edges"], s, side="right")]
        return np.clip(out, 0.0, 1.0)

    def to_dict(self) -> dict:
        return {"method": self.method, "params": {k: (list(map(float, v)) if isinstance(v, (list, np.ndarray)) else v) for k, v in self.params.items()}}


def fit(p, y, *, method: str = "temperature", seed: int = 0) -> FrozenMap:
    """Fit a recalibration map of ``method`` (see the module docstring) on (p, y).

    ``seed`` only matters for scaling-binning, whose halves are drawn at random.
    """
    if method not in (*METHODS, BASE_RATE):
        raise CalibenchError(f"method must be one of {', '.join((*METHODS, BASE_RATE))}, got {method!r}")
    p, y = check_inputs(p, y)
    y = y.astype(float)
    if method == BASE_RATE:
        return FrozenMap(method, {"rate": float(y.mean())})
    if method == "shift":
        return FrozenMap(method, {"shift": float(p.mean() - y.mean())})
    if method == "temperature":
        z = _logits(p)
        res = minimize(lambda lt: _log_loss(expit(z / np.exp(lt[0])), y), x0=np.array([0.0]), method="Nelder-Mead",
                       options={"xatol": 1e-8, "fatol": 1e-10})
        return FrozenMap(method, {"temperature": float(np.exp(res.x[0]))})
    if method == "platt":
        a, b = _fit_platt(_logits(p), y)
        return FrozenMap(method, {"a": a, "b": b})
    if method == "isotonic":
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p, y)
        return FrozenMap(method, {"x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()})
    if method == "histogram":
        edges, values = _bin_means(p, y)
        return FrozenMap(method, {"edges": edges, "values": values})
    # scaling-binning: scale on one half, bin the scaled values of the other half
    order = np.random.default_rng(seed).permutation(p.size)
    half = max(1, p.size // 2)
    first, second = order[:half], order[half:] if p.size > 1 else order
    a, b = _fit_platt(_logits(p[first]), y[first])
    s = expit(a * _logits(p[second]) + b)
    edges, values = _bin_means(s, s)
    return FrozenMap(method, {"a": a, "b": b, "edges": edges, "values": values})
