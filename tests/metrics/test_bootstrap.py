import numpy as np
import pytest

from calibench import metrics
from calibench.errors import CalibenchError


def sample(n=2000, seed=0, shift=0.1):
    rng = np.random.default_rng(seed)
    p = rng.choice(np.arange(50, 101, 5), n) / 100
    y = (rng.uniform(size=n) < p - shift).astype(float)
    return p, y


def test_vectorised_bootstrap_equals_a_loop_over_the_same_resamples():
    from calibench.metrics.bootstrap import _Design

    p, y = sample(300)
    design = _Design([p, y])
    w = design.draw(np.random.default_rng(1), 50)
    ap, ay = design.atoms
    from calibench.metrics.bootstrap import evaluate
    from calibench.metrics.registry import weighted_metrics

    table = weighted_metrics()
    for name in ("ece", "ece_quantile", "smece", "auroc", "aurc", "ece_sweep", "brier_resolution"):
        batch = evaluate(table[name], ap, ay, w)
        for r in range(5):
            items_p = np.repeat(ap, w[r].astype(int))
            items_y = np.repeat(ay, w[r].astype(int))
            single = evaluate(table[name], items_p, items_y, np.ones((1, items_p.size)))[0]
            assert batch[r] == pytest.approx(single, abs=1e-9), name


def draw_sample(kind, n, rng):
    if kind == "grid":
        p = rng.choice(np.arange(40, 101, 5), n) / 100
    elif kind == "ties":
        p = np.round(rng.uniform(size=n), 2)
    else:
        p = rng.uniform(size=n)
    return p, (rng.uniform(size=n) < np.clip(p - 0.12, 0, 1)).astype(float)


@pytest.mark.parametrize("kind", ["grid", "continuous", "ties"])
def test_every_metric_of_weight_rows_equals_the_metric_of_each_expanded_resample(kind):
    from calibench.metrics.bootstrap import _Design, evaluate_many
    from calibench.metrics.registry import weighted_metrics

    p, y = draw_sample(kind, 400, np.random.default_rng(6))
    design = _Design([p, y])
    ap, ay = design.atoms
    w = np.vstack([design.draw(np.random.default_rng(2), 12), design.jackknife(np.random.default_rng(3))[0][:4]])
    table = weighted_metrics()
    batch = evaluate_many(table, ap, ay, w)
    for r, row in enumerate(w.astype(int)):
        items_p, items_y = np.repeat(ap, row), np.repeat(ay, row)
        order = np.random.default_rng(r).permutation(items_p.size)  # plain items come in any order
        for name, metric in table.items():
            single = metric(items_p[order], items_y[order], None)[0]
            assert batch[name][r] == pytest.approx(single, abs=1e-9, nan_ok=True), (name, r)


def test_blocks_of_rows_are_the_draw_of_all_rows():
    from calibench.metrics.bootstrap import _Design

    p, y = draw_sample("continuous", 300, np.random.default_rng(1))
    design = _Design([p, y])
    rng = np.random.default_rng(5)
    items = design.item_atom[rng.integers(0, 300, size=(50, 300))]
    expected = np.stack([np.bincount(row, minlength=design.counts.size) for row in items])
    np.testing.assert_array_equal(design.draw(np.random.default_rng(5), 50), expected)
    np.testing.assert_array_equal(np.concatenate(list(design.draw_blocks(np.random.default_rng(5), 50))), expected)


def test_seeded_and_covering():
    p, y = sample()
    a = metrics.bootstrap_ci(p, y, "ece", seed=3)
    b = metrics.bootstrap_ci(p, y, "ece", seed=3)
    assert a == b and a.low < a.value < a.high and a.n_boot == 1000
    assert metrics.bootstrap_ci(p, y, "ece", seed=4) != a


def test_interval_covers_the_truth_at_about_the_nominal_rate():
    # True gap (mean confidence - accuracy) is 0.1 by construction; 95% intervals over 100
    # independent samples should cover it about 95 times.
    rng = np.random.default_rng(11)
    covered = 0
    for _ in range(100):
        p = rng.choice(np.arange(50, 101, 5), 400) / 100
        y = (rng.uniform(size=400) < p - 0.1).astype(float)
        est = metrics.bootstrap_ci(p, y, "overconfidence_gap", n_boot=400, seed=int(rng.integers(1 << 30)))
        covered += est.low <= 0.1 <= est.high
    assert 88 <= covered <= 99


def test_bca_and_percentile_agree_on_a_symmetric_statistic():
    p, y = sample(3000)
    pct = metrics.bootstrap_ci(p, y, "accuracy")
    bca = metrics.bootstrap_ci(p, y, "accuracy", method="bca")
    assert bca.low == pytest.approx(pct.low, abs=0.005) and bca.high == pytest.approx(pct.high, abs=0.005)


def test_paired_is_narrower_than_independent_for_correlated_models():
    rng = np.random.default_rng(5)
    p = rng.choice(np.arange(50, 101, 5), 1500) / 100
    y_a = (rng.uniform(size=1500) < p - 0.15).astype(float)
    flip = rng.uniform(size=1500) < 0.05
    y_b = np.where(flip, 1 - y_a, y_a)
    paired = metrics.paired_bootstrap(p, y_a, p, y_b, "accuracy")
    a = metrics.bootstrap_ci(p, y_a, "accuracy")
    b = metrics.bootstrap_ci(p, y_b, "accuracy")
    assert paired.value == pytest.approx(y_a.mean() - y_b.mean())
    assert (paired.high - paired.low) < 0.5 * ((a.high - a.low) + (b.high - b.low))


def test_cluster_bootstrap_widens_with_correlated_groups():
    rng = np.random.default_rng(8)
    groups = np.repeat(np.arange(20), 100)
    difficulty = rng.uniform(-0.3, 0.3, 20)[groups]  # each group's shared offset
    p = np.full(2000, 0.7)
    y = (rng.uniform(size=2000) < 0.6 + difficulty).astype(float)
    iid = metrics.bootstrap_ci(p, y, "overconfidence_gap")
    clustered = metrics.bootstrap_ci(p, y, "overconfidence_gap", groups=groups)
    assert (clustered.high - clustered.low) > 2 * (iid.high - iid.low)


def test_undefined_replicates_are_dropped():
    p = np.array([0.9] * 20 + [0.1])
    y = np.array([1.0] * 20 + [0.0])
    est = metrics.bootstrap_ci(p, y, "auroc", n_boot=200)
    assert est.value == 1.0 and 0 < est.n_boot < 200


def test_errors():
    p, y = sample(50)
    with pytest.raises(CalibenchError, match="unknown metric 'eec'"):
        metrics.bootstrap_ci(p, y, "eec")
    with pytest.raises(CalibenchError, match="method must be one of"):
        metrics.bootstrap_ci(p, y, method="bootstrap")
    with pytest.raises(CalibenchError, match="level must lie"):
        metrics.bootstrap_ci(p, y, level=95)
    with pytest.raises(CalibenchError, match="same questions"):
        metrics.paired_bootstrap(p, y, p[:10], y[:10])
    with pytest.raises(CalibenchError, match="at least 2 groups"):
        metrics.bootstrap_ci(p, y, groups=np.zeros(50))
    with pytest.raises(CalibenchError, match="one label per item"):
        metrics.bootstrap_ci(p, y, groups=np.zeros(3))
