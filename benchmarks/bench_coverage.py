"""How often the calibration-error intervals contain the true calibration error, by simulation.

Usage: python benchmarks/bench_coverage.py [--reps R] [--only K ...]

Each scenario fixes a distribution of confidences p, a true accuracy q(p) at each confidence
and a sample size n. A replication draws n confidences and outcomes y ~ Bernoulli(q(p)) and
computes, with 1,000 bootstrap resamples and 1,000 calibrated simulations as a study does:

- the plug-in ECE (10 equal-width bins) and its 95% percentile bootstrap interval (what the
  reference study reports, and calibench's headline before issue 14);
- the headline now: the bin-debiased ECE and its interval (percentile bootstrap, low end 0
  unless the consistency-resampling test rejects calibration; ``calibench.metrics.ece_interval``).

The truth is the population value of the same binned ECE, sum_b P(b) |E[p|b] - E[q(p)|b]|,
computed exactly (grid confidences) or by quadrature on 10^6 points (continuous ones).
Coverage is the share of replications whose interval contains the truth; with R replications
its Monte Carlo standard error is about sqrt(0.95 * 0.05 / R) (0.7 points at R = 1,000).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import stats

from calibench import metrics
from calibench.metrics.ece_interval import ece_interval

GRID = np.round(np.arange(0.30, 1.0001, 0.05), 2)
# verbalized-like: most answers at 90-100%, as small models state them
HIGH = np.round(np.arange(0.50, 1.0001, 0.05), 2)
HIGH_WEIGHTS = np.array([1, 1, 1, 2, 2, 4, 6, 10, 14, 20, 24], dtype=float)


@dataclass(frozen=True)
class Confidences:
    name: str
    draw: Callable[[np.random.Generator, int], np.ndarray]
    support: np.ndarray  # the levels (grid) or quadrature points (continuous)
    mass: np.ndarray  # probability of each support point


def _grid(name: str, levels: np.ndarray, weights: np.ndarray) -> Confidences:
    prob = weights / weights.sum()
    return Confidences(name, lambda rng, n: rng.choice(levels, n, p=prob), levels, prob)


def _continuous(name: str, dist) -> Confidences:
    lo, hi = dist.support()
    edges = np.linspace(max(lo, 0.0), min(hi, 1.0), 1_000_001)
    mid = (edges[1:] + edges[:-1]) / 2
    mass = np.diff(dist.cdf(edges))
    return Confidences(name, lambda rng, n: dist.rvs(size=n, random_state=rng), mid, mass / mass.sum())


CONFIDENCES = {
    "grid": _grid("5% grid, 30-100%", GRID, np.ones(GRID.size)),
    "grid-high": _grid("5% grid piled at 90-100%", HIGH, HIGH_WEIGHTS),
    "continuous": _continuous("uniform on [0.3, 1]", stats.uniform(0.3, 0.7)),
    "letter": _continuous("Beta(5, 1), letter-probability-like", stats.beta(5, 1)),
}

TRUTHS: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    "calibrated": ("q = p", lambda p: p),
    "minus1": ("q = p - 0.01", lambda p: np.clip(p - 0.01, 0, 1)),
    "minus3": ("q = p - 0.03", lambda p: np.clip(p - 0.03, 0, 1)),
    "minus10": ("q = p - 0.1", lambda p: np.clip(p - 0.1, 0, 1)),
    "minus15": ("q = p - 0.15", lambda p: np.clip(p - 0.15, 0, 1)),
    "under5": ("q = p + 0.05 (underconfident)", lambda p: np.clip(p + 0.05, 0, 1)),
    "study": ("q = 0.55 p (study-like)", lambda p: 0.55 * p),
    "square": ("q = p^2", lambda p: p**2),
}

# (confidences, truth, n): the five at n = 300, then small and large n
SCENARIOS = [
    ("grid", "calibrated", 300),
    ("continuous", "calibrated", 300),
    ("grid", "minus3", 300),
    ("continuous", "minus10", 300),
    ("grid", "study", 300),
    ("grid", "calibrated", 100),
    ("grid", "minus3", 100),
    ("grid-high", "minus15", 100),
    ("grid-high", "calibrated", 300),
    ("grid-high", "under5", 300),
    ("continuous", "minus3", 1000),
    ("letter", "calibrated", 1000),
    ("letter", "square", 1000),
    ("grid", "minus3", 14042),
    ("continuous", "minus1", 14042),
    ("letter", "minus3", 14042),
]


def true_ece(conf: Confidences, q: Callable[[np.ndarray], np.ndarray], n_bins: int = 10) -> float:
    """sum_b P(b) |E[p | b] - E[q(p) | b]| over calibench's equal-width bins."""
    from calibench.metrics.binning import uniform_bin_index

    b = uniform_bin_index(conf.support, n_bins)
    gap = np.bincount(b, weights=conf.mass * (conf.support - q(conf.support)), minlength=n_bins)
    return float(np.abs(gap).sum())


def replicate(conf: Confidences, q, n: int, reps: int, *, seed: int = 0, n_boot: int = 1000, n_sims: int = 1000) -> dict:
    """Coverage and mean values over ``reps`` simulated studies of one scenario."""
    truth = true_ece(conf, q)
    rng = np.random.default_rng(seed)
    plug, plug_cover, deb, cover, width, rejected = [], [], [], [], [], []
    for r in range(reps):
        p = conf.draw(rng, n)
        y = (rng.uniform(size=n) < q(p)).astype(np.int64)
        plain = metrics.bootstrap_ci(p, y, "ece", n_boot=n_boot, seed=r)
        est, test = ece_interval(p, y, n_boot=n_boot, n_sims=n_sims, seed=r)
        plug.append(plain.value)
        plug_cover.append(plain.low <= truth <= plain.high)
        deb.append(est.value)
        cover.append(est.low <= truth <= est.high)
        width.append(est.high - est.low)
        rejected.append(test.rejected)
    return {
        "truth": truth,
        "plug_in": float(np.mean(plug)),
        "plug_in_coverage": float(np.mean(plug_cover)),
        "debiased": float(np.mean(deb)),
        "coverage": float(np.mean(cover)),
        "width": float(np.mean(width)),
        "rejected": float(np.mean(rejected)),
        "reps": reps,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000, help="replications per scenario")
    parser.add_argument("--only", nargs="*", help="scenario indices (1-based) to run")
    args = parser.parse_args()
    print("| # | confidences | truth | n | true ECE | mean plug-in | plug-in 95% CI covers | mean debiased | headline CI covers | mean width | calibration rejected | reps |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for k, (c, t, n) in enumerate(SCENARIOS, 1):
        if args.only and str(k) not in args.only:
            continue
        start = time.perf_counter()
        r = replicate(CONFIDENCES[c], TRUTHS[t][1], n, args.reps, seed=k)
        print(f"| {k} | {CONFIDENCES[c].name} | {TRUTHS[t][0]} | {n:,} | {r['truth']:.3f} | {r['plug_in']:.3f} | "
              f"{r['plug_in_coverage']:.1%} | {r['debiased']:.3f} | {r['coverage']:.1%} | {r['width']:.3f} | "
              f"{r['rejected']:.1%} | {args.reps} |", flush=True)
        print(f"<!-- scenario {k}: {time.perf_counter() - start:.0f} s -->", flush=True)


if __name__ == "__main__":
    main()
