"""top-k (Tian et al. 2023): two guesses with probabilities, the first read; its own schema."""

import json

import pytest

from calibench.cli import main
from calibench.data.question import Question
from calibench.elicit.parser import NO_ANSWER, OK, OUT_OF_RANGE, TRUNCATED
from calibench.elicit.protocols import PROTOCOLS
from calibench.elicit.protocols.top_k import read_guesses
from calibench.study import load_run

Q = Question(id="q1", question="2 + 2 = ?", choices=("3", "4", "5", "6"), answer="B", subject="math", category="STEM", dataset="t")


@pytest.mark.parametrize("text,letter,confidence,status", [
    ('{"guesses": [{"answer": "B", "probability": 0.7}, {"answer": "C", "probability": 0.2}]}', "B", 0.7, OK),
    ('{"guesses": [{"answer": "C", "probability": 70}, {"answer": "B", "probability": 20}]}', "C", 0.7, OK),  # a percentage
    ('{"guesses": [{"answer": "B", "probability": 1.7}, {"answer": "C", "probability": 0.2}]}', "B", None, OUT_OF_RANGE),
    ('{"guesses": [{"answer": "B", "probability": 2.0}, {"answer": "C", "probability": 2.0}]}', "B", None, OUT_OF_RANGE),  # SmolLM2-135M wrote it
    ('{"guesses": [{"answer": "B", "probability": 1}, {"answer": "C", "probability": 0}]}', "B", 1.0, OK),  # 1 is certain here
    ('{"guesses": [{"answer": "B", "probability": "high"}, {"answer": "C", "probability": 0.2}]}', "B", None, "no_confidence"),
    ('{"guesses": [{"answer": "E", "probability": 0.5}, {"answer": "C", "probability": 0.2}]}', None, None, NO_ANSWER),
    ('{"guesses": []}', None, None, NO_ANSWER),
    ('{"guesses": [{"answer": "B", "probab', None, None, TRUNCATED),
    ("B, probably", None, None, NO_ANSWER),
])
def test_the_first_guess_is_read_in_the_scale_asked_for(text, letter, confidence, status):
    parsed = read_guesses(text, Q.letters)
    assert (parsed.letter, parsed.confidence, parsed.status, parsed.rule) == (letter, confidence, status, "top-k")


def test_its_request_carries_a_schema_of_exactly_two_guesses():
    options = PROTOCOLS["top-k"].options(Q, temperature=0.0, seed=0, backend="llama.cpp")
    schema = options.response_format["json_schema"]["schema"]["properties"]["guesses"]
    assert (schema["minItems"], schema["maxItems"]) == (2, 2)
    assert schema["items"]["properties"]["answer"]["enum"] == ["A", "B", "C", "D"] and options.max_tokens == 80
    assert PROTOCOLS["top-k"].constraint_used(constraint="json-schema", backend="openai", logprobs=True) == "json-schema-top-k"


def test_a_study_runs_it_and_measures_it_against_the_answer_read(fault_server, tmp_path):
    def reply(body):
        if body.get("response_format", {}).get("json_schema", {}).get("name") == "top_k":
            return ("ok", json.dumps({"guesses": [{"answer": "C", "probability": 0.6}, {"answer": "B", "probability": 0.3}]}))
        return ("ok", '{"answer": "B"}')  # the answer read (an OpenAI backend: a constrained letter)

    fault_server.default = reply
    assert main(["run", "--model", f"m@{fault_server.base_url}", "--protocol", "top-k", "--protocol", "stated",
                 "--out", str(tmp_path / "run"), "--quiet", "--limit", "4"]) == 0
    run = load_run(tmp_path / "run")
    mine = [i for i in run.items if i["protocol"] == "top-k"]
    assert [(i["letter"], i["confidence"], i["status"]) for i in mine] == [("C", 0.6, "ok")] * 4
    (topk,) = [p for p in run.results.models[0].protocols if p.protocol == "top-k"]
    assert topk.validity is not None and topk.validity.agreement == 0.0  # C against the answer read's B, every time
