"""The client against a real embedded llama.cpp server."""

import asyncio
import json
import socket
from pathlib import Path

import httpx
import pytest

from calibench.errors import CalibenchError
from calibench.models import ChatClient, LocalEngine, SamplingOptions, letter_probabilities
from calibench.models.ladder import LADDER, is_installed

pytest.importorskip("xllamacpp", reason="the local engine needs xllamacpp (make test installs it)")

QUESTION = [
    {"role": "system", "content": "You answer multiple-choice questions."},
    {"role": "user", "content": "Which planet is the largest?\nA. Mars\nB. Jupiter\nC. Venus\nD. Mercury\nReply as: Answer: <letter>"},
]
SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string", "enum": ["A", "B", "C", "D"]}, "confidence": {"type": "number"}},
    "required": ["answer", "confidence"],
    "additionalProperties": False,
}


def ask(engine, options):
    async def go():
        async with ChatClient(engine.model.name, [engine.base_url]) as client:
            return await client.chat(QUESTION, options)

    return asyncio.run(go())


@pytest.fixture(scope="module")
def smollm2():
    if not is_installed(LADDER["smollm2-135m"]):
        pytest.skip("smollm2-135m is not installed (make test installs it)")
    with LocalEngine("smollm2-135m", parallel=2, context=1024) as engine:
        yield engine


def test_chat_completion_with_letter_probabilities(smollm2):
    r = ask(smollm2, SamplingOptions(max_tokens=16, logprobs=True, top_logprobs=10))
    assert isinstance(r.text, str) and r.text
    assert r.timings["prompt_n"] + r.timings.get("cache_n", 0) > 20
    lp = letter_probabilities(r.logprobs, "ABCD")
    assert lp is not None and sum(lp.probs.values()) == pytest.approx(1.0) and 0 < lp.mass <= 1


def test_json_schema_constrained_completion_parses(smollm2):
    fmt = {"type": "json_schema", "json_schema": {"name": "mcq_answer", "schema": SCHEMA}}
    r = ask(smollm2, SamplingOptions(max_tokens=48, response_format=fmt))
    reply = json.loads(r.text)
    assert reply["answer"] in "ABCD" and isinstance(reply["confidence"], (int, float))


def test_engine_settings_and_url(smollm2):
    assert smollm2.base_url.startswith("http://127.0.0.1:") and smollm2.base_url.endswith("/v1")
    s = smollm2.settings
    assert s["model_sha256"] == LADDER["smollm2-135m"].sha256 and s["parallel"] == 2 and s["context_per_slot"] == 1024


def test_engine_stops_on_exit():
    if not is_installed(LADDER["smollm2-135m"]):
        pytest.skip("smollm2-135m is not installed")
    with LocalEngine("smollm2-135m", context=256) as engine:
        port = int(engine.base_url.rsplit(":", 1)[1].split("/")[0])
        assert httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_bad_options_and_unloadable_file(tmp_path):
    with pytest.raises(CalibenchError, match="parallel"):
        LocalEngine("smollm2-135m", parallel=0)
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a gguf file at all")
    with pytest.raises(CalibenchError, match="could not load"):
        LocalEngine(junk).start()
    # its hash went into the tests' own cache (tests/conftest.py), not into the user's
    from calibench.models.ladder import cache_dir

    assert str(junk.resolve()) in (cache_dir() / "models" / "sha256.json").read_text()
    assert cache_dir() != Path.home() / ".cache" / "calibench"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"])
def test_larger_ladder_models_answer_in_format(name):
    if not is_installed(LADDER[name]):
        pytest.skip(f"{name} is not installed: {LADDER[name].install_command}")
    with LocalEngine(name, context=1024) as engine:
        r = ask(engine, SamplingOptions(max_tokens=16, logprobs=True, top_logprobs=10))
        assert "B" in r.text
        lp = letter_probabilities(r.logprobs, "ABCD", answer="B")
        assert lp is not None and lp.probs["B"] > 0.25
