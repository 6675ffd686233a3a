"""p-true-samples (Kadavath et al. 2022, P(True) with samples): brainstormed letters, then P(True)."""

import json

from calibench.cli import main
from calibench.elicit.protocols import PROTOCOLS, request_protocols
from calibench.study import load_run


def test_the_brainstorm_comes_first_and_the_question_shows_it(fault_server, tmp_path):
    def reply(body):
        last = body["messages"][-1]["content"]
        if last.startswith("Answers you gave"):
            return ("ok", "True")
        if body["temperature"] == 1.0:  # a brainstormed letter: C for one seed in five, else B
            return ("ok", '{"answer": "C"}' if body["seed"] % 5 == 0 else '{"answer": "B"}')
        return ("ok", '{"answer": "B"}')  # the answer read

    fault_server.default = reply
    assert main(["run", "--model", f"m@{fault_server.base_url}", "--protocol", "p-true-samples", "--out", str(tmp_path / "run"),
                 "--quiet", "--limit", "3"]) == 0
    asked = [r["body"] for r in fault_server.requests]
    assert len(asked) == 3 * (1 + 5 + 1)
    judged = [b for b in asked if b["messages"][-1]["content"].startswith("Answers you gave")]
    assert all(b["messages"][-2] == {"role": "assistant", "content": "Answer: B"} for b in judged)
    for b in judged:  # the letters the server gave that question's brainstorm, in order
        question = b["messages"][1]["content"]
        given = ["C" if r["seed"] % 5 == 0 else "B" for r in asked if r["temperature"] == 1.0 and r["messages"][1]["content"] == question]
        assert len(given) == 5 and b["messages"][-1]["content"] == (
            f"Answers you gave when asked this question again: {', '.join(given)}. Is your answer correct? Reply True or False.")
    seeds = [r["seed"] for r in asked if r["temperature"] == 1.0]
    assert len(set(seeds)) == 5  # five seeds of their own, the same for every question (repetition 0)
    run = load_run(tmp_path / "run")
    brainstorm = [i for i in run.items if i["protocol"] == "answer~brainstorm"]
    assert len(brainstorm) == 15 and sorted({i["sample"] for i in brainstorm}) == [0, 1, 2, 3, 4]
    assert {i["repetition"] for i in brainstorm} == {0}
    mine = [i for i in run.items if i["protocol"] == "p-true-samples"]
    assert [(i["letter"], i["confidence"], i["status"]) for i in mine] == [("B", 1.0, "ok")] * 3


def test_its_requests_are_ordered_after_what_it_builds_on():
    names = [p.name for p in request_protocols(["p-true-samples", "verbalized", "stated"])]
    assert names[0] == "answer" and names.index("p-true-samples") > max(names.index(f"answer~brainstorm{j}") for j in range(5))
    assert PROTOCOLS["p-true-samples"].builds_on == tuple(f"answer~brainstorm{j}" for j in range(5))


def test_the_protocol_list_counts_the_brainstorm_once(capsys):
    assert main(["protocols", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert len(rows) >= 9 and rows["p-true-samples"]["requests_per_question"] == {"answer": 1, "answer~brainstorm": 5, "p-true-samples": 1}


def test_it_is_not_asked_unless_every_brainstormed_letter_was_read(fault_server, tmp_path):
    def reply(body):
        if body["messages"][-1]["content"].startswith("Answers you gave"):
            return ("ok", "True")
        if body["temperature"] == 1.0:
            return ("ok", "no letter here")  # a brainstorm that reads no letter
        return ("ok", '{"answer": "B"}')

    fault_server.default = reply
    assert main(["run", "--model", f"m@{fault_server.base_url}", "--protocol", "p-true-samples", "--out", str(tmp_path / "run"),
                 "--quiet", "--limit", "2"]) == 0
    assert not any(r["body"]["messages"][-1]["content"].startswith("Answers you gave") for r in fault_server.requests)
    mine = [i for i in load_run(tmp_path / "run").items if i["protocol"] == "p-true-samples"]
    assert [i["status"] for i in mine] == ["failed"] * 2 and all(i["confidence"] is None for i in mine)
