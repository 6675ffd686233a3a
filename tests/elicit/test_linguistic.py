"""linguistic (Tian et al. 2023): an expression after the answer read, mapped by the survey's medians."""


import pytest

from calibench.data.question import Question
from calibench.elicit.parser import NO_CONFIDENCE, OK, TRUNCATED
from calibench.elicit.protocols import PROTOCOLS
from calibench.elicit.protocols.linguistic import GRAMMAR, PHRASES, read_phrase

Q = Question(id="q1", question="2 + 2 = ?", choices=("3", "4", "5", "6"), answer="B", subject="math", category="STEM", dataset="t")


@pytest.mark.parametrize("text,confidence,status", [
    (" highly likely", 0.90, OK),
    ("Confidence: we believe", 0.75, OK),  # the llama.cpp server returns the prefill with the reply
    ("Probably not.", 0.25, OK),
    ('{"confidence": "almost no chance"}', 0.02, OK),
    ("very likely", None, NO_CONFIDENCE),  # not one of the expressions
    ("", None, NO_CONFIDENCE),
])
def test_an_expression_is_read_as_its_table_value(text, confidence, status):
    parsed = read_phrase(text)
    assert (parsed.confidence, parsed.status) == (confidence, status) and parsed.letter is None


def test_a_cut_reply_is_truncated():
    assert read_phrase(" highly", cut=True).status == TRUNCATED


def test_the_table_is_seventeen_expressions_from_most_to_least_likely():
    assert len(PHRASES) == 17 and list(PHRASES.values()) == sorted(PHRASES.values(), reverse=True)


def test_the_request_follows_the_answer_read_and_constrains_the_expression():
    p = PROTOCOLS["linguistic"]
    messages = p.messages(Q, answer="B", backend="llama.cpp")
    assert messages[-3]["content"] == "Answer: B" and messages[-1] == {"role": "assistant", "content": "Confidence:"}
    assert p.options(Q, temperature=0.0, seed=0, backend="llama.cpp").extra["grammar"] == GRAMMAR
    remote = p.options(Q, temperature=0.0, seed=0, backend="openai")
    assert remote.response_format["json_schema"]["schema"]["properties"]["confidence"]["enum"] == list(PHRASES)
    assert p.messages(Q, answer="B", backend="openai")[-1]["role"] == "user" and not p.self_answering


def test_a_cut_expression_is_not_read():
    assert read_phrase(" probably", cut=True).status == TRUNCATED  # it may have been "probably not"
