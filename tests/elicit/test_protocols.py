import pytest

from calibench.data.question import Question
from calibench.elicit.protocols import PROTOCOLS, SYSTEM_PROMPT, get_protocol, grammar
from calibench.errors import CalibenchError
from calibench.study.config import parse_config

Q = Question(id="q1", question="2 + 2 = ?", choices=("3", "4", "5", "6"), answer="B", subject="math", category="STEM", dataset="t")


def test_messages_share_the_question_as_prefix():
    verbal = PROTOCOLS["verbalized"].messages(Q)
    json_ = PROTOCOLS["verbalized-json"].messages(Q)
    assert verbal[0] == json_[0] == {"role": "system", "content": SYSTEM_PROMPT}
    shared = "2 + 2 = ?\nA. 3\nB. 4\nC. 5\nD. 6\n\n"
    assert verbal[1]["content"].startswith(shared) and json_[1]["content"].startswith(shared)
    assert verbal[1]["content"] != json_[1]["content"]


def test_json_constraint_is_a_schema_or_a_compact_grammar():
    proto = PROTOCOLS["verbalized-json"]
    schema = proto.options(Q, temperature=0.0, seed=0).body()
    assert schema["response_format"]["json_schema"]["schema"]["properties"]["answer"]["enum"] == ["A", "B", "C", "D"]
    assert "grammar" not in schema
    gbnf = proto.options(Q, temperature=0.0, seed=0, constraint="grammar").body()
    assert "response_format" not in gbnf  # llama.cpp refuses both at once
    assert gbnf["grammar"] == grammar(Q.letters)
    assert '"{\\"answer\\":\\"" letter "\\",\\"confidence\\":" number "}"' in gbnf["grammar"]
    assert 'letter ::= "A" | "B" | "C" | "D"' in gbnf["grammar"]
    with pytest.raises(CalibenchError, match="unknown constraint"):
        proto.options(Q, temperature=0.0, seed=0, constraint="xml")
    # the free-text protocol is not constrained either way
    assert "grammar" not in PROTOCOLS["verbalized"].options(Q, temperature=0.0, seed=0, constraint="grammar").body()


def test_hashes_cite_what_shapes_the_prompt():
    hashes = {name: p.sha256 for name, p in PROTOCOLS.items()}
    assert len(set(hashes.values())) == 3
    assert get_protocol("logprob").request_protocol == "verbalized"
    with pytest.raises(CalibenchError, match="unknown protocol"):
        get_protocol("nope")


def test_constraint_defaults_to_the_grammar_on_the_embedded_engine_only():
    cfg = parse_config({"models": [
        {"name": "smollm2-135m"},
        {"name": "remote", "endpoints": [{"base_url": "http://localhost:1/v1"}]},
        {"name": "remote-llama", "endpoints": [{"base_url": "http://localhost:1/v1"}], "constraint": "grammar"},
    ]})
    assert [m.json_constraint for m in cfg.models] == ["grammar", "json-schema", "grammar"]
