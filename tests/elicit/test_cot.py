"""cot (Xiong et al. 2024): reasoning, then a final answer; only the final answer is read."""

import pytest

from calibench.data.question import Question
from calibench.elicit.parser import AMBIGUOUS, LENIENT, NO_ANSWER, OK, TRUNCATED
from calibench.elicit.protocols import PROTOCOLS
from calibench.elicit.protocols.cot import read_final_answer

Q = Question(id="q1", question="Who was the 16th US president?", choices=("George Washington", "Abraham Lincoln", "Ulysses S. Grant", "4"),
             answer="B", subject="history", category="Humanities", dataset="t")


def read(text, finish="stop"):
    p = read_final_answer(text, Q.letters, Q.choices, finish_reason=finish)
    return p.letter, p.confidence, p.status


@pytest.mark.parametrize("text,expected", [
    # the reasoning names other options; only the final statement counts
    ("A was the first president, so not A. C came later. Lincoln is B.\nAnswer: B\nConfidence: 90%", ("B", 0.9, OK)),
    ("Let me think. Answer: maybe A? No.\nOption C is wrong.\nAnswer: B\nConfidence: 80%", ("B", 0.8, OK)),
    ("Step 1: ...\n**Final answer:** B\nConfidence: 75%", ("B", 0.75, LENIENT)),
    # the option's text instead of its letter
    ("Lincoln led during the Civil War.\nAnswer: Abraham Lincoln\nConfidence: 95%", ("B", 0.95, LENIENT)),
    ("The count is four.\nAnswer: 4\nConfidence: 60%", ("D", 0.6, LENIENT)),
    # several letters in the final statement
    ("Hard to say.\nAnswer: A or B\nConfidence: 50%", (None, None, AMBIGUOUS)),
    # statements that disagree, or a letter asserted after the final one: not chosen between
    ("Final answer: B\nConfidence: 80%\n```\nAnswer: D\n```", (None, None, AMBIGUOUS)),
    ("Answer: A is tempting but wrong.\nThe right one is therefore C.\nConfidence: 80%", (None, None, NO_ANSWER)),
    ("Answer: B\nConfidence: 60%\nWait, actually the correct option is C.", (None, None, AMBIGUOUS)),
    ("Answer: B\nConfidence: 70%\nMore thoughts.\n- Answer: A would be wrong", (None, None, AMBIGUOUS)),
    # a blank line between the answer and the confidence (Qwen2.5-Coder-1.5B wrote it): the same statement, lenient
    ("Therefore, the answer is:\n\nAnswer: A\n\nConfidence: 100%", ("A", 1.0, LENIENT)),
    # text after the final statement that asserts nothing changes nothing
    ("Lincoln.\nAnswer: B\nConfidence: 90%\nI hope this helps!", ("B", 0.9, OK)),
    # no final answer: cut by the budget, or simply absent
    ("First, consider A. Then B. Then", (None, None, TRUNCATED)),
    ("I think it is B, with 90% confidence.", (None, None, NO_ANSWER)),
    # a final answer whose confidence was cut
    ("Reasoning...\nAnswer: B\nConfidence: 8", ("B", None, TRUNCATED)),
])
def test_the_final_answer_is_read(text, expected):
    finish = "length" if expected[2] == TRUNCATED else "stop"
    assert read(text, finish) == expected


def test_option_text_that_matches_no_option_or_several_is_not_read():
    assert read("Answer: Lincoln\nConfidence: 90%")[2] == NO_ANSWER  # not an option's whole text
    twins = Question(id="q2", question="?", choices=("yes", "no", "yes", "maybe"), answer="A", subject="s", category="Other", dataset="t")
    p = read_final_answer("Answer: yes\nConfidence: 90%", twins.letters, twins.choices)
    assert p.letter is None


def test_its_request_budgets_the_reasoning():
    options = PROTOCOLS["cot"].options(Q, temperature=0.0, seed=0, backend="llama.cpp")
    assert options.max_tokens == 256 and options.response_format is None and PROTOCOLS["cot"].self_answering
    assert "step by step" in PROTOCOLS["cot"].messages(Q)[-1]["content"]


def test_a_long_adversarial_reply_is_read_quickly():
    import time

    text = "Answer: A\n" * 2_000 + "x" * 10_000
    start = time.perf_counter()
    read(text)
    assert time.perf_counter() - start < 0.5
