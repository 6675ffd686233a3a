from pathlib import Path

import pytest

from calibench.errors import CalibenchError
from calibench.study import load_config, parse_config

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.toml"))


def test_logprob_needs_prefill_and_logprobs():
    remote = {"name": "r", "endpoints": [{"base_url": "http://localhost:1/v1"}]}
    # unset: the default protocols the models can run
    assert parse_config({"models": [remote]}).protocols == ["stated", "p-true", "verbalized", "verbalized-json"]
    assert "logprob" in parse_config({"models": [{**remote, "backend": "vllm"}]}).protocols
    with pytest.raises(CalibenchError, match=r"protocol logprob .* takes no assistant prefill \(backend 'openai'\)"):
        parse_config({"models": [remote], "protocols": ["logprob"]})
    with pytest.raises(CalibenchError, match=r"returns no logprobs"):
        parse_config({"models": [{"name": "smollm2-135m", "logprobs": False}], "protocols": ["logprob"]})


def test_defaults():
    cfg = parse_config({"models": [{"name": "smollm2-135m"}]})
    assert cfg.protocols == ["stated", "logprob", "p-true", "verbalized", "verbalized-json"]
    assert cfg.sampling.temperature == 0.0 and cfg.sampling.repetitions == 1 and cfg.data.dataset == "mmlu"
    assert cfg.models[0].local and cfg.out_dir == Path("runs/study")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, r"config: models: Field required"),
        ({"models": []}, r"models: List should have at least 1 item"),
        ({"models": [{"name": "a"}], "protocols": ["psychic"]}, r"unknown protocol\(s\) psychic"),
        ({"models": [{"name": "a", "engine": {"parallel": 0}}]}, r"models.0.engine.parallel: Input should be greater than or equal to 1"),
        ({"models": [{"name": "a", "endpoints": [{"base_url": "localhost:8000"}]}]}, r"base_url: must start with http"),
        ({"models": [{"name": "a"}], "sampling": {"temperature": "hot"}}, r"sampling.temperature: Input should be a valid number"),
        ({"models": [{"name": "a"}], "data": {"n_total": 0}}, r"data.n_total"),
        ({"models": [{"name": "a"}, {"name": "a"}]}, r"model names must be distinct"),
        ({"models": [{"name": "a", "api_key": "sk-123"}]}, r"models.0.api_key: unknown setting"),
    ],
)
def test_invalid_configs_are_one_clear_line(data, message):
    with pytest.raises(CalibenchError, match=message) as err:
        parse_config(data)
    assert "\n" not in str(err.value)


def test_every_typo_is_named_with_the_setting_meant():
    data = {"models": [{"name": "a", "retrys": {}, "endpoints": [{"base_url": "http://h/v1", "timeout": 9}]}],
            "data": {"n_totl": 20}, "sampling": {"temprature": 0.5}, "zzz": 1}
    with pytest.raises(CalibenchError) as err:
        parse_config(data, source="s.toml")
    message = str(err.value)
    assert message.startswith("s.toml: 5 problems: ") and "\n" not in message
    for part in ("models.0.retrys: unknown setting (did you mean retry?)",
                 "models.0.endpoints.0.timeout: unknown setting (did you mean timeout_s?)",
                 "data.n_totl: unknown setting (did you mean n_total?)",
                 "sampling.temprature: unknown setting (did you mean temperature?)",
                 "zzz: unknown setting;"):
        assert part in message + ";"


def test_bad_files(tmp_path):
    with pytest.raises(CalibenchError, match="no such file"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(CalibenchError, match="not valid TOML"):
        load_config(bad)
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"name = '\xff'\n")
    with pytest.raises(CalibenchError, match="not valid UTF-8"):
        load_config(binary)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_validate(path):
    cfg = parse_config(load_config(path), source=str(path))
    assert cfg.models and cfg.protocols
    for model in cfg.models:
        for endpoint in model.endpoints:
            assert endpoint.api_key_env is None or endpoint.api_key_env.isupper()


def test_the_examples_cover_nim_openai_vllm_and_the_ladder():
    names = {p.stem for p in EXAMPLES}
    assert {"offline-ladder", "nim-reference", "openai", "vllm"} <= names
    nim = parse_config(load_config(next(p for p in EXAMPLES if p.stem == "nim-reference")))
    assert [m.name for m in nim.models] == [
        "meta/llama-3.2-1b-instruct", "meta/llama-3.2-3b-instruct", "meta/llama-3.1-8b-instruct", "meta/llama-3.3-70b-instruct"
    ]
    assert all(e.api_key_env == "NVIDIA_API_KEY" for m in nim.models for e in m.endpoints)
