import numpy as np
import pytest

from calibench import metrics
from calibench.metrics.bootstrap import _Design
from calibench.metrics.smooth import smece_w


def test_weighted_atoms_match_items_and_replicates_match_rows():
    rng = np.random.default_rng(3)
    p = rng.choice(np.arange(40, 101, 5), 500) / 100
    y = (rng.uniform(size=500) < p - 0.1).astype(float)
    value, sigma = metrics.smece(p, y, return_sigma=True)
    design = _Design([p, y])
    ap, ay = design.atoms
    v, s = smece_w(ap, ay, np.stack([design.counts, design.counts]))
    np.testing.assert_allclose(v, value, atol=1e-10)  # the FFT path of the batch
    assert s.tolist() == [sigma, sigma]


def test_calibrated_is_small_and_miscalibrated_is_large():
    rng = np.random.default_rng(4)
    p = rng.uniform(size=5000)
    y = (rng.uniform(size=5000) < p).astype(float)
    assert metrics.smece(p, y) < 0.03
    assert metrics.smece(p, 1 - y) > 0.3


def test_smece_is_invariant_to_order():
    rng = np.random.default_rng(5)
    p = rng.uniform(size=300)
    y = (rng.uniform(size=300) < p).astype(float)
    order = rng.permutation(300)
    assert metrics.smece(p, y) == pytest.approx(metrics.smece(p[order], y[order]), abs=1e-12)
