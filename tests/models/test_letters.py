import math

import pytest

from calibench.models import letter_probabilities
from calibench.models.letters import normalise_token


def entry(token, alternatives):
    return {"token": token, "logprob": alternatives.get(token, -1.0), "top_logprobs": [{"token": t, "logprob": lp} for t, lp in alternatives.items()]}


def test_variants_merge_and_renormalise():
    content = [
        entry("Answer", {"Answer": -0.01}),
        entry(":", {":": -0.01}),
        entry(" B", {" B": math.log(0.5), "B": math.log(0.1), " A": math.log(0.2), "\"C": math.log(0.05), " the": math.log(0.1)}),
    ]
    lp = letter_probabilities(content, ("A", "B", "C", "D"))
    assert lp.position == 2 and lp.token == " B"
    assert lp.raw["B"] == pytest_approx(0.6) and lp.raw["A"] == pytest_approx(0.2) and lp.raw["D"] == 0.0
    assert lp.mass == pytest_approx(0.85)
    assert sum(lp.probs.values()) == pytest_approx(1.0) and lp.probs["B"] == pytest_approx(0.6 / 0.85)


def test_known_answer_skips_an_article_before_it():
    content = [entry("A", {"A": -0.1, "The": -2.0}), entry(" good", {" good": -0.1}), entry(" C", {" C": math.log(0.7), " D": math.log(0.2)})]
    assert letter_probabilities(content, "ABCD").position == 0
    assert letter_probabilities(content, "ABCD", answer="C").position == 2


def test_json_answer_token():
    content = [entry("{\"", {"{\"": -0.01}), entry("answer", {"answer": -0.01}), entry("\":\"", {"\":\"": -0.01}), entry("D", {"D": math.log(0.4), "A": math.log(0.4)})]
    lp = letter_probabilities(content, "ABCD")
    assert lp.probs["A"] == pytest_approx(0.5) and lp.probs["D"] == pytest_approx(0.5)


def test_nothing_to_read():
    assert letter_probabilities(None, "ABCD") is None
    assert letter_probabilities(5, "ABCD") is None and letter_probabilities({"token": "A"}, "ABCD") is None
    assert letter_probabilities([], "ABCD") is None
    assert letter_probabilities([entry("Hello", {"Hello": -0.1})], "ABCD") is None
    assert letter_probabilities([{"token": "B", "logprob": -0.1, "top_logprobs": []}], "ABCD") is None
    assert letter_probabilities([{"token": "E", "top_logprobs": [{"token": "E", "logprob": 0.0}]}], "ABCD") is None
    assert letter_probabilities([{"token": "A", "top_logprobs": 9961}], "ABCD") is None  # found by scripts/fuzz.py
    assert letter_probabilities([{"token": "A", "top_logprobs": {"A": -0.1}}], "ABCD") is None


def test_values_that_are_no_log_probability_are_ignored():
    # found by scripts/fuzz.py: a positive logprob of 7e12 overflowed math.exp
    content = [{"token": "A", "logprob": -1.5, "top_logprobs": [
        {"token": "A", "logprob": 7066116333008}, {"token": "B", "logprob": math.log(0.3)},
        {"token": "C", "logprob": float("nan")}, {"token": "D", "logprob": "high"}, {"token": "A", "logprob": 1e-9},
    ]}]
    lp = letter_probabilities(content, "ABCD")
    assert lp.raw["A"] == pytest_approx(1.0) and lp.raw["B"] == pytest_approx(0.3) and lp.raw["C"] == 0 and lp.raw["D"] == 0


def test_normalise_token():
    assert [normalise_token(t) for t in (" B", "B.", "\"B\"", "(B)", "**B**", "B:", " Because")] == ["B", "B", "B", "B", "B", "B", "Because"]


def pytest_approx(x):
    import pytest

    return pytest.approx(x, abs=1e-12)


def test_logprobs_that_are_no_numbers_are_no_data():
    from calibench.models.letters import letter_probabilities_at

    entry = {"token": " B", "top_logprobs": [{"token": " A", "logprob": -(10 ** 400)}, {"token": " C", "logprob": False},
                                              {"token": " D", "logprob": "-0.1"}, {"token": " B", "logprob": -0.5}]}
    probs = letter_probabilities_at(entry, ("A", "B", "C", "D"))
    assert probs.raw == {"A": 0.0, "B": pytest.approx(math.exp(-0.5)), "C": 0.0, "D": 0.0}
