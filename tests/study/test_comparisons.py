"""Paired comparisons between models and between protocols, Holm-adjusted over the study."""

import numpy as np
import pytest

from calibench import metrics
from calibench.study.comparisons import MIN_N, comparisons
from calibench.study.config import MetricsConfig


def answers(model, protocol, conf, right, status="ok", first=0):
    return [{"model": model, "protocol": protocol, "question_id": f"q{first + i}", "repetition": 0, "rotation": 0,
             "confidence": float(c), "correct": bool(r), "status": status} for i, (c, r) in enumerate(zip(conf, right))]


CFG = MetricsConfig(n_boot=300)


def test_models_are_paired_on_the_questions_both_parsed_and_differences_read_b_minus_a():
    rng = np.random.default_rng(0)
    n = 200
    right_small = rng.uniform(size=n) < 0.3
    right_big = rng.uniform(size=n) < 0.7
    conf = np.full(n, 0.9)
    small = answers("small", "stated", conf, right_small)
    small[0]["status"] = "no_confidence"  # unparsed: left out of every pair with it
    big = answers("big", "stated", conf, right_big)
    (c,) = comparisons({"small": small, "big": big}, ["stated"], CFG, order=["small", "big"])
    assert (c.kind, c.within, c.a, c.b, c.n) == ("models", "stated", "small", "big", n - 1)
    acc = c.test("accuracy")
    paired = slice(1, None)
    expected = metrics.mcnemar(right_small[paired], right_big[paired])
    assert acc.p_value == pytest.approx(expected.p_value) and acc.difference == pytest.approx(right_big[1:].mean() - right_small[1:].mean())
    assert f"{expected.a_only} right only for a, {expected.b_only} only for b" in acc.method
    brier = c.test("brier")
    assert brier.a == pytest.approx(metrics.brier(conf[1:], right_small[1:]))
    assert brier.difference == pytest.approx(brier.b - brier.a) and brier.difference < 0  # big is better: lower Brier
    assert brier.low <= brier.difference <= brier.high


def test_holm_runs_over_every_test_of_the_study_and_small_pairs_are_not_compared():
    rng = np.random.default_rng(1)
    n = 120
    items = {}
    for model, acc in (("a", 0.3), ("b", 0.5), ("c", 0.8)):
        right = rng.uniform(size=n) < acc
        items[model] = answers(model, "stated", rng.uniform(0.5, 1, n), right) + answers(model, "logprob", rng.uniform(0.2, 1, n), right)
    items["tiny"] = answers("tiny", "stated", np.full(MIN_N - 1, 0.9), np.ones(MIN_N - 1))  # too few to compare
    found = comparisons(items, ["stated", "logprob"], CFG, order=["a", "b", "c", "tiny"])
    assert not any("tiny" in (c.a, c.b) for c in found)
    assert sum(c.kind == "models" for c in found) == 6 and sum(c.kind == "protocols" for c in found) == 3
    tests = [t for c in found for t in c.tests if t.p_value is not None]
    adjusted = metrics.holm([t.p_value for t in tests])
    assert [t.p_holm for t in tests] == pytest.approx(adjusted.tolist())
    assert all(t.p_holm >= t.p_value for t in tests)
    # two protocols sharing one answer per question: the same accuracy, McNemar p = 1
    shared = next(c for c in found if c.kind == "protocols" and c.within == "a")
    assert shared.test("accuracy").difference == 0 and shared.test("accuracy").p_value == 1.0
