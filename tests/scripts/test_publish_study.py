"""scripts/publish_study.py: the page is written from results.json, the comparisons are read in
the direction the page states, and the hand-written reading may cite only numbers the page shows."""

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from calibench.study.comparisons import Comparison, PairedTest
from calibench.study.run import load_results

ROOT = Path(__file__).parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "run"


def script():
    spec = importlib.util.spec_from_file_location("publish_study", ROOT / "scripts" / "publish_study.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def publish(tmp_path: Path, reading: str, v1: Path = FIXTURE) -> subprocess.CompletedProcess:
    (tmp_path / "reading.md").write_text(reading)
    repro = tmp_path / "repro.json"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "compare_runs.py"), str(FIXTURE), str(FIXTURE), "--json", str(repro),
                    "--what", "The fixture compared with itself."], check=True, capture_output=True, timeout=300)
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "publish_study.py"), "--run", str(FIXTURE), "--v1", str(v1),
                           "--sampled", str(tmp_path / "none"), "--reproducibility", str(repro), "--reading", str(tmp_path / "reading.md"),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=300)


def test_the_page_is_written_from_the_results_and_v1_is_read_letter_by_letter(tmp_path):
    results = json.loads((FIXTURE / "results.json").read_text())
    stated = next(p for p in results["models"][0]["protocols"] if p["protocol"] == "stated")
    acc = f"{stated['panel']['metrics']['accuracy']['value']:.0%}"
    # a "v1" whose first model's verbalized-json letters all moved to one wrong... or right letter
    v1 = tmp_path / "v1"
    shutil.copytree(FIXTURE, v1)
    items = [json.loads(line) for line in (v1 / "items.jsonl").read_text().splitlines()]
    model = results["models"][0]["name"]
    moved = [i for i in items if i["model"] == model and i["protocol"] == "verbalized-json" and i["letter"] and i["letter"] != "D"]
    for i in moved:
        i["letter"] = "D"
    (v1 / "items.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items))
    done = publish(tmp_path, f"The smallest model's stated accuracy was {acc}.", v1=v1)
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "out" / "README.md").read_text()
    for section in ("## Results", "## What each protocol does to the answers", "## Position bias and option order",
                    "## What changed from v1", "## Reproducibility", "## Limitations", "## A reading"):
        assert section in page
    assert "## Every confidence signal" not in page  # the fixture's 24 answers per row make no signal table
    assert "The fixture compared with itself." in page
    assert (tmp_path / "out" / "results.json").read_bytes() == (FIXTURE / "results.json").read_bytes()
    v1_rows = [line for line in page.split("## What changed from v1")[1].split("Why they moved")[0].splitlines()
               if line.startswith("| ") and "`" in line]
    row = next(line for line in v1_rows if line.startswith(f"| {model} | `verbalized-json`"))
    assert f"| {len(moved)} of {len(moved)} were D |" in row
    assert all(line.endswith("| 100% | - | - |") for line in v1_rows if line is not row)


def test_a_page_without_its_parts_is_refused(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "publish_study.py"), "--run", str(FIXTURE), "--v1", str(tmp_path / "v1"),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "the v1 study (--v1) is part of the published page" in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("reading, refused", [
    ("Accuracy was 97.5% on every subject.", "97.5%"),
    ("ECE fell by -0.400.", "-0.400"),  # the page shows 0.400 only
    ("ECE fell by −0.400.", "-0.400"),  # a typeset minus is a minus
    ("A gap of .35 here.", ".35"),
])
def test_a_reading_that_cites_a_number_the_page_does_not_show_is_refused(tmp_path, reading, refused):
    path = tmp_path / "reading.md"
    path.write_text(reading)
    with pytest.raises(SystemExit) as stop:
        script().reading_section(path, "ECE 0.400 [0.350, 0.450], gap +19pt, accuracy 25%.")
    assert refused in str(stop.value)


def test_a_reading_may_cite_a_signed_number_without_its_plus(tmp_path):
    path = tmp_path / "reading.md"
    path.write_text("The gap was 19pt, ECE 0.400 and accuracy 25%.")
    assert script().reading_section(path, "ECE 0.400 [0.350, 0.450], gap +19pt, accuracy 25%.")[-1] == path.read_text()


def test_scale_is_read_larger_minus_smaller_whichever_way_a_comparison_was_stored():
    results = load_results(FIXTURE)
    small, large = (m.label for m in results.models)
    models = [m.model_copy(update={"family": "Qwen"}) for m in results.models]
    # stored as a = the larger model, so its differences are small - large
    tests = [PairedTest(metric="accuracy", a=0.5, b=0.3, difference=-0.2, low=None, high=None, p_value=0.01, p_holm=0.02, method="m"),
             PairedTest(metric="ece_debiased_l1", a=0.1, b=0.4, difference=0.3, low=0.25, high=0.35, p_value=0.001, p_holm=0.004, method="m")]
    stored = Comparison(kind="models", within="stated", a=large, b=small, n=300, tests=tests)
    page = "\n".join(script().scale_section(results.model_copy(update={"models": models, "comparisons": [stored]})))
    assert f"| {small} → {large} | `stated` | 300 | +20pt (0.010, 0.020) | -0.300 [-0.350, -0.250] (0.004) | - | - |" in page


def test_the_limitations_set_the_unread_answers_accuracy_beside_the_read_ones():
    from calibench.study.run import load_run

    publish_study = script()
    run = load_run(FIXTURE)
    model = run.results.models[0]
    proto = model.protocols[0]
    mine = [i for i in run.items if i["model"] == model.name and i["protocol"] == proto.protocol and i.get("sample") is None]
    mine = (mine * 3)[:48]  # enough read answers (30) for the comparison
    # the first 12 answers unread but with their letters known, 4 of them right; the rest read
    items = [({**i, "status": "unparsed", "correct": n < 4} if n < 12 else {**i, "status": "ok"}) for n, i in enumerate(mine)]
    read = [i["correct"] for i in items[12:]]
    [line] = publish_study._unread_accuracy([(model, proto)], items)
    assert f"the 12 unread answers right 33%, the read ones {sum(read) / len(read):.0%}" in line
    assert f"{model.label} / `{proto.protocol}`" in line
