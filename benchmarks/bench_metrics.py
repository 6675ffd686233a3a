"""calibench's metrics beside the reference libraries and a plain-numpy floor, in one run.

Usage: python benchmarks/bench_metrics.py [--quick]

Run by ``make bench`` in .venv-golden, which holds the peers (scikit-learn, netcal,
relplot, uncertainty-calibration, torchmetrics); a peer that is not installed is skipped.
One thread everywhere. Confidences are stated percentages on a 5% grid, as verbalized
confidences are, or continuous (uniform), as letter probabilities are; outcomes are
Bernoulli(p - 0.12). n = 300 (the reference study), 14,042 (all of MMLU) and 10^6.

Every comparison is timed interleaved (A, B, A, B, ...: each gets the same repeats under
the same machine load) and reported as medians with each time as a ratio to calibench's;
the targets of issue 14 are printed with their ratios at the end.
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

from calibench import metrics  # noqa: E402

warnings.filterwarnings("ignore")


def interleaved(fns: dict, repeats: int) -> dict[str, list[float]]:
    """Each function's times over ``repeats`` rounds, one call of each per round, in turn."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def data(n: int, seed: int = 0, grid: bool = True):
    rng = np.random.default_rng(seed)
    p = rng.choice(np.arange(40, 101, 5), n) / 100 if grid else rng.uniform(size=n)
    y = (rng.uniform(size=n) < np.clip(p - 0.12, 0, 1)).astype(np.int64)
    return p, y


def numpy_ece(p, y, n_bins=10):
    """The floor: a plain bincount ECE, as a user would write it (no validation)."""
    idx = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    sp = np.bincount(idx, weights=p, minlength=n_bins)
    sy = np.bincount(idx, weights=y, minlength=n_bins)
    return np.abs(sp - sy).sum() / p.size


def numpy_bootstrap(p, y, n_boot: int = 1000, seed: int = 0):
    """The floor for a bootstrap: a loop over resamples drawn item by item, each scored by ``numpy_ece``."""
    rng = np.random.default_rng(seed)
    out = np.empty(n_boot)
    for b in range(n_boot):
        idx = rng.integers(p.size, size=p.size)
        out[b] = numpy_ece(p[idx], y[idx])
    return np.quantile(out, [0.025, 0.975])


def peers_ece():
    out = {}
    try:
        import relplot.metrics

        out["relplot binnedECE"] = lambda p, y: relplot.metrics.binnedECE(p, y, nbins=10)
    except ImportError:
        pass
    try:
        import torch
        from torchmetrics.functional.classification import binary_calibration_error

        torch.set_num_threads(1)
        out["torchmetrics"] = lambda p, y: binary_calibration_error(torch.from_numpy(p), torch.from_numpy(y), n_bins=10)
    except ImportError:
        pass
    try:
        from sklearn.calibration import calibration_curve

        def sklearn_ece(p, y):
            prob_true, prob_pred = calibration_curve(y, p, n_bins=10)
            counts = np.bincount(np.searchsorted(np.linspace(0, 1, 11)[1:-1], p), minlength=10)
            counts = counts[counts > 0]
            return np.sum(counts * np.abs(prob_true - prob_pred)) / p.size

        out["scikit-learn"] = sklearn_ece
    except ImportError:
        pass
    try:
        from netcal.metrics import ECE

        out["netcal"] = lambda p, y: ECE(bins=10).measure(p, y)
    except ImportError:
        pass
    try:
        from calibration import utils as kumar

        out["uncertainty-calibration"] = lambda p, y: kumar.get_ece(p, y, num_bins=10)
    except ImportError:
        pass
    return out


def table(title: str, times: dict[str, list[float]], reference: str) -> dict[str, float]:
    """Print medians, each as a ratio to ``reference``'s, and the range over repeats; return the medians."""
    med = {name: statistics.median(t) for name, t in times.items()}
    repeats = len(times[reference])
    print(f"\n{title} (median of {repeats} interleaved repeats)")
    for name, t in times.items():
        spread = f"{min(t) * 1e3:.2f}-{max(t) * 1e3:.2f} ms"
        print(f"  {name:<38} {med[name] * 1e3:10.2f} ms   {med[name] / med[reference]:8.2f}x {reference}   range {spread}")
    return med


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repeats, skip the slowest peers")
    args = parser.parse_args()
    peers = peers_ece()
    targets = []

    for n in (300, 14_042, 1_000_000):
        p, y = data(n)
        fns = {"calibench ece": lambda: metrics.ece(p, y), "numpy bincount (floor)": lambda: numpy_ece(p, y)}
        slow = n == 1_000_000 and args.quick
        fns |= {name: (lambda fn=fn: fn(p, y)) for name, fn in peers.items() if not (slow and name == "uncertainty-calibration")}
        repeats = (5 if args.quick else 15) if n == 1_000_000 else (11 if args.quick else 31)
        med = table(f"ECE, 10 equal-width bins, n = {n:,}, 5% grid", interleaved(fns, repeats), "calibench ece")
        if n == 1_000_000:
            targets.append(("ECE at n = 10^6: calibench / numpy floor", med["calibench ece"] / med["numpy bincount (floor)"], 1.5))

    n_boot = 1000
    for grid in (True, False):
        p, y = data(14_042, grid=grid)
        kind = "5% grid" if grid else "continuous"
        fns = {
            "calibench bootstrap_ci": lambda: metrics.bootstrap_ci(p, y, "ece", n_boot=n_boot),
            "loop over numpy bincount (floor)": lambda: numpy_bootstrap(p, y, n_boot),
        }
        med = table(f"1,000-resample bootstrap CI of ECE, n = 14,042, {kind}", interleaved(fns, 3 if args.quick else 7), "calibench bootstrap_ci")
        if not grid:
            targets.append(("bootstrap CI of ECE, continuous: calibench / numpy loop", med["calibench bootstrap_ci"] / med["loop over numpy bincount (floor)"], 1.0))
        if grid:  # the peers looped over the same resamples, once each (they take seconds)
            index = np.random.default_rng(0).integers(0, p.size, size=(n_boot, p.size))
            names = [m for m in ("relplot binnedECE", "netcal", "uncertainty-calibration") if m in peers and not (args.quick and m == "uncertainty-calibration")]
            loops = {"calibench bootstrap_ci": fns["calibench bootstrap_ci"]}
            loops |= {f"loop over {m}": (lambda fn=peers[m]: [fn(p[i], y[i]) for i in index]) for m in names}
            table(f"1,000-resample bootstrap CI of ECE, n = 14,042, {kind}: the peers", interleaved(loops, 1), "calibench bootstrap_ci")

    for grid in (True, False):
        p, y = data(14_042, grid=grid)
        kind = "5% grid" if grid else "continuous"
        times = interleaved({"calibench panel (all metrics + CIs)": lambda: metrics.panel(p, y)}, 3 if args.quick else 7)
        med = table(f"The whole panel with 1,000-resample CIs, n = 14,042, {kind}", times, "calibench panel (all metrics + CIs)")
        targets.append((f"panel, {kind}: seconds", med["calibench panel (all metrics + CIs)"], 1.0 if grid else 2.0))

    pc, yc = data(1_000_000, grid=False)
    fns = {"calibench smece": lambda: metrics.smece(pc, yc)}
    try:
        import relplot

        fns["relplot smECE"] = lambda: relplot.smECE(pc, yc)
    except ImportError:
        pass
    table("smECE with automatic bandwidth, n = 10^6, continuous", interleaved(fns, 3 if args.quick else 7), "calibench smece")

    print("\nTargets (issue 14), medians from this run:")
    for what, value, limit in targets:
        print(f"  {what:<58} {value:6.2f}   target <= {limit:g}: {'met' if value <= limit else 'MISSED'}")


if __name__ == "__main__":
    main()
