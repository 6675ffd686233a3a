"""Smooth ECE (smECE, Blasiok and Nakkiran 2024) with its automatic bandwidth.

smECE_sigma smooths the residuals r_i = p_i - y_i with a Gaussian kernel of width sigma,
reflected at 0 and 1, and integrates the absolute smoothed residual against the smoothed
density of confidences. smECE is smECE_sigma at the fixpoint sigma* = smECE_sigma*(.), found
by bisection. This follows the authors' reference implementation (relplot 1.0.3) step for
step, so the two agree to rounding: confidences are spread linearly onto a grid of
max(2000, round(20 / sigma)) // 2 + 1 points, the kernel is applied by discrete
convolution, the result is interpolated onto max(200, round(10 / sigma)) evaluation points,
a density floor of 1e-4 is added, and the bisection runs 10 halvings from [0, 1] (any sigma
below 1e-3 counts as a fixpoint). What differs is speed: the grid sums are computed once
per grid size and reused across the bisection, and bootstrap replicates are convolved
together through the FFT (equal to direct convolution to about 1e-12).
"""

from __future__ import annotations

import numpy as np

from calibench.metrics._inputs import check_inputs, segment_sums

_DENSITY_FLOOR = 1e-4
_SIGMA_FLOOR = 1e-3
_REFINE = 10
_MIN_MESH = 200


def _grid_size(sigma: np.ndarray) -> np.ndarray:
    return np.maximum(2000, np.round(20 / sigma)).astype(np.int64) // 2 + 1  # np.round halves to even, as round()


def _kernel(sigma, size: int) -> np.ndarray:
    """The Gaussian kernel on ``size`` points, one row per bandwidth when ``sigma`` is a column (S, 1)."""
    t = np.linspace(0, 1, size)
    return np.exp(-(t - 0.5) * (t - 0.5) / (2 * sigma**2)) / (np.sqrt(2 * np.pi) * sigma)


def _spread_matrix(p: np.ndarray, size: int):
    """Linear interpolation weights of each confidence onto the grid: (lower index, upper weight)."""
    lower = (p * (size - 1)).astype(np.int64).clip(0, size - 2)
    frac = p * (size - 1) - lower
    return lower, frac


class _Grids:
    """Grid sums of residuals and of weights for every replicate, computed once per grid size.

    For many replicates the grids are also kept in the Fourier domain, so that each
    bisection step costs one inverse FFT per quantity, whatever each row's bandwidth.
    """

    def __init__(self, p: np.ndarray, y: np.ndarray, w):
        self.p, self.r, self.w = p, p - y, w
        self._cache: dict[int, tuple] = {}

    def get(self, size: int) -> tuple:
        if size not in self._cache:
            lower, frac = _spread_matrix(self.p, size)
            if self.w is None:
                self._cache[size] = (self._spread_items(lower, frac, self.r, size), self._spread_items(lower, frac, None, size))
            else:
                self._cache[size] = tuple(np.fft.rfft(_even_period(g), axis=1) for g in self._spread_rows(lower, frac, size))
        return self._cache[size]

    def _spread_items(self, lower, frac, values, size) -> np.ndarray:
        v = np.ones_like(self.p) if values is None else values
        out = np.bincount(lower, weights=(1 - frac) * v, minlength=size)
        out += np.bincount(lower + 1, weights=frac * v, minlength=size)
        return out[None, :]

    def _spread_rows(self, lower, frac, size) -> tuple[np.ndarray, np.ndarray]:
        # atoms come sorted by p, so those spread onto each grid point form a contiguous run
        bounds = np.searchsorted(lower, np.arange(size))
        sums = segment_sums(self.w, bounds, self.r * (1 - frac), self.r * frac, 1 - frac, frac)
        grids = np.zeros((2, self.w.shape[0], size))
        for grid, low, high in ((grids[0], sums[0], sums[1]), (grids[1], sums[2], sums[3])):
            grid[:, :-1] = low
            grid[:, 1:] += high
        return grids[0], grids[1]


def _reflect(values: np.ndarray) -> np.ndarray:
    return np.concatenate([values[:, ::-1][:, :-1], values, values[:, ::-1][:, 1:]], axis=1)


def _even_period(values: np.ndarray) -> np.ndarray:
    """One period, 2 (size - 1) points, of the grid reflected at both ends without repeating them."""
    return np.concatenate([values, values[:, -2:0:-1]], axis=1)


def _smoothed_exact(grid: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    # np.convolve, as the reference does, for the single-row point estimate
    size = grid.shape[1]
    full = np.convolve(_reflect(grid)[0], kernel, "valid")
    return full[None, size // 2 : size // 2 + size]


def _kernel_spectra(sigmas: np.ndarray, size: int) -> np.ndarray:
    """Spectra of the kernels, placed for a circular convolution with ``_even_period`` grids.

    The reflected grid is one period of an even periodic sequence, and the kernel spans at
    most half a period, so the reference's "valid" convolution equals a circular one of
    period 2 (size - 1), where the linear one through the FFT needs about twice the length.
    """
    placed = np.zeros((sigmas.size, 2 * (size - 1)))
    placed[:, :size] = _kernel(sigmas[:, None], size)
    return np.fft.rfft(np.roll(placed, -(size // 2), axis=1), axis=1)


def _interpolate(t: np.ndarray, values: np.ndarray) -> np.ndarray:
    size = values.shape[1]
    inds = (t * (size - 1)).astype(np.int64).clip(0, size - 2)
    residual = (t - inds / (size - 1)) * (size - 1)
    return values[:, inds] * (1 - residual) + values[:, inds + 1] * residual


def _smece_at(grids: _Grids, sigma: np.ndarray) -> np.ndarray:
    """smECE_sigma for each replicate at its own sigma (R,)."""
    out = np.empty(sigma.size)
    sizes = _grid_size(sigma)
    meshes = np.maximum(np.round(10 / sigma), _MIN_MESH).astype(np.int64)
    for size in np.unique(sizes):
        cached = grids.get(int(size))
        in_size = sizes == size
        if grids.w is None:
            kernel = _kernel(float(sigma[0]), int(size))
            smoothed_r = _smoothed_exact(cached[0], kernel)
            smoothed_d = _smoothed_exact(cached[1], kernel)
        else:
            rows = np.flatnonzero(in_size)
            # replicates share bandwidths in the early bisection steps: one kernel per value
            distinct, which = np.unique(sigma[rows], return_inverse=True)
            spectra = _kernel_spectra(distinct, int(size))[which]
            period = 2 * (int(size) - 1)
            smoothed_r = np.fft.irfft(cached[0][rows] * spectra, period, axis=1)[:, :size]
            smoothed_d = np.fft.irfft(cached[1][rows] * spectra, period, axis=1)[:, :size]
        for mesh in np.unique(meshes[in_size]):
            pick = meshes[in_size] == mesh
            t = np.linspace(0, 1, int(mesh))
            ys = _interpolate(t, smoothed_r[pick])
            dens = _interpolate(t, smoothed_d[pick]) + _DENSITY_FLOOR
            out[np.flatnonzero(in_size)[pick]] = np.sum(np.abs(ys / dens) * dens, axis=1) / np.sum(dens, axis=1)
    return out


def smece_w(p, y, w) -> tuple[np.ndarray, np.ndarray]:
    """Weighted form of :func:`smece`: (smECE, bandwidth) per replicate."""
    grids = _Grids(p, y, w)
    rows = 1 if w is None else w.shape[0]

    def fixpoint_reached(alpha: np.ndarray) -> np.ndarray:
        return (alpha < _SIGMA_FLOOR) | (alpha < _smece_at(grids, alpha))

    start = np.ones(rows)
    done = fixpoint_reached(start)
    end = np.zeros(rows)
    for _ in range(_REFINE):
        mid = (start + end) / 2
        reached = fixpoint_reached(mid)
        end = np.where(reached, mid, end)
        start = np.where(reached, start, mid)
    sigma = np.where(done, 1.0, start)
    return _smece_at(grids, sigma), sigma


def smece(p, y, *, return_sigma: bool = False) -> float | tuple[float, float]:
    """Smooth ECE with the automatic bandwidth; see the module docstring for the definition.

    With ``return_sigma=True`` returns ``(smece, sigma)``.
    """
    p, y = check_inputs(p, y)
    value, sigma = smece_w(p, y, None)
    return (float(value[0]), float(sigma[0])) if return_sigma else float(value[0])
