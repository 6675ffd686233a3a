import json

import numpy as np
import pytest

from calibench import metrics
from calibench.errors import CalibenchError


def test_noise_floor_matches_a_plain_simulation():
    rng = np.random.default_rng(0)
    conf = rng.choice(np.arange(60, 101, 5), 297) / 100
    floor = metrics.noise_floor(conf, n_sims=2000, seed=1)
    sims = []
    for _ in range(2000):
        p = rng.choice(conf, conf.size)
        y = (rng.uniform(size=conf.size) < p).astype(float)
        sims.append(metrics.ece(p, y))
    assert floor.mean == pytest.approx(np.mean(sims), rel=0.05)
    assert floor.upper == pytest.approx(np.quantile(sims, 0.95), rel=0.08)
    # the field notes' simulation: about 0.032 mean and 0.054 p95 at n = 297
    assert 0.025 < floor.mean < 0.04 and 0.045 < floor.upper < 0.065


def test_noise_floor_of_continuous_confidences_matches_a_plain_simulation():
    # many distinct confidences take the item-by-item draw; same distribution as the multinomial
    rng = np.random.default_rng(4)
    conf = rng.uniform(0.3, 1.0, 400)
    floor = metrics.noise_floor(conf, n_sims=2000, seed=2)
    sims = []
    for _ in range(2000):
        p = rng.choice(conf, conf.size)
        sims.append(metrics.ece(p, (rng.uniform(size=conf.size) < p).astype(float)))
    assert floor.mean == pytest.approx(np.mean(sims), rel=0.05)
    assert floor.upper == pytest.approx(np.quantile(sims, 0.95), rel=0.08)


def test_noise_floor_falls_with_n():
    conf = np.array([0.6, 0.7, 0.8, 0.9, 1.0])
    small = metrics.noise_floor(conf, n=150)
    large = metrics.noise_floor(conf, n=1500)
    assert large.mean < small.mean and large.upper < small.upper and small.n == 150


def test_noise_floor_errors():
    with pytest.raises(CalibenchError):
        metrics.noise_floor([])
    with pytest.raises(CalibenchError):
        metrics.noise_floor([0.5], n=0)


def test_panel_is_complete_consistent_and_json_ready():
    rng = np.random.default_rng(2)
    p = rng.choice(np.arange(50, 101, 5), 300) / 100
    y = (rng.uniform(size=300) < p - 0.15).astype(float)
    result = metrics.panel(p, y, n_boot=300, seed=1)
    assert result["ece"].value == pytest.approx(metrics.ece(p, y))
    assert result["smece"].value == pytest.approx(metrics.smece(p, y))
    assert result["auroc"].value == pytest.approx(metrics.auroc(p, y))
    assert result["ece_sweep"].value == pytest.approx(metrics.ece_sweep(p, y))
    for name, est in result.metrics.items():
        assert est.low <= est.high, name
    for name in ("accuracy", "mean_confidence", "overconfidence_gap", "brier"):  # linear: inside its interval
        assert result[name].low <= result[name].value <= result[name].high
    assert result.reliability.count.sum() == 300
    assert result.noise_floor.n == 300
    d = json.loads(json.dumps(result.to_dict()))
    assert d["metrics"]["ece"]["value"] == pytest.approx(result["ece"].value)
    assert d["options"]["n_boot"] == 300 and d["options"]["n_bins"] == 10
    assert metrics.panel(p, y, n_boot=300, seed=1).to_dict() == result.to_dict()


def test_panel_nan_becomes_null():
    result = metrics.panel([0.9, 0.8, 0.7], [1, 1, 1], n_boot=50, noise_sims=20)
    assert result.to_dict()["metrics"]["auroc"]["value"] is None
