"""Evaluating recalibration without leakage: every item's recalibrated confidence comes from
a map fitted on other items (K-fold cross-fitting), or a fixed held-out split; never in-sample."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

from calibench import metrics
from calibench.errors import CalibenchError
from calibench.metrics._inputs import check_inputs
from calibench.metrics.bootstrap import bootstrap_many
from calibench.metrics.registry import weighted_metrics
from calibench.recalibrate.maps import BASE_RATE, METHODS, fit


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


def _splits(p: np.ndarray, y: np.ndarray, folds, groups, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    if isinstance(folds, bool) or not isinstance(folds, int) or not 2 <= folds <= p.size:
        raise CalibenchError(f"folds must be an integer from 2 to the number of items ({p.size}), got {folds!r}")
    strata = _pooled(_strata(y, groups), folds)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():  # strata smaller than the fold count are expected with subjects
        warnings.simplefilter("ignore", UserWarning)
        return list(splitter.split(np.zeros(p.size), strata))


def _check_method(method: str) -> None:
    if method not in (*METHODS, BASE_RATE):
        raise CalibenchError(f"method must be one of {', '.join((*METHODS, BASE_RATE))}, got {method!r}")


def cross_fit(p, y, *, method: str = "temperature", folds: int = 5, groups=None, seed: int = 0) -> np.ndarray:
    """Out-of-fold recalibrated confidences: item i's value comes from a map fitted without it.

    Folds are stratified by ``groups`` (e.g. subject) when given, else by correctness, and
    shuffled with ``seed``; strata smaller than ``folds`` are pooled into one, with a warning
    (a ``--quick`` run has 3-4 answers per subject). ``method="base-rate"`` gives the
    out-of-fold baseline: each item gets the accuracy of the other folds.
    """
    _check_method(method)
    p, y = check_inputs(p, y)
    out = np.empty(p.size)
    for k, (train, test) in enumerate(_splits(p, y, folds, groups, seed)):
        out[test] = fit(p[train], y[train], method=method, seed=seed + k).transform(p[test])
    return out


PSEUDO = 2  # pseudo-answers at a category's table value (cross_fit_categories)


def cross_fit_categories(categories, p, y, *, folds: int = 5, groups=None, seed: int = 0) -> np.ndarray:
    """Out-of-fold confidences for a categorical confidence (one verbal expression per answer,
    ``p`` its fixed-table value): item i gets (right + PSEUDO * p_i) / (n + PSEUDO) over the
    items of its category in the other folds, the category's own accuracy pulled toward its
    table value where it is rare (and equal to it where the other folds never used it). Folds
    as :func:`cross_fit`."""
    p, y = check_inputs(p, y)
    labels = np.asarray(categories)
    if labels.shape != p.shape:
        raise CalibenchError(f"categories must hold one label per item ({p.size}), got shape {labels.shape}")
    out = np.empty(p.size)
    for train, test in _splits(p, y, folds, groups, seed):
        for label in np.unique(labels[test]):
            seen = train[labels[train] == label]
            held = test[labels[test] == label]
            out[held] = (y[seen].sum() + PSEUDO * p[held]) / (seen.size + PSEUDO)
    return out


def cross_fit_selected(p, y, *, methods: tuple[str, ...] = METHODS, folds: int = 5, groups=None, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Out-of-fold confidences from a method chosen without the held-out fold (nested cross-validation).

    In each outer fold, every method in ``methods`` is cross-fitted over ``folds`` inner folds
    of the training part alone and scored by its inner out-of-fold Brier score; the lowest
    (the first listed on a tie) is fitted on the whole training part and applied to the
    held-out fold. Returns the confidences and the method chosen in each outer fold. Reporting
    the best of several out-of-fold results instead would select on the evaluation data.
    """
    for method in methods:
        _check_method(method)
    if not methods:
        raise CalibenchError("methods must name at least one recalibration method")
    p, y = check_inputs(p, y)
    labels = None if groups is None else np.asarray(groups)
    out, chosen = np.empty(p.size), []
    for k, (train, test) in enumerate(_splits(p, y, folds, groups, seed)):
        inner = min(folds, train.size)
        with warnings.catch_warnings():  # the outer folds' pooling note already says it
            warnings.simplefilter("ignore", UserWarning)
            scores = {m: metrics.brier(cross_fit(p[train], y[train], method=m, folds=inner, seed=seed + k,
                                                 groups=None if labels is None else labels[train]), y[train]) for m in methods}
        best = min(methods, key=lambda m: scores[m])
        out[test] = fit(p[train], y[train], method=best, seed=seed + k).transform(p[test])
        chosen.append(best)
    return out, chosen


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


COMPARED = ("ece_debiased_l1", "ece", "brier", "brier_reliability", "brier_resolution", "auroc", "mean_confidence", "accuracy")


def compare(p, y, q, *, n_boot: int = 1000, seed: int = 0, n_bins: int = 10) -> dict:
    """Before (p) and after (q) on the same items: the headline ECE, the plug-in ECE, Brier and
    its parts, AUROC, each with its CI.

    The headline ECE is the bin-debiased one with its interval (:func:`calibench.metrics.ece_interval`:
    low end 0 unless calibration is rejected), so that an ECE near 0 after
    recalibration does not get an interval collapsed onto it. Recalibration should move the
    reliability term of the Brier score, not the resolution.
    """
    table = weighted_metrics(n_bins=n_bins)
    out: dict[str, dict] = {name: {} for name in COMPARED}
    for when, conf in (("before", p), ("after", q)):
        conf, y = check_inputs(conf, y)
        found = bootstrap_many({name: table[name] for name in COMPARED[1:]}, conf, y, n_boot=n_boot, seed=seed,
                               level=0.95, method="percentile")
        found[COMPARED[0]], _ = metrics.ece_interval(conf, y, n_bins=n_bins, n_boot=n_boot, seed=seed)
        for name in COMPARED:
            out[name][when] = found[name].to_dict()
    return out
