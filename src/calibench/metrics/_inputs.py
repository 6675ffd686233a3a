"""Input validation and the weighted representation every metric computes on.

Each metric has one implementation, written for *weighted atoms*: confidences ``p`` (K,),
outcomes ``y`` (K,) in {0, 1}, and weights ``w`` that are either None (each atom weighs 1,
the plain per-item case) or an (R, K) matrix, one row of counts (whole numbers) per
replicate. A bootstrap resample is such a row of counts over the distinct (p, y) pairs, so R
resamples are computed at once, with no Python loop over items or resamples. Weighted atoms
come sorted by p, then y, so that any bin (a range of confidence) is a contiguous run of
atoms; plain items may come in any order (metrics that need order sort them, ``sort_items``).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import sparse

from calibench.errors import CalibenchError

def check_inputs(p, y) -> tuple[np.ndarray, np.ndarray]:
    """Validate confidences ``p`` in [0, 1] and outcomes ``y`` in {0, 1}; return them as arrays.

    ``p`` comes back as float64; ``y`` as float64, or as given when it is an integer array
    (booleans become uint8). Raises :class:`CalibenchError` naming the problem: empty input,
    a length mismatch, a value that is not a finite number, a confidence outside [0, 1] or
    an outcome other than 0 or 1.
    """
    p = check_confidences(p)
    y = np.asarray(y)
    if y.dtype == bool:
        y = y.view(np.uint8)
    elif not np.issubdtype(y.dtype, np.integer):
        y = _as_1d(y, "y", np.float64)
    if y.ndim != 1:
        raise CalibenchError(f"y must be one-dimensional, got shape {y.shape}")
    if p.shape != y.shape:
        raise CalibenchError(f"p and y differ in length ({p.size} vs {y.size})")
    in_range = y.min() >= 0 and y.max() <= 1
    if not in_range or (y.dtype.kind == "f" and np.any((y > 0) & (y < 1))):
        not_binary = (y != 0) & (y != 1)
        i = int(np.argmax(not_binary))
        raise CalibenchError(f"y must hold only 0 and 1; found {float(y[i])!r} at index {i}")
    return p, y


def check_confidences(p) -> np.ndarray:
    """Validate a non-empty 1-D array of confidences in [0, 1]; return it as float64."""
    p = _as_1d(p, "p", np.float64)
    if p.size == 0:
        raise CalibenchError("empty input: no confidences given")
    # min/max first: two fast passes that NaN also fails; the detail only when something is off
    if not (p.min() >= 0.0 and p.max() <= 1.0):
        bad = ~np.isfinite(p)
        if bad.any():
            i = int(np.argmax(bad))
            raise CalibenchError(f"p holds {int(bad.sum())} value(s) that are not finite numbers (first: {float(p[i])} at index {i})")
        out = (p < 0.0) | (p > 1.0)
        i = int(np.argmax(out))
        raise CalibenchError(f"p holds {int(out.sum())} value(s) outside [0, 1] (first: {float(p[i])!r} at index {i})")
    return p


def _as_1d(x, name: str, dtype) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError):
        raise CalibenchError(f"{name} must be a sequence of numbers") from None
    if arr.ndim != 1:
        raise CalibenchError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def check_choice(name: str, value, allowed: tuple) -> None:
    if value not in allowed:
        raise CalibenchError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")


def check_positive_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise CalibenchError(f"{name} must be a positive integer, got {value!r}")


def distinct_levels(sorted_p: np.ndarray) -> np.ndarray:
    """For confidences sorted ascending, each one's rank among the distinct values."""
    new = np.ones(sorted_p.size, dtype=np.int64)
    new[0] = 0
    new[1:] = sorted_p[1:] != sorted_p[:-1]
    return np.cumsum(new)


def level_bounds(sorted_p: np.ndarray) -> np.ndarray:
    """For confidences sorted ascending, where each run of equal values starts, then K: (V + 1,)."""
    return np.flatnonzero(np.r_[True, sorted_p[1:] != sorted_p[:-1], True])


def level_ends(sorted_p: np.ndarray) -> np.ndarray:
    """For confidences sorted ascending, the index just past each one's run of equal values."""
    bounds = level_bounds(sorted_p)
    return np.repeat(bounds[1:], np.diff(bounds))


def sort_items(p: np.ndarray, y: np.ndarray, w):
    """Atoms come sorted by p; plain items (w None) are sorted here, stably, when a metric needs order."""
    if w is not None:
        return p, y
    order = np.argsort(p, kind="stable")
    return p[order], y[order]


def total(w, k: int) -> np.ndarray:
    """The number of items per replicate: shape (1,) for w None, (R,) otherwise."""
    return np.array([float(k)]) if w is None else w.sum(axis=1)


def wsum(w, x: np.ndarray) -> np.ndarray:
    """Per-replicate weighted sum of a per-atom quantity: (1,) for w None, (R,) otherwise."""
    return np.array([x.sum()]) if w is None else w @ x


def binned_sums(w, idx: np.ndarray, n_bins: int, *values: np.ndarray) -> list[np.ndarray]:
    """Per-replicate, per-bin sums of the weights and of each value, each of shape (R, n_bins).

    ``idx`` gives each atom's bin, shared by all replicates. For plain items (w None) one
    bincount per quantity; weighted atoms come sorted by p and ``idx`` is then non-decreasing
    (bins are ranges of confidence), so each bin is a contiguous run of atoms.
    """
    if w is None:
        out = [np.bincount(idx, minlength=n_bins)[None, :].astype(np.float64)]
        return out + binned_value_sums(idx, n_bins, *values)
    return segment_sums(w, np.searchsorted(idx, np.arange(n_bins + 1)), None, *values)


def binned_value_sums(idx: np.ndarray, n_bins: int, *values: np.ndarray) -> list[np.ndarray]:
    """Per-bin sums of each per-item value, each of shape (1, n_bins), for unweighted items."""
    return [np.bincount(idx, weights=v, minlength=n_bins)[None, :] for v in values]


# Up to this many non-empty shared bins, one dense matrix product per bin (all quantities in
# one read of w) beats one sparse product over all bins; measured on (35-284, 14042) rows.
_DENSE_BINS = 128


def segment_sums(w: np.ndarray, bounds: np.ndarray, *values) -> list[np.ndarray]:
    """Per-replicate sums of w * v over contiguous runs of atoms, one (R, B) array per value.

    Bin j holds the atoms a with bounds[j] <= a < bounds[j + 1]; ``bounds`` (B + 1,) is
    shared by every replicate, or (R, B + 1) gives each replicate its own; either runs from 0
    to K. A value of None sums the weights themselves. When every bin is a single atom, the
    sums are w * v itself, and for None ``w`` is returned as it is (not a copy).
    """
    rows, k = w.shape
    starts, ends = bounds[..., :-1], bounds[..., 1:]
    full = starts < ends  # bins that hold atoms; the others sum to 0
    n_bins = starts.shape[-1]
    if bounds.ndim == 1:
        if full.all() and n_bins == k:
            return [w if v is None else w * v for v in values]
        table = np.column_stack([np.ones(k) if v is None else v for v in values])
        bins = np.flatnonzero(full)
        if bins.size > _DENSE_BINS:
            # one sparse product w @ S, S (K, values x bins) holding each atom's values in its bin's columns
            nv = table.shape[1]
            cols = np.repeat(np.arange(n_bins), ends - starts)[:, None] + n_bins * np.arange(nv)
            onehot = sparse.csr_matrix((table.ravel(), cols.ravel(), np.arange(0, k * nv + 1, nv)), shape=(k, nv * n_bins))
            return list(np.asarray(w @ onehot).reshape(rows, nv, n_bins).transpose(1, 0, 2))
        sums = np.zeros((len(values), rows, n_bins))
        for j in bins:
            sums[:, :, j] = (w[:, starts[j] : ends[j]] @ table[starts[j] : ends[j]]).T
        return list(sums)
    sums = np.zeros((len(values), rows, n_bins))
    # per-replicate bins: one reduceat over the flattened rows, at the non-empty bins' starts
    # (each then runs to the next start, which is its own end or the next row's first atom)
    flat = (starts + k * np.arange(rows)[:, None])[full]
    for out, v in zip(sums, values):
        out[full] = np.add.reduceat((w if v is None else w * v).reshape(-1), flat)
    return list(sums)


class RunningCounts:
    """Prefix sums of whole-number weights (R, K) over atoms sorted by p, all replicates in one array.

    ``flat[r * K + a]`` is the total of the rows before r plus row r's weights on the atoms
    before a. One integer cumulative sum over the flattened rows gives it (exact, and about
    four times as fast as a float one, whose additions wait on each other); with
    non-negative weights it is sorted, so one searchsorted serves every replicate.
    """

    def __init__(self, w: np.ndarray):
        rows, self.k = w.shape
        self.flat = np.zeros(rows * self.k + 1, dtype=np.int64)
        np.cumsum(w.reshape(-1).astype(np.int64), out=self.flat[1:])
        self.offset = self.flat[:: self.k]  # (R + 1,): the total of the rows before each row
        self.total = np.diff(self.offset)

    def before(self, rows: np.ndarray, atoms: np.ndarray) -> np.ndarray:
        """Each row's weight on the atoms before ``atoms`` (L, Q), for replicates ``rows`` (L,)."""
        return self.flat[self.k * rows[:, None] + atoms] - self.offset[rows, None]

    def per_bin(self, rows: np.ndarray, bounds: np.ndarray) -> np.ndarray:
        """Each row's weight in each bin of ``bounds`` (L, B + 1) (see ``segment_sums``), for replicates ``rows``."""
        return np.diff(self.flat[self.k * rows[:, None] + bounds], axis=1)

    def at(self, bounds: np.ndarray) -> np.ndarray:
        """``flat`` at atoms ``bounds`` (B,) of every row, (R, B): row r's weight before each, plus ``offset[r]``.

        Differences along a row are weights between bounds; with every atom a bound, a view.
        """
        if np.array_equal(bounds, np.arange(self.k + 1)):
            return sliding_window_view(self.flat, self.k + 1)[:: self.k]
        return self.flat[self.k * np.arange(self.offset.size - 1)[:, None] + bounds]

    def holding(self, rows: np.ndarray, ranks: np.ndarray) -> np.ndarray:
        """The atom that holds the item of each 0-based integer rank (L, Q), for replicates ``rows`` (L,)."""
        pos = np.searchsorted(self.flat, ranks + self.offset[rows, None], side="right") - 1
        return pos - self.k * rows[:, None]


_last: dict[bool, tuple] = {}


def running_counts(w: np.ndarray, y: np.ndarray | None = None) -> RunningCounts:
    """:class:`RunningCounts` of the items (``y`` None) or of the right answers (w * y) of weighted atoms.

    Every metric evaluated on a block of bootstrap rows needs these, so the last one of each
    kind is remembered, keyed on the identity of ``w`` and ``y``: weights and outcomes are
    never modified in place, and the memo holds them, so that their ids cannot be reused.
    """
    last = _last.get(y is None)
    if last is not None and last[0] is w and last[1] is y:
        return last[2]
    counts = RunningCounts(w if y is None else w * y)
    _last[y is None] = (w, y, counts)
    return counts


def item_and_right_counts(y: np.ndarray, w) -> tuple[RunningCounts, RunningCounts]:
    """Running counts of the items and of the right answers: shared across metrics for weight
    rows (``running_counts``), fresh for plain items (w None), which nothing else shares."""
    if w is None:
        ones = np.ones((1, y.size))
        return RunningCounts(ones), RunningCounts(ones * y)
    return running_counts(w), running_counts(w, y)
