import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression

from calibench import metrics
from calibench.errors import CalibenchError
from sklearn.model_selection import StratifiedKFold

from calibench.recalibrate import METHODS, compare, cross_fit, cross_fit_selected, fit, holdout


def overconfident(n=3000, seed=0):
    """Stated confidence p, true probability p**2.5: systematic overconfidence, known exactly."""
    rng = np.random.default_rng(seed)
    p = rng.choice(np.arange(40, 101, 5), n) / 100
    y = (rng.uniform(size=n) < p**2.5).astype(float)
    subjects = rng.integers(0, 8, n)
    return p, y, subjects


@pytest.mark.parametrize("method", METHODS)
def test_cross_fitting_removes_a_known_miscalibration(method):
    p, y, subjects = overconfident()
    q = cross_fit(p, y, method=method, groups=subjects)
    before, after = metrics.ece(p, y), metrics.ece(q, y)
    # temperature keeps 0.5 fixed, so it cannot undo an offset; the shift only moves the mean
    limit = {"temperature": 0.8, "shift": 0.4}.get(method, 0.15)
    assert before > 0.15
    assert after < limit * before
    assert np.all((q >= 0) & (q <= 1))


def test_temperature_recovers_a_known_temperature():
    rng = np.random.default_rng(1)
    z = rng.normal(0, 2, 20000)
    true_p = 1 / (1 + np.exp(-z))
    stated = 1 / (1 + np.exp(-2.0 * z))  # logits doubled: temperature 2 undoes it
    y = (rng.uniform(size=z.size) < true_p).astype(float)
    assert fit(stated, y, method="temperature").params["temperature"] == pytest.approx(2.0, rel=0.05)
    platt = fit(stated, y, method="platt").params
    assert platt["a"] == pytest.approx(0.5, rel=0.06) and abs(platt["b"]) < 0.05


def test_no_leak_when_labels_are_memorisable():
    # Each item has its own confidence and a coin-flip label: an in-sample isotonic map
    # memorises them, so it looks perfect; cross-fitting shows the truth (no real gain).
    rng = np.random.default_rng(2)
    p = rng.uniform(0.3, 0.7, 400)
    y = (rng.uniform(size=400) < 0.5).astype(float)
    truth = metrics.brier(np.full(400, 0.5), y)  # the true probability is 0.5 everywhere
    in_sample = metrics.brier(fit(p, y, method="isotonic").transform(p), y)
    out_of_fold = metrics.brier(cross_fit(p, y, method="isotonic", folds=5), y)
    assert in_sample < truth - 0.002  # the leak beats the truth: memorised noise
    assert out_of_fold > truth  # the honest estimate shows no gain
    assert out_of_fold - in_sample > 0.01


def test_isotonic_agrees_with_scikit_learn():
    p, y, _ = overconfident(800, seed=3)
    ours = fit(p, y, method="isotonic").transform(p)
    ref = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(p, y).predict(p)
    np.testing.assert_allclose(ours, ref, atol=1e-12)


def test_transfer_applies_a_frozen_map():
    p, y, _ = overconfident(2000, seed=4)
    frozen = fit(p, y, method="platt")
    p2, y2, _ = overconfident(2000, seed=5)  # another run of the same model
    q2 = frozen.transform(p2)
    assert metrics.ece(q2, y2) < 0.5 * metrics.ece(p2, y2)
    assert frozen.to_dict()["method"] == "platt" and frozen.transform(p2).tolist() == q2.tolist()


def test_holdout_and_compare():
    p, y, subjects = overconfident(1000, seed=6)
    test, q = holdout(p, y, method="temperature", groups=subjects)
    assert 450 <= test.size <= 550 and q.size == test.size
    report = compare(p[test], y[test], q, n_boot=100)
    assert report["ece"]["after"]["value"] < report["ece"]["before"]["value"]
    assert report["accuracy"]["after"]["value"] == report["accuracy"]["before"]["value"]


def test_recalibration_moves_reliability_more_than_resolution():
    p, y, subjects = overconfident(4000, seed=7)
    q = cross_fit(p, y, method="isotonic", groups=subjects)
    before, after = metrics.brier_decomposition(p, y, strategy="distinct"), metrics.brier_decomposition(q, y, strategy="distinct")
    assert after.reliability < 0.2 * before.reliability
    assert abs(after.resolution - before.resolution) < 0.5 * (before.reliability - after.reliability)


def test_errors():
    with pytest.raises(CalibenchError, match="method must be one of"):
        fit([0.5, 0.6], [1, 0], method="magic")
    with pytest.raises(CalibenchError, match="folds must be"):
        cross_fit([0.5, 0.6, 0.7], [1, 0, 1], folds=5)
    with pytest.raises(CalibenchError, match="outside"):
        fit([0.5, 0.6], [1, 0]).transform([1.5])


def test_strata_smaller_than_the_folds_are_pooled_with_a_warning():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=40)
    y = (rng.uniform(size=40) < p).astype(float)
    with pytest.warns(UserWarning, match="every stratum has fewer than 5 items"):
        q = cross_fit(p, y, groups=np.repeat(list("abcdefghij"), 4))  # a --quick run: 4 answers a subject
    assert q.shape == p.shape and np.all((q >= 0) & (q <= 1))
    groups = np.array(["big"] * 30 + list("abcdefghij"))
    with pytest.warns(UserWarning, match="10 of 11 strata have fewer than 5 items: pooled"):
        cross_fit(p, y, groups=groups)


def test_base_rate_cross_fit_gives_each_fold_the_other_folds_accuracy():
    p, y, subjects = overconfident(300, seed=4)
    q = cross_fit(p, y, method="base-rate", folds=5, groups=subjects)
    values = np.unique(q)
    assert 1 < values.size <= 5  # one constant per held-out fold
    for v in values:
        held = q == v
        assert v == pytest.approx(y[~held].mean())


def test_nested_selection_never_sees_the_held_out_fold():
    """The choice in each outer fold depends only on that fold's training part: relabelling the
    held-out items (which changes every method's out-of-fold result) leaves the choices alone."""
    p, y, subjects = overconfident(400, seed=5)
    q, chosen = cross_fit_selected(p, y, methods=("shift", "isotonic", "temperature"), folds=4, groups=subjects)
    assert len(chosen) == 4 and set(chosen) <= {"shift", "isotonic", "temperature"}
    assert metrics.ece(q, y) < metrics.ece(p, y)
    # each outer fold's map is the chosen method fitted on the other folds
    outer = list(StratifiedKFold(n_splits=4, shuffle=True, random_state=0).split(p, np.unique(subjects, return_inverse=True)[1]))
    for k, (train, test) in enumerate(outer):
        np.testing.assert_allclose(q[test], fit(p[train], y[train], method=chosen[k], seed=k).transform(p[test]))
        flipped = y.copy()
        flipped[test] = 1 - flipped[test]
        _, again = cross_fit_selected(p, flipped, methods=("shift", "isotonic", "temperature"), folds=4, groups=subjects)
        assert again[k] == chosen[k]


def test_compare_reports_the_headline_ece_with_an_interval_that_reaches_zero_when_calibrated():
    rng = np.random.default_rng(6)
    p = rng.choice(np.arange(40, 101, 5), 300) / 100
    y = (rng.uniform(size=300) < p).astype(float)
    report = compare(p, y, p, n_boot=200)
    after = report["ece_debiased_l1"]["after"]
    assert after["low"] == 0.0 and after["high"] > after["value"]  # not collapsed onto a value near 0
    assert report["ece"]["after"]["value"] == pytest.approx(metrics.ece(p, y))


def test_categories_are_mapped_out_of_fold_toward_their_table_value():
    import numpy as np

    from calibench.recalibrate.crossfit import PSEUDO, cross_fit_categories

    rng = np.random.default_rng(0)
    phrases = np.array(["likely"] * 60 + ["unlikely"] * 60 + ["rare"])
    table = np.where(phrases == "likely", 0.7, np.where(phrases == "unlikely", 0.2, 0.5))
    forty = np.array([1.0] * 24 + [0.0] * 36)  # both categories right on 40% of their answers, table 70% and 20%
    y = np.concatenate([rng.permutation(forty), rng.permutation(forty), [1.0]])
    subjects = [f"s{i % 3}" for i in range(phrases.size)]  # folds stratified by subject: the same whatever y is
    q = cross_fit_categories(phrases, table, y, folds=5, groups=subjects, seed=0)
    assert q[-1] == 0.5  # a category no other fold used keeps its table value
    for part in (slice(0, 60), slice(60, 120)):  # each category's value is (nearly) its own accuracy
        assert abs(q[part].mean() - y[part].mean()) < 0.03 and abs(q[part].mean() - table[part][0]) > 0.1
    # out of fold: an item's own outcome never moves its own value
    flipped = y.copy()
    flipped[0] = 1 - flipped[0]
    assert cross_fit_categories(phrases, table, flipped, folds=5, groups=subjects, seed=0)[0] == q[0]
    assert PSEUDO == 2
