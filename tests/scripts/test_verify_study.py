"""scripts/verify_study.py: every published number recomputes from items.jsonl, and a changed one is caught."""

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "scripts" / "verify_study.py"


def verify(run_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), str(run_dir)], capture_output=True, text=True, timeout=300)


def _readme_line(stdout: str) -> str:
    return next(line for line in stdout.splitlines() if "README.md:" in line and "cells recomputed" in line)


STUDY = ROOT / "docs" / "study"


@pytest.mark.parametrize("run_dir", [
    STUDY / "v1", ROOT / "tests" / "fixtures" / "run",
    pytest.param(STUDY, marks=pytest.mark.skipif(not (STUDY / "items.jsonl").exists(), reason="the v2 study is not published yet")),
])
def test_the_committed_runs_recompute_from_their_items(run_dir):
    done = verify(run_dir)
    assert done.returncode == 0, done.stdout
    checked = int(done.stdout.split(" numbers recomputed")[0].split()[-1])
    assert checked >= 50 and ", 0 differ" in done.stdout
    if (run_dir / "README.md").exists():  # and every number of its write-up
        line = _readme_line(done.stdout)
        assert ", 0 differ;" in line
        if run_dir == STUDY:  # the published page has no table the script does not know
            assert "(0 unknown)" in line, done.stdout


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
    assert sum(r["same_letter"] for r in rows.values()) == total
    changed = rows[(first["model"], first["protocol"])]
    assert changed["identical"] == changed["paired"] - 1
    assert all(x == y for r in rows.values() for x, y in r["metrics"].values())  # the same results.json: no metric moved


# -- the write-up: README.md's tables and sentences against the items ----------------------------

FIXTURE = ROOT / "tests" / "fixtures" / "run"


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """A README-bearing run directory laid out as docs/study is: the fixture run published by
    scripts/publish_study.py, with itself as v1 (`v1/`) and the reproducibility check of it against
    itself (`reproducibility.json`). The fixture's dataset manifest names the 300 questions its run was
    drawn from, of which it asked 24: cut to those, as a study's manifest is."""
    work = tmp_path_factory.mktemp("published")
    run = work / "run"
    shutil.copytree(FIXTURE, run)
    items = [json.loads(line) for line in (run / "items.jsonl").read_text().splitlines() if line.strip()]
    results = json.loads((run / "results.json").read_text())
    manifest = results["provenance"]["dataset_manifest"]
    manifest["ids"] = sorted({i["question_id"] for i in items})
    manifest["counts"] = dict(Counter(i["subject"] for i in {i["question_id"]: i for i in items}.values()))
    (run / "results.json").write_text(json.dumps(results))
    (work / "reading.md").write_text("The fixture, published.")
    repro = work / "reproducibility.json"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "compare_runs.py"), str(run), str(run), "--json", str(repro),
                    "--what", "The fixture compared with itself."], check=True, capture_output=True, timeout=300)
    out = work / "out"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "publish_study.py"), "--run", str(run), "--v1", str(FIXTURE),
                    "--sampled", str(work / "none"), "--reproducibility", str(repro), "--reading", str(work / "reading.md"),
                    "--out", str(out)], check=True, capture_output=True, timeout=300)
    shutil.copytree(FIXTURE, out / "v1")
    shutil.copyfile(repro, out / "reproducibility.json")
    return out


def test_a_published_page_recomputes_from_its_items(published):
    done = verify(published)
    assert done.returncode == 0, done.stdout
    assert "DIFFERS" not in done.stdout
    line = _readme_line(done.stdout)
    checked = int(line.split(" cells recomputed")[0].split()[-1])
    assert checked >= 300 and ", 0 differ;" in line and "(0 unknown)" in line
    for section in ("Results", "What each protocol does to the answers", "Position bias and option order", "What changed from v1",
                    "Sample size and the calibration test", "Reproducibility: the default study run twice"):
        assert f"NOT CHECKED {section}" not in done.stdout


def _change(page: str, section: str, row_start: str, column: int, new: str) -> str:
    """The page with one cell of a table in ``section`` replaced: the row starting ``row_start``, cell ``column``."""
    head, _, rest = page.partition(f"\n## {section}\n")
    lines = rest.splitlines()
    at = next(k for k, line in enumerate(lines) if line.startswith(row_start))
    cells = lines[at].split(" | ")
    assert cells[column] != new
    cells[column] = new
    lines[at] = " | ".join(cells)
    return head + f"\n## {section}\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize("section, row_start, column, new, differs", [
    ("Results", "| smollm2-135m | stated |", 3, "91% [5%, 38%]", "Results / smollm2-135m stated / Acc: README 91%"),
    ("What each protocol does to the answers", "| qwen2.5-coder-0.5b | `verbalized-json` |", 6, "0.072",
     "What each protocol does to the answers / qwen2.5-coder-0.5b verbalized-json / McNemar p: README 0.072"),
    ("What changed from v1", "| smollm2-135m | `logprob` |", 7, "23", "What changed from v1 / smollm2-135m logprob / Questions with both letters"),
    ("Reproducibility: the default study run twice", "| smollm2-135m |", 3, "119", "smollm2-135m / Read alike: README 119 vs recomputed 120"),
])
def test_a_readme_cell_that_does_not_follow_from_the_items_is_caught(published, tmp_path, section, row_start, column, new, differs):
    run = tmp_path / "run"
    shutil.copytree(published, run)
    page = (run / "README.md").read_text()
    (run / "README.md").write_text(_change(page, section, row_start, column, new))
    done = verify(run)
    assert done.returncode == 1
    found = [line for line in done.stdout.splitlines() if line.startswith("DIFFERS")]
    assert len(found) == 1 and differs in found[0], done.stdout
    assert ", 1 differ;" in _readme_line(done.stdout)


def test_a_readme_table_the_script_does_not_know_is_reported_not_checked(published, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(published, run)
    page = (run / "README.md").read_text()
    new = "\n## A new section\n\n| Model | Something new |\n|---|---|\n| smollm2-135m | 0.123 |\n"
    (run / "README.md").write_text(page.replace("\n## Limitations\n", new + "\n## Limitations\n"))
    done = verify(run)
    assert done.returncode == 0, done.stdout  # reported, not failed: nothing in it differs
    assert "NOT CHECKED A new section: | Model | Something new | (unknown table)" in done.stdout
    assert "(1 unknown)" in _readme_line(done.stdout)
