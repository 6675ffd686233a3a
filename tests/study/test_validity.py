"""What a protocol does to the answers: validity against the answer read, positions, pile-ups, scale."""

import pytest
from scipy.stats import binomtest

from calibench.study.validity import confidence_values, positions, validity


def item(q, letter, answer="A", confidence=0.8, status="ok", rotation=0, **extra):
    return {"question_id": q, "repetition": 0, "rotation": rotation, "letter": letter, "shown_letter": letter, "answer": answer,
            "shown_answer": answer, "correct": None if letter is None else letter == answer, "confidence": confidence,
            "status": status, **extra}


def test_a_format_that_turns_right_answers_into_b_is_distorting():
    reference = [item(f"q{i}", "A") for i in range(40)]  # the answer read: all right
    here = [item(f"q{i}", "B" if i < 30 else "A") for i in range(40)]  # the format moved 30 to B
    v = validity(here, reference, "logprob")
    assert (v.n, v.right_only_here, v.right_only_reference) == (40, 0, 30)
    assert v.agreement == pytest.approx(10 / 40) and v.accuracy_difference == pytest.approx(-30 / 40)
    assert v.mcnemar_p == pytest.approx(binomtest(0, 30, 0.5).pvalue) and v.distorting


def test_balanced_disagreements_are_not_distorting():
    reference = [item(f"q{i}", "A" if i % 2 else "C") for i in range(40)]
    here = [item(f"q{i}", "C" if i % 2 else "A") for i in range(40)]  # as many right->wrong as wrong->right
    v = validity(here, reference, "logprob")
    assert v.right_only_here == v.right_only_reference == 20 and v.mcnemar_p == pytest.approx(1.0) and not v.distorting
    assert validity([item("q1", None)], reference, "logprob") is None  # no pair with both letters


def test_positions_against_the_gold_positions_of_the_same_items():
    items = [item("q1", "B", answer="A"), item("q2", "B", answer="B"), item("q3", "B", answer="C"), item("q4", None, answer="D")]
    pos = positions(items, ["A", "B", "C", "D"])
    assert pos.n == 3 and pos.answers["B"] == 1.0 and pos.gold == {"A": 1 / 3, "B": 1 / 3, "C": 1 / 3, "D": 0.0}
    assert pos.tv_distance == pytest.approx(2 / 3)


def test_pile_up_of_one_value():
    values = confidence_values([item(f"q{i}", "A", confidence=0.0 if i < 9 else 0.8) for i in range(10)])
    assert (values.most_common, values.most_common_share, values.distinct) == (0.0, 0.9, 2)


def test_scale_ambiguous_answers_are_read_both_ways():
    from calibench.study.config import MetricsConfig
    from calibench.study.results import scale_readings

    items = [item("q1", "A", confidence=0.5, scale="probability"), item("q2", "B", confidence=0.01, alt_confidence=1.0, status="scale_ambiguous")]
    readings = scale_readings(items, MetricsConfig())
    assert readings["percent"].n == readings["probability"].n == 2
    assert readings["percent"].mean_confidence == pytest.approx((0.5 + 0.01) / 2)
    assert readings["probability"].mean_confidence == pytest.approx((0.5 + 1.0) / 2)
    assert scale_readings(items[:1], MetricsConfig()) is None


def test_a_stated_confidence_that_never_varies_has_no_correlation_and_no_warning():
    import warnings

    from calibench.study.config import MetricsConfig
    from calibench.study.results import signals

    def item(protocol, q, confidence):
        return {"protocol": protocol, "question_id": q, "rotation": 0, "repetition": 0, "sample": None, "status": "ok",
                "confidence": confidence, "correct": q.endswith(("1", "3"))}

    # 0.1 seven times: numpy's std() of it is above 0 by rounding, scipy calls it constant
    items = [item("stated", f"q{k}", 0.1) for k in range(7)] + [item("logprob", f"q{k}", 0.2 + 0.1 * k) for k in range(7)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        comparison = signals(items, ["stated", "logprob"], repetitions=1, temperature=0.0, cfg=MetricsConfig()).comparisons[0]
    assert comparison.n == 7 and comparison.pearson is None and comparison.spearman is None
