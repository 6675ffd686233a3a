"""Input validation and the weighted representation every metric computes on.

Each metric has one implementation, written for *weighted atoms*: confidences ``p`` (K,),
outcomes ``y`` (K,) in {0, 1}, and weights ``w`` that are either None (each atom weighs 1,
the plain per-item case) or an (R, K) matrix, one row of counts per replicate. A bootstrap
resample is such a row of counts over the distinct (p, y) pairs, so R resamples are computed
at once, with no Python loop over items or resamples. Weighted atoms come sorted by p, then
y; plain items may come in any order (metrics that need order sort them, ``sort_items``).
"""

from __future__ import annotations

import numpy as np
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

    ``idx`` gives each atom's bin, either fixed (K,) or per replicate (R, K). One bincount
    over row-offset indices does every replicate at once.
    """
    if w is None:
        flat = idx.reshape(-1)
        out = [np.bincount(flat, minlength=n_bins)[None, :].astype(np.float64)]
        return out + binned_value_sums(flat, n_bins, *values)
    if idx.ndim == 1:  # bins shared by all replicates: sparse products, one per quantity
        onehot = sparse.csr_matrix((np.ones(idx.size), (idx, np.arange(idx.size))), shape=(n_bins, idx.size))
        out = [np.asarray(onehot @ w.T).T]
        out += [np.asarray(onehot.multiply(v[None, :]).tocsr() @ w.T).T for v in values]
        return out
    rows = w.shape[0]
    flat = (idx + n_bins * np.arange(rows)[:, None]).reshape(-1)
    size = rows * n_bins
    out = [np.bincount(flat, weights=w.reshape(-1), minlength=size).reshape(rows, n_bins)]
    out += [np.bincount(flat, weights=(w * v).reshape(-1), minlength=size).reshape(rows, n_bins) for v in values]
    return out


def binned_value_sums(idx: np.ndarray, n_bins: int, *values: np.ndarray) -> list[np.ndarray]:
    """Per-bin sums of each per-item value, each of shape (1, n_bins), for unweighted items."""
    return [np.bincount(idx, weights=v, minlength=n_bins)[None, :] for v in values]


def rowwise_searchsorted(sorted_rows: np.ndarray, queries: np.ndarray, side: str) -> np.ndarray:
    """``np.searchsorted`` applied row by row, done as one call.

    ``sorted_rows`` (R, M) is sorted within each row and ``queries`` is (R, Q); all values
    are non-negative integers (stored as floats or ints, exact below 2**53). Each row is
    shifted by ``row * span`` so that the concatenation stays sorted and one searchsorted
    serves all rows.
    """
    rows, m = sorted_rows.shape
    span = max(float(sorted_rows.max(initial=0)), float(queries.max(initial=0))) + 1.0
    offset = span * np.arange(rows)[:, None]
    pos = np.searchsorted((sorted_rows + offset).reshape(-1), (queries + offset).reshape(-1), side=side)
    return pos.reshape(queries.shape) - m * np.arange(rows)[:, None]
