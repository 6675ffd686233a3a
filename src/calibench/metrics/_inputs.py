"""Input validation and the weighted representation every metric computes on.

Each metric has one implementation, written for *weighted atoms*: confidences ``p`` (K,),
outcomes ``y`` (K,) in {0, 1}, and weights ``w`` that are either None (each atom weighs 1,
the plain per-item case) or an (R, K) matrix, one row of counts per replicate. A bootstrap
resample is such a row of counts over the distinct (p, y) pairs, so R resamples are computed
at once, with no Python loop over items or resamples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from calibench.errors import CalibenchError

def check_inputs(p, y) -> tuple[np.ndarray, np.ndarray]:
    """Validate confidences ``p`` in [0, 1] and outcomes ``y`` in {0, 1}; return float64 arrays.

    Raises :class:`CalibenchError` naming the problem: empty input, a length mismatch, a
    value that is not a finite number, a confidence outside [0, 1] or an outcome other than
    0 or 1 (booleans are accepted).
    """
    p = _as_1d(p, "p")
    y = _as_1d(y, "y")
    if p.size == 0:
        raise CalibenchError("empty input: no confidences given")
    if p.shape != y.shape:
        raise CalibenchError(f"p and y differ in length ({p.size} vs {y.size})")
    bad = ~np.isfinite(p)
    if bad.any():
        i = int(np.argmax(bad))
        raise CalibenchError(f"p holds {int(bad.sum())} value(s) that are not finite numbers (first: {float(p[i])} at index {i})")
    out = (p < 0.0) | (p > 1.0)
    if out.any():
        i = int(np.argmax(out))
        raise CalibenchError(f"p holds {int(out.sum())} value(s) outside [0, 1] (first: {float(p[i])!r} at index {i})")
    not_binary = (y != 0.0) & (y != 1.0)
    if not_binary.any():
        i = int(np.argmax(not_binary))
        raise CalibenchError(f"y must hold only 0 and 1; found {float(y[i])!r} at index {i}")
    return p, y


def _as_1d(x, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=np.float64)
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


@dataclass(frozen=True)
class Atoms:
    """The distinct (p, y) pairs of a sample, sorted by p then y, with their counts."""

    p: np.ndarray
    y: np.ndarray
    counts: np.ndarray

    @property
    def level(self) -> np.ndarray:
        """Each atom's rank among the distinct confidences (0 for the smallest)."""
        return distinct_levels(self.p)

    @classmethod
    def from_items(cls, p: np.ndarray, y: np.ndarray) -> tuple[Atoms, np.ndarray]:
        """Compress items to atoms; also return each item's atom index."""
        keys = np.stack([p, y])
        order = np.lexsort(keys[::-1])
        sp, sy = p[order], y[order]
        new = np.ones(p.size, dtype=bool)
        new[1:] = (sp[1:] != sp[:-1]) | (sy[1:] != sy[:-1])
        atom_of_sorted = np.cumsum(new) - 1
        index = np.empty(p.size, dtype=np.int64)
        index[order] = atom_of_sorted
        counts = np.bincount(atom_of_sorted).astype(np.float64)
        return cls(p=sp[new], y=sy[new], counts=counts), index


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
        flat, rows = idx.reshape(-1), 1
        out = [np.bincount(flat, minlength=n_bins)[None, :].astype(np.float64)]
        out += [np.bincount(flat, weights=v, minlength=n_bins)[None, :] for v in values]
        return out
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
