"""calibench's metrics beside the reference libraries and a plain-numpy floor, in one run.

Usage: python benchmarks/bench_metrics.py [--quick]

Run by ``make bench`` in .venv-golden, which holds the peers (scikit-learn, netcal,
relplot, uncertainty-calibration, torchmetrics); a peer that is not installed is skipped.
One thread everywhere. Confidences are stated percentages on a 5% grid, as verbalized
confidences are; n = 300 (the reference study), 14,042 (all of MMLU) and 10^6. Prints
medians and each time as a ratio to calibench's.
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


def median_s(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def data(n: int, seed: int = 0, grid: bool = True):
    rng = np.random.default_rng(seed)
    p = rng.choice(np.arange(40, 101, 5), n) / 100 if grid else rng.uniform(size=n)
    y = (rng.uniform(size=n) < np.clip(p - 0.12, 0, 1)).astype(np.int64)
    return p, y


def numpy_ece(p, y, n_bins=10):
    """The floor: a plain bincount ECE, as a user would write it (no validation)."""
    idx = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    cnt = np.bincount(idx, minlength=n_bins)
    sp = np.bincount(idx, weights=p, minlength=n_bins)
    sy = np.bincount(idx, weights=y, minlength=n_bins)
    return np.abs(sp - sy).sum() / p.size


def peers_ece():
    out = {"numpy bincount (floor)": numpy_ece}
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


def table(title: str, rows: list[tuple[str, float]], reference: str) -> None:
    base = dict(rows)[reference]
    print(f"\n{title}")
    for name, t in rows:
        print(f"  {name:<34} {t * 1e3:10.2f} ms   {t / base:8.2f}x {reference}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repeats, skip the slowest peers at 10^6")
    args = parser.parse_args()
    peers = peers_ece()

    for n in (300, 14_042, 1_000_000):
        p, y = data(n)
        repeats = 5 if n == 1_000_000 else 21
        rows = [("calibench ece", median_s(lambda: metrics.ece(p, y), repeats))]
        for name, fn in peers.items():
            if n == 1_000_000 and args.quick and name == "uncertainty-calibration":
                continue
            rows.append((name, median_s(lambda fn=fn: fn(p, y), 3 if n == 1_000_000 else repeats)))
        table(f"ECE, 10 equal-width bins, n = {n:,} (median)", rows, "calibench ece")

    p, y = data(14_042)
    n_boot = 1000
    rng = np.random.default_rng(0)
    index = rng.integers(0, p.size, size=(n_boot, p.size))

    def loop(fn):
        return lambda: [fn(p[i], y[i]) for i in index]

    rows = [("calibench bootstrap_ci", median_s(lambda: metrics.bootstrap_ci(p, y, "ece", n_boot=n_boot), 7))]
    rows.append(("loop over numpy bincount", median_s(loop(numpy_ece), 3)))
    for name in ("relplot binnedECE", "netcal", "uncertainty-calibration"):
        if name in peers and not (args.quick and name == "uncertainty-calibration"):
            rows.append((f"loop over {name}", median_s(loop(peers[name]), 1)))
    table("1,000-resample bootstrap CI of ECE, n = 14,042 (median)", rows, "calibench bootstrap_ci")

    rows = [("calibench panel (all metrics + CIs)", median_s(lambda: metrics.panel(p, y), 5))]
    table("The whole panel with 1,000-resample CIs, n = 14,042 (median; target < 1 s)", rows, "calibench panel (all metrics + CIs)")

    pc, yc = data(1_000_000, grid=False)
    rows = [("calibench smece", median_s(lambda: metrics.smece(pc, yc), 5))]
    try:
        import relplot

        rows.append(("relplot smECE", median_s(lambda: relplot.smECE(pc, yc), 3)))
    except ImportError:
        pass
    table("smECE with automatic bandwidth, n = 10^6, continuous confidences (median)", rows, "calibench smece")


if __name__ == "__main__":
    main()
