"""Recalibration: post-hoc maps, fitted and evaluated on held-out folds only."""

from calibench.recalibrate.crossfit import compare, cross_fit, cross_fit_selected, holdout
from calibench.recalibrate.maps import BASE_RATE, METHODS, FrozenMap, fit

__all__ = ["BASE_RATE", "METHODS", "FrozenMap", "compare", "cross_fit", "cross_fit_selected", "fit", "holdout"]
