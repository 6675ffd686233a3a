"""Evaluating recalibration without leakage: every item's recalibrated confidence comes from
a map fitted on other items (K-fold cross-fitting), or a fixed held-out split; never in-sample."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

from calibench import metrics
from calibench.errors import CalibenchError
from calibench.metrics._inputs import check_inputs
from calibench.recalibrate.maps import METHODS, fit


def _strata(y: np.ndarray, groups) -> np.ndarray:
    if groups is None:
        return y.astype(int)
    labels = np.asarray(groups)
    if labels.shape != y.shape:
        raise CalibenchError(f"groups must hold one label per item ({y.size}), got shape {labels.shape}")
    return np.unique(labels, return_inverse=True)[1].reshape(-1)


def _pooled(strata: np.ndarray, folds: int) -> np.ndarray:
    """Strata with fewer members than folds pooled into one (into the largest stratum if the pool
    is still too small), so that stratified folds exist; a warning says what was done."""
    labels, counts = np.unique(strata, return_counts=True)
    small = labels[counts < folds]
    if small.size == 0:
        return strata
    out = strata.copy()
    pool = labels.max() + 1
    out[np.isin(strata, small)] = pool
    if np.sum(out == pool) < folds:
        big = labels[counts >= folds]
        out[out == pool] = big[np.argmax(counts[counts >= folds])] if big.size else pool
    message = f"{small.size} of {labels.size} strata have fewer than {folds} items: pooled into one for the folds"
    if labels.size == small.size:
        message = f"every stratum has fewer than {folds} items: folds are not stratified"
    warnings.warn(message, UserWarning, stacklevel=3)
    return out


def cross_fit(p, y, *, method: str = "temperature", folds: int = 5, groups=None, seed: int = 0) -> np.ndarray:
    """Out-of-fold recalibrated confidences: item i's value comes from a map fitted without it.

    Folds are stratified by ``groups`` (e.g. subject) when given, else by correctness, and
    shuffled with ``seed``; strata smaller than ``folds`` are pooled into one, with a warning
    (a ``--quick`` run has 3-4 answers per subject).
    """
    if method not in METHODS:
        raise CalibenchError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    p, y = check_inputs(p, y)
    if isinstance(folds, bool) or not isinstance(folds, int) or not 2 <= folds <= p.size:
        raise CalibenchError(f"folds must be an integer from 2 to the number of items ({p.size}), got {folds!r}")
    strata = _pooled(_strata(y, groups), folds)
    out = np.empty(p.size)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():  # strata smaller than the fold count are expected with subjects
        warnings.simplefilter("ignore", UserWarning)
        splits = list(splitter.split(np.zeros(p.size), strata))
    for k, (train, test) in enumerate(splits):
        out[test] = fit(p[train], y[train], method=method, seed=seed + k).transform(p[test])
    return out


def holdout(p, y, *, method: str = "temperature", test_size: float = 0.5, groups=None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Fit on one part, recalibrate the other: returns (indices of the held-out items, their values)."""
    p, y = check_inputs(p, y)
    if not 0 < test_size < 1:
        raise CalibenchError(f"test_size must lie in (0, 1), got {test_size!r}")
    index = np.arange(p.size)
    strata = _strata(y, groups)
    try:
        train, test = train_test_split(index, test_size=test_size, random_state=seed, stratify=strata)
    except ValueError:  # a stratum too small to split: fall back to a plain random split
        train, test = train_test_split(index, test_size=test_size, random_state=seed)
    return np.sort(test), fit(p[train], y[train], method=method, seed=seed).transform(p[np.sort(test)])


def compare(p, y, q, *, n_boot: int = 1000, seed: int = 0, n_bins: int = 10) -> dict:
    """Before (p) and after (q) on the same items: ECE, Brier and its parts, AUROC, with CIs.

    Recalibration should move the reliability term of the Brier score, not the resolution.
    """
    out = {}
    for name in ("ece", "brier", "brier_reliability", "brier_resolution", "auroc", "mean_confidence", "accuracy"):
        before = metrics.bootstrap_ci(p, y, name, n_boot=n_boot, seed=seed, n_bins=n_bins)
        after = metrics.bootstrap_ci(q, y, name, n_boot=n_boot, seed=seed, n_bins=n_bins)
        out[name] = {"before": before.to_dict(), "after": after.to_dict()}
    return out
