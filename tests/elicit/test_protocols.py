import pytest

from calibench.data.question import Question
from calibench.elicit.protocols import (
    NUMBER_GRAMMAR,
    PROTOCOLS,
    REQUESTS,
    SYSTEM_PROMPT,
    get_protocol,
    grammar,
    request_protocols,
)
from calibench.errors import CalibenchError
from calibench.study.config import parse_config

Q = Question(id="q1", question="2 + 2 = ?", choices=("3", "4", "5", "6"), answer="B", subject="math", category="STEM", dataset="t")
SHARED = "2 + 2 = ?\nA. 3\nB. 4\nC. 5\nD. 6\n\n"


def test_every_request_shares_the_question_as_prefix():
    for name, protocol in REQUESTS.items():
        messages = protocol.messages(Q, answer="C")
        assert messages[0] == {"role": "system", "content": SYSTEM_PROMPT}
        if protocol.template == "few-shot":  # its worked examples come first (tests/elicit/test_templates.py)
            continue
        assert messages[1]["content"].startswith(SHARED), name
    assert "confiden" not in SYSTEM_PROMPT.lower()  # the answer read is asked without a word of confidence


def test_the_answer_read_is_one_token_after_a_prefilled_answer():
    answer = REQUESTS["answer"]
    messages = answer.messages(Q)
    assert messages[-1] == {"role": "assistant", "content": "Answer:"}
    body = answer.options(Q, temperature=0.0, seed=0).body()
    assert body["max_tokens"] == 1 and body["logprobs"] is True and body["top_logprobs"] >= 20
    # vLLM continues a final assistant message only when asked to
    vllm = answer.options(Q, temperature=0.0, seed=0, backend="vllm").body()
    assert vllm["continue_final_message"] is True and vllm["add_generation_prompt"] is False
    # no prefill: the model's own letter, constrained to the options
    openai = answer.options(Q, temperature=0.0, seed=0, backend="openai").body()
    assert openai["response_format"]["json_schema"]["schema"]["properties"]["answer"]["enum"] == ["A", "B", "C", "D"]
    assert openai["max_tokens"] >= len('{"answer": "B"}')  # room for the whole object, not its first token
    assert answer.messages(Q, backend="openai")[-1]["role"] == "user"
    local_no_logprobs = answer.options(Q, temperature=0.0, seed=0, logprobs=False).body()
    assert local_no_logprobs["grammar"] == 'root ::= "A" | "B" | "C" | "D"\n' and "logprobs" not in local_no_logprobs


def test_follow_ups_continue_from_the_answer_letter():
    stated, p_true = PROTOCOLS["stated"], PROTOCOLS["p-true"]
    m = stated.messages(Q, answer="C")
    assert m[2] == {"role": "assistant", "content": "Answer: C"}
    assert m[3]["role"] == "user" and "how likely" in m[3]["content"].lower()
    assert m[4] == {"role": "assistant", "content": "Confidence:"}  # llama.cpp: prefill, then the number grammar
    body = stated.options(Q, temperature=0.0, seed=0).body()
    assert body["grammar"] == NUMBER_GRAMMAR and "response_format" not in body
    remote = stated.options(Q, temperature=0.0, seed=0, backend="openai").body()
    assert remote["response_format"]["json_schema"]["schema"]["required"] == ["confidence"]
    assert stated.messages(Q, answer="C", backend="openai")[-1]["role"] == "user"
    assert p_true.messages(Q, answer="C")[-1]["content"] == "Is your answer correct? Reply True or False."
    assert p_true.options(Q, temperature=0.0, seed=0).body()["max_tokens"] == 1
    with pytest.raises(CalibenchError, match="its letter is needed"):
        stated.messages(Q)


def test_the_number_grammar_takes_either_scale():
    import re

    number = NUMBER_GRAMMAR.split("number ::= ")[1]
    assert '" "? number "%"?' in NUMBER_GRAMMAR and '("." [0-9]{1,4})?' in number
    assert re.search(r'\("0" \| \[1-9\] \[0-9\]\{0,2\}\)', number)


def test_json_constraint_is_a_schema_or_a_compact_grammar():
    proto = PROTOCOLS["verbalized-json"]
    schema = proto.options(Q, temperature=0.0, seed=0).body()
    assert schema["response_format"]["json_schema"]["schema"]["properties"]["answer"]["enum"] == ["A", "B", "C", "D"]
    assert "grammar" not in schema
    gbnf = proto.options(Q, temperature=0.0, seed=0, constraint="grammar").body()
    assert "response_format" not in gbnf  # llama.cpp refuses both at once
    assert gbnf["grammar"] == grammar(Q.letters)
    # a backend without grammars gets the schema whatever the setting
    assert "response_format" in proto.options(Q, temperature=0.0, seed=0, constraint="grammar", backend="vllm").body()
    with pytest.raises(CalibenchError, match="unknown constraint"):
        proto.options(Q, temperature=0.0, seed=0, constraint="xml")
    assert "grammar" not in PROTOCOLS["verbalized"].options(Q, temperature=0.0, seed=0, constraint="grammar").body()


def test_requests_in_a_fixed_order_answer_read_first():
    assert [p.name for p in request_protocols(["verbalized", "stated"])] == ["answer", "stated", "verbalized"]
    assert [p.name for p in request_protocols(["logprob"])] == ["answer"]
    assert [p.name for p in request_protocols(["verbalized-json"])] == ["verbalized-json"]


def test_hashes_cite_what_shapes_the_prompt():
    hashes = {name: p.sha256 for name, p in PROTOCOLS.items()}
    assert len(set(hashes.values())) == len(PROTOCOLS)
    assert get_protocol("logprob").request == "answer"
    with pytest.raises(CalibenchError, match="unknown protocol"):
        get_protocol("nope")


def test_constraint_defaults_to_the_schema_and_backend_to_the_engine():
    cfg = parse_config({"models": [
        {"name": "smollm2-135m"},
        {"name": "remote", "endpoints": [{"base_url": "http://localhost:1/v1"}]},
        {"name": "remote-llama", "endpoints": [{"base_url": "http://localhost:1/v1"}], "constraint": "grammar", "backend": "llama.cpp"},
    ]})
    assert [m.json_constraint for m in cfg.models] == ["json-schema", "json-schema", "grammar"]
    assert [m.server for m in cfg.models] == ["llama.cpp", "openai", "llama.cpp"]
    used = PROTOCOLS["stated"].constraint_used(constraint="json-schema", backend="llama.cpp", logprobs=True)
    assert used == "prefill+grammar-number"
    assert PROTOCOLS["logprob"].constraint_used(constraint="json-schema", backend="llama.cpp", logprobs=True) == "prefill"


# the hashes of the protocols the published studies were asked with: every store key and
# results.json cites them, so a change re-asks every stored reply (bump a version on purpose)
PINNED = {
    "stated": "ea595517220e7d0e50f58e6dac9d819c209e49f9aa19d143ea6e809e5e0eaa38",
    "logprob": "a70213e48ea525cf6c9e824b7ea265189ee4df4ea08d7ebb8ecfcf1a256c8bdb",
    "p-true": "5716254c7727c093d83f44d949117ab39bd8b1faefc4854fdd4cc47d8fd88b6b",
    "verbalized": "5cfd10e3a5d9e8e194615eead52bb4ce3a94ecd9fc130108165866b189970e44",
    "verbalized-json": "d6baab4fa3d6c7e687c71424f9cd253c535aca587937cfd899d87149fc1b382d",
}


def test_the_published_protocols_keep_their_hashes():
    from calibench.elicit.protocols import ANSWER

    assert {name: PROTOCOLS[name].sha256 for name in PINNED} == PINNED
    assert ANSWER.sha256 == "b002ee4813baec5bd9a002707474544c8d28e14149d3578f6e6558c41f6a47a2"
