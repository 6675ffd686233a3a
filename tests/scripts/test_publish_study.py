"""scripts/publish_study.py: the page is written from results.json, and the hand-written reading
may cite only numbers the page shows."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "run"


def publish(tmp_path: Path, reading: str) -> subprocess.CompletedProcess:
    (tmp_path / "reading.md").write_text(reading)
    repro = tmp_path / "repro.json"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "compare_runs.py"), str(FIXTURE), str(FIXTURE), "--json", str(repro),
                    "--what", "The fixture compared with itself."], check=True, capture_output=True, timeout=300)
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "publish_study.py"), "--run", str(FIXTURE), "--v1", str(FIXTURE),
                           "--sampled", str(tmp_path / "none"), "--reproducibility", str(repro), "--reading", str(tmp_path / "reading.md"),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=300)


def test_the_page_is_written_from_the_results(tmp_path):
    results = json.loads((FIXTURE / "results.json").read_text())
    stated = next(p for p in results["models"][0]["protocols"] if p["protocol"] == "stated")
    acc = f"{stated['panel']['metrics']['accuracy']['value']:.0%}"
    done = publish(tmp_path, f"The smallest model's stated accuracy was {acc}.")
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "out" / "README.md").read_text()
    for section in ("## Results", "## Every confidence signal", "## What each protocol does to the answers",
                    "## Position bias and option order", "## What changed from v1", "## Reproducibility", "## Limitations", "## A reading"):
        assert section in page
    assert "The fixture compared with itself." in page
    assert (tmp_path / "out" / "results.json").read_bytes() == (FIXTURE / "results.json").read_bytes()
    # the run against itself as "v1": every letter the same, none changed, nothing for McNemar to test
    v1_rows = [line for line in page.split("## What changed from v1")[1].split("Why they moved")[0].splitlines()
               if line.startswith("| ") and "`" in line]
    assert v1_rows and all(line.endswith("| 100% | - | - |") for line in v1_rows)


def test_a_reading_that_cites_a_number_the_page_does_not_show_is_refused(tmp_path):
    done = publish(tmp_path, "Accuracy was 97.5% on every subject.")
    assert done.returncode != 0 and "97.5%" in done.stderr
    assert not (tmp_path / "out" / "README.md").exists()
