import shutil
from pathlib import Path

import pytest

from calibench.cli import main
from calibench.recalibrate.run import recalibrate_run
from calibench.study.run import load_results

FIXTURE = Path(__file__).parents[1] / "fixtures" / "run"


@pytest.fixture
def run_dir(tmp_path):
    target = tmp_path / "run"
    shutil.copytree(FIXTURE, target)
    return target


def test_recalibration_is_written_into_results_and_the_report(run_dir, capsys):
    assert main(["recalibrate", str(run_dir), "--folds", "3", "--method", "platt", "--method", "isotonic"]) == 0
    results = load_results(run_dir)
    done = [(m.name, p.protocol) for m in results.models for p in m.protocols if p.recalibration]
    assert ("smollm2-135m", "verbalized-json") in done and ("qwen2.5-coder-0.5b", "logprob") in done
    skipped = [(m.name, p.protocol) for m in results.models for p in m.protocols if p.recalibration is None]
    assert ("smollm2-135m", "verbalized") in skipped  # nothing parsed, nothing to fit
    recal = next(p for p in results.models[0].protocols if p.protocol == "verbalized-json").recalibration
    assert [m.method for m in recal.methods] == ["platt", "isotonic"] and recal.folds == 3 and recal.n == 24
    assert recal.stratified_by.startswith("subject")
    platt = recal.methods[0]
    panel = next(p for p in results.models[0].protocols if p.protocol == "verbalized-json").panel
    assert platt.cross_fit["ece"].before.value == pytest.approx(panel.metrics["ece"].value)
    assert sum(platt.reliability_after.count) == 24
    # the headline "after" is chosen within folds, never the best of the rows; the base rate is the baseline
    assert len(recal.selected.chosen) == 3 and set(recal.selected.chosen) <= {"platt", "isotonic"}
    assert recal.selected.holdout is None and recal.base_rate.method == "base-rate"
    assert recal.base_rate.brier_skill == pytest.approx(0.0) and recal.base_rate.vs_base_rate.difference == 0
    for entry in (*recal.methods, recal.selected):
        skill = 1 - entry.cross_fit["brier"].after.value / recal.base_rate.cross_fit["brier"].after.value
        assert entry.brier_skill == pytest.approx(skill)
    after = recal.selected.cross_fit["ece_debiased_l1"].after
    assert after.low <= after.value <= after.high and "0 unless calibration is rejected" in after.method
    page = (run_dir / "report.html").read_text()
    assert "Recalibration on held-out folds" in page and "after nested selection" in page and "chosen per fold" in page


def test_transfer_from_another_run(run_dir, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(FIXTURE, other)
    results = recalibrate_run(run_dir, methods=("shift",), folds=3, transfer_from=other, n_boot=100)
    proto = next(p for p in results.models[1].protocols if p.protocol == "verbalized-json")
    (transfer,) = proto.recalibration.transfer
    assert transfer.method == "shift" and "fixture (24 answers)" == transfer.fitted_on
    # fitted on the same answers, the shift removes the whole gap: the mean matches accuracy
    assert transfer.ece.after.value < transfer.ece.before.value


def test_bad_method_is_one_line_exit_2(run_dir, capsys):
    assert main(["recalibrate", str(run_dir), "--method", "voodoo"]) == 2
    err = capsys.readouterr().err
    assert "unknown recalibration method(s) voodoo" in err and len(err.strip().splitlines()) == 1


def test_a_quick_run_recalibrates_with_small_subjects_pooled(run_dir, capsys):
    # the default 5 folds: smollm2's 21 stated answers leave one of the fixture's two subjects
    # with fewer than 5, which is pooled (a --quick run has 3-4 answers in every subject)
    assert main(["recalibrate", str(run_dir), "--method", "platt"]) == 0
    recal = next(p for p in load_results(run_dir).models[0].protocols if p.protocol == "stated").recalibration
    assert "1 of 2 strata have fewer than 5 items: pooled" in recal.stratified_by
    assert "Warning" not in capsys.readouterr().err


def test_a_linguistic_protocol_gets_its_expression_map(fault_server, tmp_path, capsys):
    import json
    import zlib

    from calibench.cli import main
    from calibench.elicit.protocols.linguistic import PHRASES
    from calibench.study import load_run

    phrases = list(PHRASES)

    def reply(body):
        if (body.get("response_format") or {}).get("json_schema", {}).get("name") == "confidence":
            pick = phrases[zlib.crc32(json.dumps(body["messages"]).encode()) % len(phrases)]
            return ("ok", json.dumps({"confidence": pick}))
        return ("ok", '{"answer": "B"}')

    fault_server.default = reply
    assert main(["run", "--model", f"m@{fault_server.base_url}", "--protocol", "linguistic", "--out", str(tmp_path / "run"),
                 "--quiet", "--limit", "40"]) == 0
    assert main(["recalibrate", str(tmp_path / "run")]) == 0
    proto = load_run(tmp_path / "run").results.models[0].protocols[0]
    methods = {m.method: m for m in proto.recalibration.methods}
    assert "expression map" in methods and methods["expression map"].holdout is None
    assert "expression map" in (tmp_path / "run" / "report.html").read_text()
