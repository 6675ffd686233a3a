"""scripts/verify_study.py: every published number recomputes from items.jsonl, and a changed one is caught."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "scripts" / "verify_study.py"


def verify(run_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), str(run_dir)], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("run_dir", [ROOT / "docs" / "study" / "v1", ROOT / "tests" / "fixtures" / "run"])
def test_the_committed_runs_recompute_from_their_items(run_dir):
    done = verify(run_dir)
    assert done.returncode == 0, done.stdout
    checked = int(done.stdout.split(" numbers recomputed")[0].split()[-1])
    assert checked >= 50 and ", 0 differ" in done.stdout


def test_a_number_that_does_not_follow_from_the_items_is_caught(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(ROOT / "tests" / "fixtures" / "run", run)
    results = json.loads((run / "results.json").read_text())
    results["models"][0]["protocols"][0]["panel"]["metrics"]["brier"]["value"] += 0.001
    (run / "results.json").write_text(json.dumps(results))
    done = verify(run)
    assert done.returncode == 1 and "DIFFERS" in done.stdout and "brier" in done.stdout


def test_two_runs_compare_reply_by_reply(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("compare_runs", ROOT / "scripts" / "compare_runs.py")
    compare_runs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compare_runs)
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(ROOT / "tests" / "fixtures" / "run", a)
    shutil.copytree(ROOT / "tests" / "fixtures" / "run", b)
    lines = (b / "items.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["raw_text"] += " "  # one reply differs by a byte, its reading the same
    (b / "items.jsonl").write_text("\n".join([json.dumps(first), *lines[1:-1]]) + "\n")  # and the last item missing
    rows = {(r["model"], r["protocol"]): r for r in compare_runs.compare(a, b)}
    total = sum(r["paired"] for r in rows.values())
    assert total == len(lines) - 1 and sum(r["only_one"] for r in rows.values()) == 1
    assert sum(r["identical"] for r in rows.values()) == total - 1 and sum(r["same_reading"] for r in rows.values()) == total
    changed = rows[(first["model"], first["protocol"])]
    assert changed["identical"] == changed["paired"] - 1
    assert all(x == y for r in rows.values() for x, y in r["metrics"].values())  # the same results.json: no metric moved
