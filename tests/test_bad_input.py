"""Bad input, command by command and option by option: one line naming the problem, exit
code 2, no traceback, and nothing already stored touched. Hostile replies (out-of-range
confidences, a 10^6-character reply) are recorded, never fatal."""

import hashlib
import json

import pytest

from calibench.cli import main
from calibench.study import load_run, parse_config, run_study
from calibench.elicit.parser import MAX_REPLY_CHARS
from calibench.study.store import KEPT_REPLY_CHARS, Store

DATASET_ROW = {"question": "2 + 2 = ?", "choices": ["3", "4", "5", "6"], "answer": "B"}


def tree_digest(folder):
    """Every file under ``folder`` (name, bytes): what "nothing stored was touched" compares."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def world(tmp_path_factory, module_fault_server):
    """A stored run (responses, results, report) and a folder of broken inputs."""
    root = tmp_path_factory.mktemp("bad-input")
    cfg = parse_config({"name": "stored", "out": str(root / "stored"), "data": {"limit": 6}, "metrics": {"n_boot": 50},
                        "models": [{"name": "m", "endpoints": [{"base_url": module_fault_server.base_url}]}]})
    run_study(cfg, show_progress=False)
    assert main(["report", str(root / "stored")]) == 0
    files = {
        "nonutf8.toml": b'name = "\xff\xfe"\n',
        "notoml.toml": b"name = [unclosed\n",
        "empty.jsonl": b"",
        "dupes.jsonl": (json.dumps({**DATASET_ROW, "id": "q1"}) + "\n" + json.dumps({**DATASET_ROW, "id": "q1"}) + "\n").encode(),
        "nonutf8.jsonl": b'{"question": "\xff", "choices": ["a", "b"], "answer": "A"}\n',
        "a-file": b"not a folder",
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    (root / "not-a-run").mkdir()
    for name, text in {"truncated": '{"schema_version": 1, "models": [', "wrong-schema": '{"schema_version": 99}'}.items():
        (root / name).mkdir()
        (root / name / "results.json").write_text(text)
    (root / "nonutf8-run").mkdir()
    (root / "nonutf8-run" / "results.json").write_bytes(b'{"study": "\xff"}')
    return root


MODEL = 'models = [{ name = "m", endpoints = [{ base_url = "http://127.0.0.1:9/v1" }] }]'

# A study file per broken option: (file body, a word the one-line error must contain)
BAD_CONFIGS = {
    "temperature-type": (f'{MODEL}\n[sampling]\ntemperature = "hot"', "temperature"),
    "temperature-nan": (f"{MODEL}\n[sampling]\ntemperature = nan", "temperature"),
    "temperature-huge": (f"{MODEL}\n[sampling]\ntemperature = 1e309", "temperature"),
    "temperature-negative": (f"{MODEL}\n[sampling]\ntemperature = -5", "temperature"),
    "repetitions-negative": (f"{MODEL}\n[sampling]\nrepetitions = -5", "repetitions"),
    "top-p-percent": (f'{MODEL}\n[sampling]\ntop_p = "150%"', "top_p"),
    "n-total-zero": (f"{MODEL}\n[data]\nn_total = 0", "n_total"),
    "n-total-percent": (f'{MODEL}\n[data]\nn_total = "150%"', "n_total"),
    "unknown-protocol": (f'{MODEL}\nprotocols = ["nope"]', "protocol"),
    "no-protocols": (f"{MODEL}\nprotocols = []", "protocol"),
    "no-models": ("models = []", "models"),
    "unknown-key": (f"{MODEL}\ncolour = 1", "colour"),
    "url-scheme": ('models = [{ name = "m", endpoints = [{ base_url = "ftp://x" }] }]', "base_url"),
    "concurrency-type": ('models = [{ name = "m", endpoints = [{ base_url = "http://x", max_concurrency = "many" }] }]', "max_concurrency"),
    "constraint": ('models = [{ name = "m", constraint = "xml" }]', "constraint"),
    "duplicate-models": ('models = [{ name = "m", endpoints = [{ base_url = "http://x" }] }, { name = "m", endpoints = [{ base_url = "http://y" }] }]', "distinct"),
    "missing-dataset": (f'{MODEL}\n[data]\ndataset = "no/such/file.jsonl"', "no/such/file.jsonl"),
    "n-boot-type": (f'{MODEL}\n[metrics]\nn_boot = "1e309"', "n_boot"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_every_broken_study_option_is_one_line_and_exit_2(case, world, capsys):
    body, word = BAD_CONFIGS[case]
    study = world / f"{case}.toml"
    study.write_text(f'name = "bad"\nout = "{world / "stored"}"\n{body}\n')
    before = tree_digest(world / "stored")
    assert_one_line_error(main(["run", str(study), "--quiet"]), capsys, word)
    assert tree_digest(world / "stored") == before


def cli_cases(w):
    stored, url = str(w / "stored"), "m@http://127.0.0.1:9/v1"
    run = ["run", "--model", url, "--out", stored, "--quiet"]
    return {
        "run: missing study file": (["run", str(w / "missing.toml")], "no such file"),
        "run: study file is a folder": (["run", str(w / "not-a-run")], "directory"),
        "run: non-UTF-8 study file": (["run", str(w / "nonutf8.toml")], "UTF-8"),
        "run: not TOML": (["run", str(w / "notoml.toml")], "TOML"),
        "run: no model": (["run", "--out", stored], "no model"),
        "run: temperature NaN": ([*run, "--temperature", "NaN"], "temperature"),
        "run: temperature 1e309": ([*run, "--temperature", "1e309"], "temperature"),
        "run: temperature -5": ([*run, "--temperature", "-5"], "temperature"),
        "run: temperature 150%": ([*run, "--temperature", "150%"], "temperature"),
        "run: limit -5": ([*run, "--limit", "-5"], "limit"),
        "run: limit not a number": ([*run, "--limit", "abc"], "limit"),
        "run: repetitions 0": ([*run, "--repetitions", "0"], "repetitions"),
        "run: unknown protocol": ([*run, "--protocol", "nope"], "protocol"),
        "run: unknown dataset": ([*run, "--dataset", "nope"], "nope"),
        "run: empty dataset": ([*run, "--dataset", str(w / "empty.jsonl")], "empty"),
        "run: duplicate ids": ([*run, "--dataset", str(w / "dupes.jsonl")], "duplicate"),
        "run: non-UTF-8 dataset": ([*run, "--dataset", str(w / "nonutf8.jsonl")], "UTF-8"),
        "run: missing model file": (["run", "--model", str(w / "missing.gguf"), "--out", stored], "missing.gguf"),
        "run: unset key variable": (["run", "--model", url, "--api-key-env", "CALIBENCH_TEST_UNSET_KEY", "--out", stored, "--quiet"],
                                    "CALIBENCH_TEST_UNSET_KEY"),
        "run: out is a file": (["run", "--model", url, "--out", str(w / "a-file"), "--quiet"], "a-file"),
        "report: missing folder": (["report", str(w / "missing")], "missing"),
        "report: not a run": (["report", str(w / "not-a-run")], "results.json"),
        "report: truncated results": (["report", str(w / "truncated")], "results.json"),
        "report: wrong schema": (["report", str(w / "wrong-schema")], "schema"),
        "report: non-UTF-8 results": (["report", str(w / "nonutf8-run")], "UTF-8"),
        "recalibrate: unknown method": (["recalibrate", stored, "--method", "nope"], "nope"),
        "recalibrate: one fold": (["recalibrate", stored, "--folds", "1"], "folds"),
        "recalibrate: folds not a number": (["recalibrate", stored, "--folds", "abc"], "folds"),
        "recalibrate: missing transfer run": (["recalibrate", stored, "--transfer-from", str(w / "missing")], "missing"),
        "recalibrate: missing run": (["recalibrate", str(w / "missing")], "missing"),
        "compare: missing run": (["compare", str(w / "missing"), stored], "missing"),
        "compare: no runs": (["compare"], "RUN_DIRS"),
        "sample: n-total 150%": (["sample", "--n-total", "150%"], "150%"),
        "sample: n-total -5": (["sample", "--n-total", "-5"], "-5"),
        "sample: empty dataset": (["sample", "--dataset", str(w / "empty.jsonl")], "empty"),
        "sample: duplicate ids": (["sample", "--dataset", str(w / "dupes.jsonl")], "duplicate"),
        "sample: non-UTF-8 dataset": (["sample", "--dataset", str(w / "nonutf8.jsonl")], "UTF-8"),
        "sample: out in a missing folder": (["sample", "--out", str(w / "missing" / "q.jsonl")], "missing"),
        "datasets: unknown option": (["datasets", "--bogus"], "--bogus"),
        "models: unknown option": (["models", "--bogus"], "--bogus"),
        "unknown command": (["frobnicate"], "frobnicate"),
    }


CLI_CASE_NAMES = sorted(cli_cases(__import__("pathlib").Path("/")))


@pytest.mark.parametrize("case", CLI_CASE_NAMES)
def test_every_command_refuses_bad_input_in_one_line(case, world, capsys, monkeypatch):
    monkeypatch.delenv("CALIBENCH_TEST_UNSET_KEY", raising=False)
    argv, word = cli_cases(world)[case]
    before = tree_digest(world / "stored")
    assert_one_line_error(main(argv), capsys, word)
    assert tree_digest(world / "stored") == before


def assert_one_line_error(code, capsys, word):
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith("calibench: error: "), err
    assert word.lower() in lines[0].lower(), lines[0]


HOSTILE = ["Answer: B\nConfidence: 150%", "Answer: B\nConfidence: -5%", "Answer: B\nConfidence: NaN%",
           "Answer: B\nConfidence: 1e309%", "Answer: B\nConfidence: " + "9" * 1_000_000, "B" * 1_000_000]


def test_hostile_replies_are_recorded_not_fatal(fault_server, tmp_path):
    fault_server.script.extend(("ok", text) for text in HOSTILE)
    cfg = parse_config({"name": "hostile", "out": str(tmp_path / "run"), "protocols": ["verbalized"], "data": {"limit": len(HOSTILE)},
                        "metrics": {"n_boot": 50}, "models": [{"name": "m", "endpoints": [{"base_url": fault_server.base_url, "max_concurrency": 1}]}]})
    run = load_run(run_study(cfg, show_progress=False))
    statuses = [i["status"] for i in run.items]
    assert statuses[:5] == ["out_of_range"] * 5  # 150%, -5%, NaN, 1e309 and a 10^6-digit number: none is a confidence
    assert statuses[5] == "truncated"  # a 10^6-character reply of one letter: read from its start, cut at the cap
    assert all(i["confidence"] is None for i in run.items)
    # items.jsonl keeps what the parser read, with the length and a flag; the store keeps the
    # reply up to its cap with the whole response's size and sha256
    assert [i["raw_text_cut"] for i in run.items] == [False] * 4 + [True, True]
    assert len(run.items[4]["raw_text"]) == MAX_REPLY_CHARS and run.items[4]["raw_text_chars"] == 1_000_000 + 22
    assert (tmp_path / "run" / "items.jsonl").stat().st_size < 100_000
    with Store(tmp_path / "run" / "responses.sqlite") as store:
        stored = store.get(run.items[4]["key"]).response
    assert len(stored["choices"][0]["message"]["content"]) == KEPT_REPLY_CHARS
    assert stored["calibench_capped"]["reply_chars"] == 1_000_022 and stored["calibench_capped"]["bytes"] > 1_000_000
    assert len(stored["calibench_capped"]["sha256"]) == 64
    assert main(["report", str(tmp_path / "run")]) == 0
