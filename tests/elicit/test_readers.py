"""Reading stored responses: the answer read, P(True), a stated number, and what an endpoint may send instead."""

import math

import pytest

from calibench.data.question import Question
from calibench.elicit.readers import answer_letter, read_response

Q = Question(id="q", dataset="t", subject="s", category="c", question="?", choices=("w", "x", "y", "z"), answer="B")


def response(text, top=None, finish="length"):
    choice = {"index": 0, "finish_reason": finish, "message": {"role": "assistant", "content": text}}
    if top is not None:
        choice["logprobs"] = {"content": [{"token": top[0][0], "logprob": top[0][1],
                                           "top_logprobs": [{"token": t, "logprob": lp} for t, lp in top]}]}
    return {"choices": [choice]}


def test_the_answer_read_is_the_letter_distribution_at_the_prefilled_position():
    # llama.cpp returns the prefill with the generated token; the sampled token need not be a letter
    r = response("Answer: **", [(" **", math.log(0.4)), (" C", math.log(0.3)), (" B", math.log(0.2)), ("B", math.log(0.05))])
    reading = read_response("letter-logprobs", r, Q)
    assert reading.parsed.letter == "C" and reading.source == "logprobs"
    assert reading.probs.raw["B"] == pytest.approx(0.25) and reading.probs.mass == pytest.approx(0.55)  # " B" and "B" merged
    assert reading.parsed.confidence == pytest.approx(0.3 / 0.55)
    assert answer_letter(r, Q) == "C"
    assert read_response("letter-logprobs", response("Answer: The", [(" The", -0.1)]), Q).parsed.status == "no_answer"


def test_without_prefill_the_answer_read_is_the_models_own_constrained_letter():
    for text in ('{"answer": "D"}', "D", "Answer: D"):
        reading = read_response("letter-logprobs", response(text, finish="stop"), Q, prefilled=False)
        assert (reading.parsed.letter, reading.parsed.confidence, reading.source) == ("D", None, "constrained-letter")
    assert read_response("letter-logprobs", response('{"answer": "Q"}'), Q, prefilled=False).parsed.letter is None


def test_p_true_is_trues_share_of_true_and_false():
    r = response("True", [("True", math.log(0.5)), ("False", math.log(0.25)), (" true", math.log(0.1)), ("A", math.log(0.1))])
    reading = read_response("p-true", r, Q)
    assert reading.parsed.confidence == pytest.approx(0.6 / 0.85) and reading.mass == pytest.approx(0.85)
    assert read_response("p-true", response("False", finish="stop"), Q).parsed.confidence == 0.0  # no logprobs: the word
    assert read_response("p-true", response("Maybe", finish="stop"), Q).parsed.status == "no_confidence"
    assert read_response("p-true", response("Yes", [("Yes", -0.1)]), Q).parsed.status == "no_confidence"


def test_a_stated_number_and_its_cut():
    assert read_response("number", response("Confidence: 0.85", finish="stop"), Q).parsed.confidence == pytest.approx(0.85)
    assert read_response("number", response("Confidence: 8", finish="length"), Q).parsed.status == "truncated"
    assert read_response("number", {"choices": "junk"}, Q).parsed.status == "empty"
