"""Importing lm-evaluation-harness's --log_samples output, checked against the raw log itself.

The fixture (tests/fixtures/integrations/lm-eval) was produced by lm-eval 0.4.13 with
SmolLM2-135M on 20 MMLU questions (make integrations-fixtures); the slow test produces it again.
"""

import json
import math
import os
import subprocess
from pathlib import Path

import pytest

from calibench.cli import main
from calibench.integrations import read_lm_eval
from calibench.study import load_run

ROOT = Path(__file__).parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "integrations" / "lm-eval"
TOOLS = ROOT / ".venv-integrations" / "bin" / "python"


def raw_records() -> list[dict]:
    return [json.loads(line) for line in (FIXTURE / "samples_calibench_mmlu20.jsonl").read_text().splitlines() if line.strip()]


def softmax(xs):
    top = max(xs)
    weights = [math.exp(x - top) for x in xs]
    return [w / sum(weights) for w in weights]


def test_every_number_follows_from_the_raw_log(tmp_path, capsys):
    assert main(["import", "lm-eval", str(FIXTURE), "--out", str(tmp_path / "run")]) == 0
    assert "40 answers from SmolLM2-135M-Instruct.Q4_1" in capsys.readouterr().out
    run = load_run(tmp_path / "run")
    lm_eval_own = json.loads((FIXTURE / "results.json").read_text())["results"]["calibench_mmlu20"]
    records = raw_records()
    for protocol, own in (("loglik", "acc,none"), ("loglik-norm", "acc_norm,none")):
        expected = []
        for r in records:
            lls = [float(x[0]) for x in r["filtered_resps"]]
            if protocol == "loglik-norm":  # each option's length without the space before it, as lm-eval's acc_norm
                lls = [x / len(r["arguments"][f"gen_args_{k}"]["arg_1"].strip()) for k, x in enumerate(lls)]
            probs = softmax(lls)
            best = probs.index(max(probs))
            expected.append((max(probs), best == int(r["target"])))
        result = next(p for p in run.results.models[0].protocols if p.protocol == protocol)
        m = result.panel.metrics
        n = len(expected)
        assert result.panel.n == n == 20 and result.parse.parse_rate == 1.0
        accuracy = sum(right for _, right in expected) / n
        assert m["accuracy"].value == pytest.approx(accuracy) == lm_eval_own[own]  # lm-eval's own acc / acc_norm
        assert m["mean_confidence"].value == pytest.approx(sum(c for c, _ in expected) / n)
        assert m["brier"].value == pytest.approx(sum((c - right) ** 2 for c, right in expected) / n)
        bins = {}
        for c, right in expected:
            bins.setdefault(min(int(c * 10), 9), []).append((c, right))
        ece = sum(len(b) / n * abs(sum(c for c, _ in b) / len(b) - sum(r for _, r in b) / len(b)) for b in bins.values())
        assert m["ece"].value == pytest.approx(ece)
    # provenance points at every file read, with its sha256
    files = run.results.provenance.dataset_manifest["files"]
    assert {Path(f["path"]).name for f in files} == {"samples_calibench_mmlu20.jsonl", "results.json"}
    import hashlib

    for f in files:
        assert f["sha256"] == hashlib.sha256(Path(f["path"]).read_bytes()).hexdigest()
    assert (tmp_path / "run" / "report.html").is_file()
    assert main(["report", str(tmp_path / "run")]) == 0  # the report command works on it unchanged


def test_unusable_records_are_counted_never_dropped_silently(tmp_path):
    records = raw_records()
    generated = {"doc_id": 99, "doc": {}, "target": "x", "filtered_resps": [["a completion"]], "resps": []}
    broken = {**records[0], "target": "7"}
    contradicted = {**records[1], "acc": 1.0 - records[1]["acc"]}  # lm-eval's own verdict disagrees with the reading
    log = tmp_path / "samples_calibench_mmlu20_2026-12-01T10-00-00.000000.jsonl"
    log.write_text("\n".join(json.dumps(r) for r in [*records[2:7], generated, broken, contradicted]) + "\nnot json\n[1, 2]\n")
    imported = read_lm_eval(log)
    assert len(imported.answers) == 2 * 5
    assert imported.skipped == {"not multiple choice (no log-likelihood per option)": 1,
                                "target not one option (neither an index nor an option's text)": 1,
                                "disagrees with lm-eval's own acc for the record": 1, "not a JSON object": 2}


def test_the_target_is_read_as_lm_eval_scores_it_and_the_norm_divides_by_each_options_length(tmp_path):
    record = raw_records()[0]
    options = [" yes", " no", " not at all", " 4"]
    base = {**record, "arguments": {f"gen_args_{k}": {"arg_0": "Q", "arg_1": o} for k, o in enumerate(options)},
            "filtered_resps": [["-2.0", "False"], ["-1.5", "False"], ["-4.0", "False"], ["-3.0", "False"]]}
    # "4" is both an index out of range and the last option's text: the option's text
    by_text = {**base, "target": "4", "acc": 0.0}
    # "1" is an index; the record's acc (the best option, "no", was right) agrees
    by_index = {**base, "target": "1", "acc": 1.0}
    log = tmp_path / "samples_t_2026-12-01T10-00-00.000000.jsonl"
    log.write_text(json.dumps(by_text) + "\n" + json.dumps(by_index) + "\n")
    answers = read_lm_eval(log).answers
    assert [a.answer for a in answers] == ["D", "D", "B", "B"]
    raw, norm = answers[0], answers[1]
    assert raw.letter == "B" and raw.confidence == pytest.approx(softmax([-2.0, -1.5, -4.0, -3.0])[1])
    per_char = [-2.0 / 3, -1.5 / 2, -4.0 / 10, -3.0 / 1]  # lm-eval's acc_norm: each by its option's characters, no space
    assert norm.letter == "C" and norm.confidence == pytest.approx(max(softmax(per_char)))


def test_several_runs_or_models_in_one_folder_are_refused(tmp_path, capsys):
    lines = (FIXTURE / "samples_calibench_mmlu20.jsonl").read_text()
    for k, folder in enumerate(("a", "a", "b")):
        (tmp_path / "twice" / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / "twice" / folder / f"samples_t_2026-12-01T10-00-0{k}.000000.jsonl").write_text(lines)
    assert main(["import", "lm-eval", str(tmp_path / "twice")]) == 2
    assert "several runs or models" in capsys.readouterr().err
    assert main(["import", "lm-eval", str(tmp_path / "twice" / "a")]) == 2
    assert "several runs of task(s) t" in capsys.readouterr().err


def test_a_file_that_is_no_such_log_is_one_line_and_exit_2(tmp_path, capsys):
    junk = tmp_path / "samples_x.jsonl"
    junk.write_text('{"hello": "world"}\n')
    assert main(["import", "lm-eval", str(junk)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no multiple-choice record" in err


@pytest.mark.slow
@pytest.mark.skipif(not TOOLS.exists(), reason="make integrations-fixtures sets up .venv-integrations")
def test_the_real_tool_produces_the_fixture_again(tmp_path):
    subprocess.run([str(TOOLS), str(ROOT / "tests" / "integrations" / "make_fixtures.py"), "lm-eval", str(tmp_path)],
                   check=True, timeout=1800, env={**os.environ})
    again = [json.loads(line) for line in (tmp_path / "samples_calibench_mmlu20.jsonl").read_text().splitlines()]
    for a, b in zip(again, raw_records(), strict=True):
        assert a["doc"] == b["doc"] and a["target"] == b["target"]
        assert [float(x[0]) for x in a["filtered_resps"]] == pytest.approx([float(x[0]) for x in b["filtered_resps"]], abs=1e-4)


def test_several_tasks_stay_apart_and_the_run_recalibrates_and_compares(tmp_path, capsys):
    out = tmp_path / "out" / "model"
    out.mkdir(parents=True)
    lines = (FIXTURE / "samples_calibench_mmlu20.jsonl").read_text()
    (out / "samples_first_2026-12-01T10-00-00.000000.jsonl").write_text(lines)
    (out / "samples_second_2026-12-01T10-00-00.000000.jsonl").write_text(lines)
    imported = read_lm_eval(tmp_path / "out")
    assert set(imported.protocols) == {"first/loglik", "first/loglik-norm", "second/loglik", "second/loglik-norm"}
    assert len(imported.answers) == 4 * 20
    assert main(["import", "lm-eval", str(tmp_path / "out"), "--out", str(tmp_path / "tasks")]) == 0  # '/' in names: figures still written
    assert (tmp_path / "tasks" / "reliability-first-loglik.svg").is_file()
    assert main(["import", "lm-eval", str(FIXTURE), "--out", str(tmp_path / "run")]) == 0
    assert main(["recalibrate", str(tmp_path / "run"), "--folds", "2"]) == 0
    assert any(p.recalibration is not None for p in load_run(tmp_path / "run").results.models[0].protocols)
    assert main(["compare", str(tmp_path / "run"), str(tmp_path / "run"), "--out", str(tmp_path / "both")]) == 0
