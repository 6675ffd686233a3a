"""Prompt templates: each stated protocol in other words and with worked examples, the answer left as it was."""

import json

import pytest

from calibench.data import load_dataset
from calibench.elicit.protocols import PROTOCOLS, get_protocol
from calibench.elicit.protocols.templates import EXAMPLES, check_outside, example_questions, split_name, with_template
from calibench.errors import CalibenchError

QUESTION = load_dataset("mmlu")[0]


def test_each_stated_protocol_comes_in_three_templates():
    for name in ("stated", "verbalized", "verbalized-json"):
        assert PROTOCOLS[name].templates == ("plain", "few-shot", "rephrased")
    for name in ("logprob", "p-true", "top-k", "cot", "linguistic", "p-true-samples"):
        assert PROTOCOLS[name].templates == ("plain",)
    assert with_template(PROTOCOLS["stated"], "plain") is PROTOCOLS["stated"]
    with pytest.raises(CalibenchError, match="protocol 'p-true' has no few-shot template"):
        get_protocol("p-true@few-shot")
    with pytest.raises(CalibenchError, match="unknown template 'fewshot'"):
        get_protocol("stated@fewshot")
    for name in ("stated@plain", "stated@"):
        with pytest.raises(CalibenchError, match="the plain template is the protocol itself; name it 'stated'"):
            get_protocol(name)
    assert split_name("stated@few-shot") == ("stated", "few-shot") and split_name("stated") == ("stated", "plain")


def test_rephrased_changes_only_the_protocols_own_words():
    plain, rephrased = PROTOCOLS["stated"], get_protocol("stated@rephrased")
    a, b = plain.messages(QUESTION, answer="B"), rephrased.messages(QUESTION, answer="B")
    assert a[:3] == b[:3]  # system, question and the answer read's letter: the same
    assert a[3]["content"] != b[3]["content"] and b[3]["content"] == plain.rephrasing
    assert a[4] == b[4] == {"role": "assistant", "content": "Confidence:"}
    v, vr = PROTOCOLS["verbalized"].messages(QUESTION), get_protocol("verbalized@rephrased").messages(QUESTION)
    assert v[1]["content"].startswith(QUESTION.question) and vr[1]["content"].endswith("Answer: <letter>\nConfidence: <0-100>%")
    assert v[1]["content"] != vr[1]["content"]
    assert rephrased.sha256 != plain.sha256 and rephrased.options(QUESTION, temperature=0, seed=0) == plain.options(QUESTION, temperature=0, seed=0)


def test_few_shot_puts_three_worked_conversations_before_the_question_and_keeps_the_answer_read():
    questions = example_questions()
    assert [q.id for q in questions] == [qid for qid, _, _ in EXAMPLES]
    assert len({letter for _, letter, _ in EXAMPLES}) == 3 and all(q.answer == letter for q, (_, letter, _) in zip(questions, EXAMPLES))
    stated = get_protocol("stated@few-shot").messages(QUESTION, answer="C")
    assert stated[0]["role"] == "system" and len(stated) == 1 + 3 * 4 + 4
    first = stated[1:5]
    assert first[0]["content"].startswith(questions[0].question) and first[1]["content"] == f"Answer: {EXAMPLES[0][1]}"
    assert first[2]["content"] == PROTOCOLS["stated"].follow_up and first[3]["content"] == f"Confidence: {EXAMPLES[0][2]}%"
    assert stated[-4:] == PROTOCOLS["stated"].messages(QUESTION, answer="C")[1:]  # the question and the answer read's letter, as plain
    # without grammars the stated number is asked for as JSON, and so are the examples' replies
    assert get_protocol("stated@few-shot").messages(QUESTION, answer="C", backend="openai")[4]["content"] == '{"confidence": 40}'
    vjson = get_protocol("verbalized-json@few-shot").messages(QUESTION)
    assert json.loads(vjson[2]["content"]) == {"answer": EXAMPLES[0][1], "confidence": EXAMPLES[0][2]} and len(vjson) == 1 + 3 * 2 + 1
    verbalized = get_protocol("verbalized@few-shot").messages(QUESTION)
    assert verbalized[6]["content"] == f"Answer: {EXAMPLES[2][1]}\nConfidence: {EXAMPLES[2][2]}%"


def test_a_templates_hash_covers_its_examples_and_the_plain_hash_does_not_move(monkeypatch):
    import calibench.elicit.protocols.templates as templates

    few_shot = get_protocol("stated@few-shot")
    before, plain = few_shot.sha256, PROTOCOLS["stated"].sha256
    monkeypatch.setattr(templates, "EXAMPLES", (EXAMPLES[0], EXAMPLES[1], (EXAMPLES[2][0], EXAMPLES[2][1], 60)))
    assert few_shot.sha256 != before and PROTOCOLS["stated"].sha256 == plain


def test_a_study_holding_an_example_is_refused_for_few_shot_only():
    inside = [QUESTION, example_questions()[1]]
    check_outside(inside, [PROTOCOLS["stated"], get_protocol("stated@rephrased")])
    with pytest.raises(CalibenchError, match="include the few-shot examples world_religions/49"):
        check_outside(inside, [get_protocol("stated@few-shot")])


def test_the_examples_lie_outside_every_default_sample():
    from calibench.data.mmlu_subjects import DEFAULT_STUDY_SUBJECTS

    assert not {q.subject for q in example_questions()} & set(DEFAULT_STUDY_SUBJECTS)
