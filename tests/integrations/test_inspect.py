"""Importing inspect_ai logs written by calibench's own inspect task, checked against the raw log.

The fixture (tests/fixtures/integrations/inspect) was produced by inspect_ai 0.3.285 running
calibench/mmlu_confidence (verbalized, 20 questions) on Qwen2.5-Coder-0.5B served by calibench's
embedded engine (make integrations-fixtures): mmlu_confidence.eval as inspect wrote it (its
JSON conversion, with every token's top log-probabilities, is 7 MB, so only the .eval is kept).
"""

import hashlib
import json
import math
import os
import subprocess
from pathlib import Path

import pytest

from calibench.cli import main
from calibench.study import load_run

ROOT = Path(__file__).parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "integrations" / "inspect"
TOOLS = ROOT / ".venv-integrations" / "bin" / "python"


def raw_log() -> dict:
    """The log read here on its own: the zip's header and sample entries, each zstd-compressed JSON."""
    import zipfile

    import zstandard

    with zipfile.ZipFile(FIXTURE / "mmlu_confidence.eval") as archive:
        def read(name):
            info = archive.getinfo(name)
            with open(FIXTURE / "mmlu_confidence.eval", "rb") as f:
                f.seek(info.header_offset)
                header = f.read(30)
                f.seek(info.header_offset + 30 + int.from_bytes(header[26:28], "little") + int.from_bytes(header[28:30], "little"))
                return json.loads(zstandard.ZstdDecompressor().decompress(f.read(info.compress_size), max_output_size=info.file_size))

        log = read("header.json")
        log["samples"] = [read(n) for n in archive.namelist() if n.startswith("samples/")]
    return log


def letter_probability(choice: dict, letters: str):
    """The letter right after "Answer:" in the reply, and its probability among the letters at that token."""
    content = (choice.get("logprobs") or {}).get("content") or []
    text = ""
    for entry in content:
        if text.rstrip().lower().endswith("answer:") and entry["token"].strip() in letters:
            mass = {letter: 0.0 for letter in letters}
            for top in entry["top_logprobs"]:
                if top["token"].strip() in mass:
                    mass[top["token"].strip()] += math.exp(top["logprob"])
            return entry["token"].strip(), mass[entry["token"].strip()] / sum(mass.values())
        text += entry["token"]
    return None


def test_every_number_follows_from_the_raw_log(tmp_path, capsys):
    assert main(["import", "inspect", str(FIXTURE / "mmlu_confidence.eval"), "--out", str(tmp_path / "run")]) == 0
    assert "answers from qwen2.5-coder-0.5b" in capsys.readouterr().out
    run = load_run(tmp_path / "run")
    log = raw_log()
    stated, letters = [], []
    for sample in log["samples"]:
        score = sample["scores"]["calibench_confidence"]
        if score["metadata"]["status"] in ("ok", "lenient"):
            stated.append((score["metadata"]["confidence"], score["answer"] == sample["target"]))
        found = letter_probability(sample["output"]["choices"][0], "ABCD")
        if found and found[0] == score["answer"] and score["metadata"]["status"] in ("ok", "lenient"):
            letters.append((found[1], found[0] == sample["target"]))
    by = {p.protocol: p for p in run.results.models[0].protocols}
    assert set(by) == {"verbalized", "letter-prob"}
    for protocol, expected in (("verbalized", stated), ("letter-prob", letters)):
        m, n = by[protocol].panel.metrics, len(expected)
        assert by[protocol].panel.n == n > 10
        assert m["accuracy"].value == pytest.approx(sum(r for _, r in expected) / n)
        assert m["mean_confidence"].value == pytest.approx(sum(c for c, _ in expected) / n)
        assert m["brier"].value == pytest.approx(sum((c - r) ** 2 for c, r in expected) / n)
    # the right answers inspect counted are the ones read right here (inspect scores an unread reply 0)
    inspect_accuracy = log["results"]["scores"][0]["metrics"]["accuracy"]["value"]
    assert inspect_accuracy * len(log["samples"]) == pytest.approx(sum(r for _, r in stated))
    assert by["verbalized"].parse.n == len(log["samples"])
    files = run.results.provenance.dataset_manifest["files"]
    assert files[0]["sha256"] == hashlib.sha256((FIXTURE / "mmlu_confidence.eval").read_bytes()).hexdigest()
    # the same log in inspect's JSON format reads the same
    as_json = tmp_path / "log.json"
    as_json.write_text(json.dumps(log))
    assert main(["import", "inspect", str(as_json), "--out", str(tmp_path / "json-run")]) == 0
    again = {p.protocol: p.panel.metrics["ece"].value for p in load_run(tmp_path / "json-run").results.models[0].protocols}
    assert again == {p.protocol: p.panel.metrics["ece"].value for p in run.results.models[0].protocols}


def test_a_file_that_is_no_inspect_log_is_one_line_and_exit_2(tmp_path, capsys):
    for name, content in (("log.json", '{"hello": "world"}'), ("log.json", "not json at all"), ("log.eval", "not a zip")):
        junk = tmp_path / name
        junk.write_text(content)
        assert main(["import", "inspect", str(junk)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "not an inspect_ai" in err


@pytest.mark.slow
@pytest.mark.skipif(not TOOLS.exists(), reason="make integrations-fixtures sets up .venv-integrations")
def test_the_real_tool_produces_a_log_that_imports(tmp_path):
    subprocess.run([str(TOOLS), str(ROOT / "tests" / "integrations" / "make_fixtures.py"), "inspect", str(tmp_path / "log")],
                   check=True, timeout=1800, env={**os.environ})
    assert main(["import", "inspect", str(tmp_path / "log" / "mmlu_confidence.eval"), "--out", str(tmp_path / "run")]) == 0
    again = {p.protocol: p.panel.n for p in load_run(tmp_path / "run").results.models[0].protocols}
    assert again.keys() == {"verbalized", "letter-prob"} and min(again.values()) > 10


def test_another_scorers_reply_is_read_by_calibenchs_parser(tmp_path):
    from calibench.integrations import read_inspect

    sample = {"id": "q1", "target": "B", "metadata": {"choices": ["w", "x", "y", "z"], "subject": "s"},
              "output": {"completion": "Answer: B\nConfidence: 80%", "choices": [{"message": {"content": "..."}}]},
              "scores": {"choice": {"value": "C", "answer": "B"}}}
    log = tmp_path / "other.json"
    log.write_text(json.dumps({"eval": {"model": "openai/some-model", "task": "t", "packages": {"inspect_ai": "0.3"}},
                               "samples": [sample, {**sample, "id": "q2", "target": "Z"}, {**sample, "id": "q3", "output": {}}]}))
    imported = read_inspect(log)
    assert [(a.protocol, a.letter, a.confidence) for a in imported.answers] == [("stated-text", "B", 0.8)]
    assert imported.skipped == {"no target letter among the options": 1, "no output": 1} and imported.model == "some-model"
    # with logprobs, the letter written after "Answer:" and scored gives letter-prob; "A" in the reasoning does not
    tokens = [("A", -0.1), (" group", -0.1), (".", -0.1), ("\nAnswer", -0.1), (":", -0.1), (" B", -0.2), ("\n", -0.1)]
    content = [{"token": t, "logprob": lp, "top_logprobs": [{"token": t, "logprob": lp}] + ([{"token": " C", "logprob": -1.8}] if t == " B" else [])}
               for t, lp in tokens]
    with_logprobs = {**sample, "output": {"completion": "A group.\nAnswer: B\n", "choices": [{"logprobs": {"content": content}}]}}
    log.write_text(json.dumps({"eval": {"model": "m"}, "samples": [with_logprobs, {**with_logprobs, "id": "q4", "epoch": 2}]}))
    imported = read_inspect(log)
    letter = [a for a in imported.answers if a.protocol == "letter-prob"]
    assert [(a.letter, a.repetition) for a in letter] == [("B", 0), ("B", 1)]
    assert letter[0].confidence == pytest.approx(math.exp(-0.2) / (math.exp(-0.2) + math.exp(-1.8)))
    assert letter[0].letter_mass == pytest.approx(math.exp(-0.2) + math.exp(-1.8))
