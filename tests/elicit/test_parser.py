import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calibench.elicit.parser import STATUSES, parse_logprobs, parse_reply, read_confidence

ABCD = ("A", "B", "C", "D")

# (reply, kind, letter, confidence, status) drawn from the shapes real models write
TABLE = [
    ("Answer: B\nConfidence: 85%", "text", "B", 0.85, "ok"),
    ("  answer: c\nconfidence:  90 %  ", "text", "C", 0.90, "ok"),
    ("Answer: (D)\nConfidence: 100%", "text", "D", 1.0, "ok"),
    ("Answer: B\nConfidence: 0.85", "text", "B", 0.85, "lenient"),
    ("Answer: B\nConfidence: 85", "text", "B", 0.85, "lenient"),
    ("Answer: A. Paris\nConfidence: 70%", "text", "A", 0.70, "lenient"),
    ("The answer is C. I am 75% sure.", "text", "C", 0.75, "lenient"),
    ("B. 4\nConfidence: 95%", "text", "B", 0.95, "lenient"),
    ("**B**\n\nConfidence level: 80 percent", "text", "B", 0.80, "lenient"),
    ("I think the correct option is D with confidence 0.6", "text", "D", 0.6, "lenient"),
    ("A. 3", "text", "A", None, "no_confidence"),
    ("Answer: E\nConfidence: 90%", "text", None, None, "no_answer"),
    ("I don't know.", "text", None, None, "no_answer"),
    ("Answer: B\nConfidence: 150%", "text", "B", None, "out_of_range"),
    ("Answer: B\nConfidence: -5%", "text", "B", None, "out_of_range"),
    ("Answer: B\nConfidence: NaN%", "text", "B", None, "out_of_range"),
    ("Answer: B\nConfidence: 1e309%", "text", "B", None, "out_of_range"),
    ("", "text", None, None, "empty"),
    ("   \n", "text", None, None, "empty"),
    (None, "text", None, None, "empty"),
    ('{"answer": "B", "confidence": 85}', "json", "B", 0.85, "ok"),
    ('{\n  "answer": "D","confidence": 0.0000000000000000}', "json", "D", 0.0, "ok"),
    ('{"answer": "A", "confidence": 0.9999999999999999}', "json", "A", 0.9999999999999999, "ok"),
    ('{"answer": "C", "confidence": 1}', "json", "C", 0.01, "ok"),
    ('{"answer": "C", "confidence": 1.0}', "json", "C", 1.0, "ok"),
    ('{"answer": "C", "confidence": "80%"}', "json", "C", 0.8, "lenient"),
    ('{"answer": "C", "confidence": 250}', "json", "C", None, "out_of_range"),
    ('{"answer": "C"}', "json", "C", None, "no_confidence"),
    ('{"answer": "Z", "confidence": 50}', "json", None, None, "no_answer"),
    ('```json\n{"answer": "B", "confidence": 70}\n```', "json", "B", 0.7, "lenient"),
    ('{"answer": "B", "confidence": 7', "json", "B", 0.07, "lenient"),
]


@pytest.mark.parametrize(("reply", "kind", "letter", "confidence", "status"), TABLE)
def test_real_looking_replies(reply, kind, letter, confidence, status):
    parsed = parse_reply(reply, ABCD, kind=kind)
    assert parsed.status == status, parsed
    assert parsed.letter == letter
    if confidence is None:
        assert parsed.confidence is None
    else:
        assert parsed.confidence == pytest.approx(confidence)


def test_scale_is_recorded():
    assert parse_reply("Answer: B\nConfidence: 0.85", ABCD).scale == "probability"
    assert parse_reply("Answer: B\nConfidence: 85%", ABCD).scale == "percent"
    assert read_confidence("1", False) == (0.01, "percent")
    assert read_confidence("1.0", False) == (1.0, "probability")
    assert read_confidence("0.5", True) == (0.005, "percent")


def test_letters_outside_the_question_are_not_answers():
    assert parse_reply("Answer: D\nConfidence: 50%", ("A", "B", "C")).status == "no_answer"
    assert parse_reply("Answer: E\nConfidence: 50%", ("A", "B", "C", "D", "E")).letter == "E"


def test_a_huge_reply_is_read_from_its_start():
    parsed = parse_reply("Answer: C\nConfidence: 40%\n" + "x" * 1_000_000, ABCD)
    assert parsed.letter == "C" and parsed.confidence == pytest.approx(0.4)


def test_logprob_reading():
    p = parse_logprobs({"A": 0.1, "B": 0.7, "C": 0.2, "D": 0.0})
    assert (p.letter, p.confidence, p.status) == ("B", 0.7, "ok")
    assert parse_logprobs(None).status == "no_answer"


@given(st.text(max_size=300), st.sampled_from(["text", "json"]))
@settings(max_examples=500, deadline=None)
def test_never_raises_and_confidence_in_unit_interval(reply, kind):
    parsed = parse_reply(reply, ABCD, kind=kind)
    assert parsed.status in STATUSES
    assert parsed.confidence is None or (0.0 <= parsed.confidence <= 1.0 and not math.isnan(parsed.confidence))
    assert parsed.letter is None or parsed.letter in ABCD


@given(
    st.sampled_from(ABCD),
    st.one_of(st.integers(-1000, 1000).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr)),
    st.sampled_from(["%", " %", "", " percent"]),
    st.sampled_from(["Answer: {l}\nConfidence: {c}{s}", "The answer is {l}, confidence {c}{s}", '{{"answer": "{l}", "confidence": {c}}}']),
)
@settings(max_examples=500, deadline=None)
def test_structured_fuzz(letter, number, sign, template):
    parsed = parse_reply(template.format(l=letter, c=number, s=sign), ABCD, kind="json" if template.startswith("{") else "text")
    assert parsed.confidence is None or 0.0 <= parsed.confidence <= 1.0
