"""The report, from a fixture results.json made by a real small run (smollm2-135m and
qwen2.5-coder-0.5b, 24 MMLU questions, every protocol: tests/fixtures/run.toml says how)."""

import html
import json
import re
from pathlib import Path

import numpy as np
import pytest

from calibench.cli import main
from calibench.report import headline, markdown, reliability_data, render_html, rows, write_report
from calibench.report.headline import caveats
from calibench.study.run import load_results

FIXTURE = Path(__file__).parents[1] / "fixtures" / "run"


@pytest.fixture(scope="module")
def results():
    return load_results(FIXTURE)


def test_table_text_is_golden(results):
    assert markdown(rows(results)) == (FIXTURE / "table.md").read_text()


def test_table_rows_carry_the_panel_numbers(results):
    r = next(r for r in rows(results) if r["Model"] == "qwen2.5-coder-0.5b" and r["Protocol"] == "logprob")
    proto = next(p for p in results.models[1].protocols if p.protocol == "logprob")
    assert r["values"]["ece"] == proto.panel.metrics["ece"].value
    assert r["ECE"].startswith(f"{proto.panel.metrics['ece'].value:.3f} [")


def test_reliability_data_areas_are_proportional_to_counts(results):
    model = results.models[0]
    proto = next(p for p in model.protocols if p.protocol == "logprob")
    data = reliability_data(model, proto)
    counts = np.array([b["count"] for b in data["bins"]], dtype=float)
    areas = np.array([b["area"] for b in data["bins"]])
    np.testing.assert_allclose(areas / counts, areas.max() / counts.max())  # area, not radius, follows n
    assert [b["confidence"] for b in data["bins"]] == proto.panel.reliability.mean_confidence
    assert [b["accuracy"] for b in data["bins"]] == proto.panel.reliability.accuracy
    assert all(b["accuracy_low"] <= b["accuracy"] <= b["accuracy_high"] for b in data["bins"])
    assert sum(data["histogram"]["counts"]) == proto.panel.n
    assert data["title"].startswith("smollm2-135m: ECE ") and "n=24 parsed (100% parse rate)" in data["title"]


def with_eces(results, protocol, eces_and_gaps):
    """A copy of results whose protocol panels carry the given (ece, gap) estimates."""
    models = []
    for model, (ece, gap) in zip(results.models, eces_and_gaps):
        protos = []
        for p in model.protocols:
            if p.protocol == protocol and p.panel is not None:
                m = dict(p.panel.metrics)
                m["ece"] = m["ece"].model_copy(update=dict(zip(("value", "low", "high"), ece)))
                m["overconfidence_gap"] = m["overconfidence_gap"].model_copy(update=dict(zip(("value", "low", "high"), gap)))
                p = p.model_copy(update={"panel": p.panel.model_copy(update={"metrics": m})})
            protos.append(p)
        models.append(model.model_copy(update={"protocols": protos}))
    return results.model_copy(update={"models": models})


def test_headline_follows_the_data(results):
    text = " ".join(headline(results))
    assert "improves with scale (stated)" in text and "overlap" in text and "Every model is overconfident" in text
    better = with_eces(results, "stated", [((0.40, 0.35, 0.45), (0.3, 0.2, 0.4)), ((0.10, 0.07, 0.14), (-0.08, -0.12, -0.04))])
    text = " ".join(headline(better))
    assert "Calibration improves with scale (stated): ECE 0.40 (smollm2-135m) → 0.10 (qwen2.5-coder-0.5b)." in text
    assert "overlap" not in text
    assert "Overconfident (CI of the gap above zero): smollm2-135m." in text
    assert "Underconfident (CI of the gap below zero): qwen2.5-coder-0.5b." in text
    unclear = with_eces(results, "stated", [((0.40, 0.35, 0.45), (0.3, 0.2, 0.4)), ((0.10, 0.07, 0.14), (0.01, -0.02, 0.04))])
    assert "Gap indistinguishable from zero: qwen2.5-coder-0.5b." in " ".join(headline(unclear))


def test_caveats_name_parse_rates_and_single_runs(results):
    text = " ".join(caveats(results))
    assert "smollm2-135m / verbalized: no answer parsed" in text  # it echoes the options: nothing asserted
    # the answer read's letters are stated's and p-true's too: one sentence for the three
    assert "smollm2-135m / stated, logprob, p-true: position bias" in text
    assert "A single run per question" in text and "Small samples" in text


def distorting(results, protocol="verbalized-json"):
    """A copy of results in which ``protocol`` of the second model is marked distorting."""
    model = results.models[1]
    protos = []
    for p in model.protocols:
        if p.protocol == protocol:
            v = p.validity.model_copy(update={"accuracy": 0.1, "reference_accuracy": 0.4, "mcnemar_p": 0.001, "distorting": True})
            p = p.model_copy(update={"validity": v})
        protos.append(p)
    return results.model_copy(update={"models": [results.models[0], model.model_copy(update={"protocols": protos})]})


def test_a_distorting_protocol_is_said_beside_each_of_its_rows(results):
    assert not any("distorts" in r["Protocol"] for r in rows(results))
    marked = distorting(results)
    flagged = [r for r in rows(marked) if "distorts" in r["Protocol"]]
    assert [(r["Model"], r["Protocol"]) for r in flagged] == [("qwen2.5-coder-0.5b", "verbalized-json (distorts answers)")]
    text = " ".join(caveats(marked))
    assert "qwen2.5-coder-0.5b / verbalized-json changes the answers it measures: accuracy 10% against 40%" in text
    page = render_html([marked])
    assert "Elicitation: what each protocol did to the answers" in page and "p=0.001 distorting" in page


def test_page_is_self_contained_and_escapes_model_strings(results, tmp_path):
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    model = results.models[0].model_copy(update={"label": hostile})
    page = render_html([results.model_copy(update={"models": [model, *results.models[1:]]})])
    assert "<script" not in page.replace(html.escape("<script>"), "")
    assert html.escape(hostile) in page or html.escape(hostile, quote=False) in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert "@import" not in page and "url(http" not in page
    assert page.count("<svg") >= 5  # a reliability figure per protocol and the trends, inline


def test_report_and_compare_commands(results, tmp_path, capsys):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "results.json").write_text((FIXTURE / "results.json").read_text())
    assert main(["report", str(run_dir)]) == 0
    for name in ("report.html", "table.md", "reliability-logprob.svg", "reliability-logprob.png", "trends.svg", "trends.png"):
        assert (run_dir / name).is_file() and (run_dir / name).stat().st_size > 0, name
    out = tmp_path / "cmp"
    assert main(["compare", str(run_dir), str(FIXTURE), "--out", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert "qwen2.5-coder-0.5b (fixture)" in page  # a second copy of a model gets the study's name
    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert "not a finished run" in capsys.readouterr().err
