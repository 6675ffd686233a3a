"""Proper scores: the Brier score with its Murphy decomposition, and the negative log-likelihood."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from calibench.errors import CalibenchError
from calibench.metrics._inputs import check_choice, check_inputs, check_positive_int, sort_items, total, wsum
from calibench.metrics.binning import STRATEGIES, bin_sums

NLL_EPS = 1e-6


def brier_w(p, y, w) -> np.ndarray:
    return wsum(w, (p - y) ** 2) / total(w, p.size)


def brier(p, y) -> float:
    """The Brier score, mean((p - y)^2): 0 is perfect, 0.25 is a constant 50% on a fair coin."""
    p, y = check_inputs(p, y)
    return float(brier_w(p, y, None)[0])


def nll_w(p, y, w, *, eps: float = NLL_EPS) -> np.ndarray:
    pc = np.clip(p, eps, 1 - eps)
    return -wsum(w, y * np.log(pc) + (1 - y) * np.log1p(-pc)) / total(w, p.size)


def nll(p, y, *, eps: float = NLL_EPS) -> float:
    """Negative log-likelihood (log loss, natural log) with p clipped to [eps, 1 - eps].

    Verbalized confidences of exactly 0% or 100% would make a wrong answer cost infinity;
    the clip (default 1e-6, i.e. at most 13.8 nats per item) keeps the mean finite. With
    the same eps this equals scikit-learn's ``log_loss``.
    """
    p, y = check_inputs(p, y)
    if not 0 < eps < 0.5:
        raise CalibenchError(f"eps must lie in (0, 0.5), got {eps!r}")
    return float(nll_w(p, y, None, eps=eps)[0])


@dataclass(frozen=True)
class BrierDecomposition:
    """brier = reliability - resolution + uncertainty + within_bin, exactly."""

    brier: float
    reliability: float
    resolution: float
    uncertainty: float
    within_bin: float

    def to_dict(self) -> dict:
        return asdict(self)


def brier_decomposition_w(p, y, w, *, n_bins: int = 10, strategy: str = "uniform") -> dict[str, np.ndarray]:
    p, y = sort_items(p, y, w) if strategy != "uniform" else (p, y)
    cnt, sp, sy, spp, spy = bin_sums(p, w, n_bins, strategy, p, y, p * p, p * y)
    n = cnt.sum(axis=1, keepdims=True)
    base = sy.sum(axis=1, keepdims=True) / n
    with np.errstate(invalid="ignore", divide="ignore"):
        fbar = np.where(cnt > 0, sp / cnt, 0.0)
        obar = np.where(cnt > 0, sy / cnt, 0.0)
    reliability = (cnt * (fbar - obar) ** 2).sum(axis=1) / n[:, 0]
    resolution = (cnt * (obar - base) ** 2).sum(axis=1) / n[:, 0]
    uncertainty = (base * (1 - base))[:, 0]
    # Within-bin spread of the forecasts and its covariance with the outcomes (Stephenson
    # et al. 2008): sum (f - fbar)^2 - 2 sum (f - fbar)(o - obar), per bin.
    within = ((spp - cnt * fbar**2) - 2 * (spy - fbar * sy - obar * sp + cnt * fbar * obar)).sum(axis=1) / n[:, 0]
    return {
        "brier": brier_w(p, y, w),
        "reliability": reliability,
        "resolution": resolution,
        "uncertainty": uncertainty,
        "within_bin": within,
    }


def brier_decomposition(p, y, *, n_bins: int = 10, strategy: str = "uniform") -> BrierDecomposition:
    """Murphy's decomposition of the Brier score over bins, made exact.

    With bins b holding n_b items of mean forecast f_b and outcome rate o_b, and overall
    rate o: reliability = sum (n_b/n)(f_b - o_b)^2 (miscalibration; recalibration should
    shrink it), resolution = sum (n_b/n)(o_b - o)^2 (how well confidence sorts right from
    wrong; recalibration should keep it), uncertainty = o(1 - o). Binning forecasts adds a
    within-bin term (Stephenson, Coelho and Jolliffe 2008) so that brier = reliability -
    resolution + uncertainty + within_bin holds to rounding. With ``strategy="distinct"``
    the within-bin term is 0.
    """
    check_choice("strategy", strategy, STRATEGIES)
    check_positive_int("n_bins", n_bins)
    p, y = check_inputs(p, y)
    parts = brier_decomposition_w(p, y, None, n_bins=n_bins, strategy=strategy)
    return BrierDecomposition(**{k: float(v[0]) for k, v in parts.items()})
