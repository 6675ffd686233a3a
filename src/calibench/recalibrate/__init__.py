"""Recalibration: post-hoc maps, fitted and evaluated on held-out folds only."""

from calibench.recalibrate.crossfit import compare, cross_fit, holdout
from calibench.recalibrate.maps import METHODS, FrozenMap, fit

__all__ = ["METHODS", "FrozenMap", "compare", "cross_fit", "fit", "holdout"]
