"""cot (Xiong et al. 2024): reasoning, then a final answer; only the final answer is read."""

import pytest

from calibench.data.question import Question
from calibench.elicit.parser import AMBIGUOUS, LENIENT, NO_ANSWER, OK, TRUNCATED
from calibench.elicit.protocols import PROTOCOLS
from calibench.elicit.protocols.cot import CONCLUSION, MAX_TOKENS, read_final_answer

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
    assert options.max_tokens == MAX_TOKENS == 128 and options.response_format is None and PROTOCOLS["cot"].self_answering
    assert "step by step" in PROTOCOLS["cot"].messages(Q)[-1]["content"]


def _reply(text, finish="stop"):
    return {"choices": [{"message": {"content": text}, "finish_reason": finish}]}


def test_a_cut_reasoning_is_concluded_with_the_final_statement_opened_after_it():
    cut, done = _reply("Lincoln led the Union. So the", "length"), _reply("He led the Union.\nAnswer: B\nConfidence: 90%")
    assert CONCLUSION.ready(Q, {"cot": cut})
    assert not CONCLUSION.ready(Q, {"cot": done}) and not CONCLUSION.ready(Q, {"cot": None})
    # cut inside its final statement: read as it is (truncated), nothing to conclude
    assert not CONCLUSION.ready(Q, {"cot": _reply("So.\nAnswer: B\nConfidence: 9", "length")})
    messages = CONCLUSION.messages(Q, earlier={"cot": cut})
    assert messages[:-1] == PROTOCOLS["cot"].messages(Q)
    assert messages[-1] == {"role": "assistant", "content": "Lincoln led the Union. So the\n\nAnswer:"}
    assert CONCLUSION.options(Q, temperature=0.0, seed=0).max_tokens == 16
    assert CONCLUSION.options(Q, temperature=0.0, seed=0, max_tokens=512).max_tokens == 16  # a study's budget is for reasoning
    # a server that continues no assistant message is asked in a further turn
    plain = CONCLUSION.messages(Q, earlier={"cot": cut}, backend="openai")
    assert plain[-2] == {"role": "assistant", "content": "Lincoln led the Union. So the"} and "Answer: <letter>" in plain[-1]["content"]
    vllm = CONCLUSION.options(Q, temperature=0.0, seed=0, backend="vllm")
    assert vllm.extra["continue_final_message"] is True


def test_the_conclusion_is_read_with_the_reasoning_as_one_reply():
    cot = PROTOCOLS["cot"]
    cut = cot.read(_reply("Lincoln led the Union. So the", "length"), Q)
    assert cut.parsed.status == TRUNCATED
    read = cot.concluded(cut, CONCLUSION.read(_reply(" B\nConfidence: 80%"), Q), Q)
    assert (read.parsed.letter, read.parsed.confidence, read.parsed.status) == ("B", 0.8, OK)
    assert read.parsed.rule.startswith("cot-forced:")
    assert read.text == "Lincoln led the Union. So the\n\nAnswer: B\nConfidence: 80%"
    # asked in a further turn (no prefill on the server), the conclusion is read as it stands
    turn = cot.concluded(cut, CONCLUSION.read(_reply("Answer: C\nConfidence: 30%"), Q), Q, backend="openai")
    assert (turn.parsed.letter, turn.parsed.confidence) == ("C", 0.3) and turn.text.endswith("So the\n\nAnswer: C\nConfidence: 30%")
    # ... and is not given an "Answer:" it never wrote
    assert cot.concluded(cut, CONCLUSION.read(_reply("C\nConfidence: 30%"), Q), Q, backend="openai").parsed.letter is None
    # after a prefill, a reply that states "Answer:" again is read from the prefilled statement on
    again = cot.concluded(cut, CONCLUSION.read(_reply(" C\nConfidence: 70%\n\nAnswer: C"), Q), Q)
    assert again.text.endswith("Answer: C\nConfidence: 70%\n\nAnswer: C")
    # a conclusion that itself runs out is truncated, not read
    assert cot.concluded(cut, CONCLUSION.read(_reply(" B\nConfid", "length"), Q), Q).parsed.letter is None


def test_a_long_adversarial_reply_is_read_quickly():
    import time

    text = "Answer: A\n" * 2_000 + "x" * 10_000
    start = time.perf_counter()
    read(text)
    assert time.perf_counter() - start < 0.5


def test_a_study_concludes_only_the_cut_replies(fault_server, tmp_path):
    import json

    from calibench.cli import main
    from calibench.elicit.protocols.cot import CONCLUDE
    from calibench.study import load_run

    cut_questions = set()

    def reply(body):
        last = body["messages"][-1]["content"]
        if last == CONCLUDE:
            return ("ok", "Answer: B\nConfidence: 65%")
        if len(cut_questions) < 3 and last not in cut_questions:  # the first three questions run out of budget
            cut_questions.add(last)
        if last in cut_questions:
            choice = {"index": 0, "finish_reason": "length", "message": {"role": "assistant", "content": "Let me think about A and C"}}
            return ("raw", json.dumps({"id": "x", "object": "chat.completion", "choices": [choice], "usage": {}}).encode())
        return ("ok", "A is wrong.\nAnswer: C\nConfidence: 90%")

    fault_server.default = reply
    study = tmp_path / "s.toml"
    study.write_text(f'name = "c"\nout = "{tmp_path / "run"}"\nprotocols = ["cot"]\n[data]\nlimit = 8\n'
                     f'[[models]]\nname = "m"\nendpoints = [{{ base_url = "{fault_server.base_url}" }}]\n')
    assert main(["run", str(study), "--quiet"]) == 0
    asked = [r["body"]["messages"][-1]["content"] for r in fault_server.requests]
    assert asked.count(CONCLUDE) == 3 and len(asked) == 11  # 8 reasonings, 3 conclusions
    assert all(r["body"]["max_tokens"] == 16 for r in fault_server.requests if r["body"]["messages"][-1]["content"] == CONCLUDE)
    items = [i for i in load_run(tmp_path / "run").items if i["protocol"] == "cot"]
    forced = [i for i in items if i["rule"].startswith("cot-forced:")]
    assert len(forced) == 3 and all(i["letter"] == "B" and i["confidence"] == 0.65 and i["status"] == "ok" for i in forced)
    assert forced[0]["raw_text"] == "Let me think about A and C\n\nAnswer: B\nConfidence: 65%"
    assert all(i["concluded"] for i in forced) and not any(i["concluded"] for i in items if i not in forced)
    assert load_run(tmp_path / "run").results.models[0].protocols[0].parse.concluded == 3
    assert sorted((i["letter"], i["confidence"]) for i in items if i not in forced) == [("C", 0.9)] * 5
