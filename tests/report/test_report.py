"""The report, from a fixture results.json made by a real small run (smollm2-135m and
qwen2.5-coder-0.5b, 24 MMLU questions, every protocol: tests/fixtures/run.toml says how)."""

import html
import json
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

from calibench.cli import main
from calibench.report import headline, markdown, reliability_data, render_html, rows, write_report
from calibench import metrics
from calibench.report.figures import plot_trends, risk_coverage_data, trend_data
from calibench.report.format import estimate, gap_estimate
from calibench.report.headline import caveats
from calibench.study.comparisons import Comparison, PairedTest
from calibench.study.results import Estimate
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
    head, plug_in = proto.panel.metrics["ece_debiased_l1"], proto.panel.metrics["ece"]
    assert r["values"]["ece"] == plug_in.value and r["values"]["ece_debiased_l1"] == head.value
    assert r["ECE"] == f"{head.value:.3f} [{head.low:.3f}, {head.high:.3f}]"
    assert r["ECE plug-in"] == f"{plug_in.value:.3f}"


def test_an_interval_from_one_answer_says_n_too_small():
    est = Estimate(value=0.9, low=0.9, high=0.9, level=0.95, method="percentile", n_boot=1000)
    assert estimate(est, ".3f", 1) == "0.900 (n too small)" and gap_estimate(est, 1) == "+90pt (n too small)"
    assert estimate(est, ".3f", 2) == "0.900 [0.900, 0.900]"


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


def with_eces(results, protocol, eces_and_gaps, *, n=300, ece_p=None, families=("Qwen", "Qwen")):
    """A copy of results whose protocol panels carry the given (ece, gap) estimates and n, with a
    paired ECE comparison between the two models whose Holm-adjusted p-value is ``ece_p``, and
    the two models of ``families``."""
    models = []
    for model, (ece, gap), family in zip(results.models, eces_and_gaps, families):
        model = model.model_copy(update={"family": family})
        protos = []
        for p in model.protocols:
            if p.protocol == protocol and p.panel is not None:
                m = dict(p.panel.metrics)
                m["ece_debiased_l1"] = m["ece_debiased_l1"].model_copy(update=dict(zip(("value", "low", "high"), ece)))
                m["overconfidence_gap"] = m["overconfidence_gap"].model_copy(update=dict(zip(("value", "low", "high"), gap)))
                p = p.model_copy(update={"panel": p.panel.model_copy(update={"metrics": m, "n": n})})
            protos.append(p)
        models.append(model.model_copy(update={"protocols": protos}))
    (a, _), (b, _) = eces_and_gaps
    tests = [PairedTest(metric="ece_debiased_l1", a=a[0], b=b[0], difference=b[0] - a[0], low=b[0] - a[0] - 0.05,
                        high=b[0] - a[0] + 0.05, p_value=ece_p, p_holm=ece_p, method="paired bootstrap, percentile")]
    labels = [m.label for m in results.models]
    comparison = Comparison(kind="models", within=protocol, a=labels[0], b=labels[1], n=n, tests=tests)
    return results.model_copy(update={"models": models, "comparisons": [comparison] if ece_p is not None else []})


def test_headline_follows_the_data(results):
    text = " ".join(headline(results))
    # the fixture's rows have 21-24 answers: none enters a claim, and the headline says so
    assert "Left out of these claims, with fewer than 30 answers (stated, complete-case): smollm2-135m (n=" in text
    assert "No model has 30 or more answers (stated, complete-case): too few for any claim." in text
    assert "overconfident" not in text and "improves" not in text
    better = with_eces(results, "stated", [((0.40, 0.35, 0.45), (0.3, 0.2, 0.4)), ((0.10, 0.07, 0.14), (-0.08, -0.12, -0.04))], ece_p=0.001)
    text = " ".join(headline(better))
    assert "ECE by model (stated, complete-case): 0.400 (smollm2-135m), 0.100 (qwen2.5-coder-0.5b)." in text
    assert ("Within Qwen, calibration improves with scale: ECE falls at every step in size, each fall significant in a paired test "
            "(stated, complete-case; same questions, 95% CI, Holm-adjusted over the study's 1 tests): "
            "smollm2-135m → qwen2.5-coder-0.5b -0.300 [-0.350, -0.250], Holm p = 0.001.") in text
    assert "No claim about scale" not in text
    # the same numbers from two families: no claim about scale, the paired difference still given
    families = with_eces(results, "stated", [((0.40, 0.35, 0.45), (0.3, 0.2, 0.4)), ((0.10, 0.07, 0.14), (-0.08, -0.12, -0.04))],
                         ece_p=0.001, families=("SmolLM2", "Qwen2.5-Coder"))
    text = " ".join(headline(families))
    assert "improves" not in text and "Within" not in text
    assert ("No claim about scale is made from a step between families (they differ in more than size) or between models "
            "whose family or size is not recorded (set family and parameters in [[models]]); paired differences (stated, "
            "complete-case, Holm-adjusted): smollm2-135m → qwen2.5-coder-0.5b -0.300 [-0.350, -0.250], Holm p = 0.001 "
            "(SmolLM2 vs Qwen2.5-Coder).") in text
    unknown = with_eces(results, "stated", [((0.40, 0.35, 0.45), (0.3, 0.2, 0.4)), ((0.10, 0.07, 0.14), (-0.08, -0.12, -0.04))],
                        ece_p=0.001, families=(None, "Qwen"))
    assert "Holm p = 0.001 (family not recorded)." in " ".join(headline(unknown))
    unsized = unknown.model_copy(update={"models": [unknown.models[0].model_copy(update={"family": "Qwen", "parameters": None}),
                                                    unknown.models[1]]})
    text = " ".join(headline(unsized))
    assert "(size not recorded)." in text and "Within" not in text
    # the comparison stored the other way round (b - a for a = the larger model) reads the same
    flipped = better.model_copy(update={"comparisons": [c.model_copy(update={"a": c.b, "b": c.a, "tests": [
        t.model_copy(update={"difference": -t.difference, "low": -t.high, "high": -t.low}) for t in c.tests]}) for c in better.comparisons]})
    assert "smollm2-135m → qwen2.5-coder-0.5b -0.300 [-0.350, -0.250], Holm p = 0.001." in " ".join(headline(flipped))
    assert "overlap" not in text and "Left out" not in text
    assert "Overconfident (stated, complete-case; CI of the gap above zero): smollm2-135m." in text
    assert "Underconfident (stated, complete-case; CI of the gap below zero): qwen2.5-coder-0.5b." in text
    # the same point estimates, but the paired test does not establish the difference
    unsure = with_eces(results, "stated", [((0.40, 0.35, 0.45), (0.3, 0.2, 0.4)), ((0.10, 0.07, 0.14), (0.2, 0.1, 0.3))], ece_p=0.2)
    text = " ".join(headline(unsure))
    assert "Within Qwen, no steady change with scale is established" in text and "improves" not in text
    assert "Every one of the 2 models with 30 or more answers is overconfident (stated, complete-case)" in text
    unclear = with_eces(results, "stated", [((0.40, 0.35, 0.45), (0.3, 0.2, 0.4)), ((0.10, 0.07, 0.14), (0.01, -0.02, 0.04))], ece_p=0.001)
    assert "Gap indistinguishable from zero (stated, complete-case): qwen2.5-coder-0.5b." in " ".join(headline(unclear))


def test_a_small_row_never_enters_a_claim_and_is_drawn_hollow(results):
    mixed = with_eces(results, "stated", [((0.40, 0.35, 0.45), (0.3, 0.2, 0.4)), ((0.10, 0.07, 0.14), (-0.3, -0.4, -0.2))], ece_p=0.001)
    small = mixed.models[1].model_copy(update={"protocols": [
        p.model_copy(update={"panel": p.panel.model_copy(update={"n": 12})}) if p.protocol == "stated" else p for p in mixed.models[1].protocols]})
    mixed = mixed.model_copy(update={"models": [mixed.models[0], small]})
    text = " ".join(headline(mixed))
    assert "Left out of these claims, with fewer than 30 answers (stated, complete-case): qwen2.5-coder-0.5b (n=12)." in text
    # one row left: no trend, and "every model" speaks of that row only, saying how many
    assert "improves" not in text and "→" not in text
    assert "smollm2-135m, the only model with 30 or more answers, is overconfident (stated, complete-case)" in text
    data = trend_data(mixed)
    point = next(p for p in data["stated"] if p["model"] == "qwen2.5-coder-0.5b")
    assert point["n"] == 12
    fig = plot_trends(data)
    ax_ece = fig.axes[0]
    hollow = [line for line in ax_ece.get_lines() if line.get_markerfacecolor() == "white"]
    assert hollow and list(hollow[0].get_xdata()) == [point["parameters"]]
    assert any(t.get_text() == "n=12" for t in ax_ece.texts)
    plt.close(fig)


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
    assert "nothing: no such directory" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 2
    assert "not a finished run" in capsys.readouterr().err


def test_the_page_lists_the_paired_comparisons(results):
    assert "Paired comparisons" not in render_html([results])  # the fixture's rows are too small to compare
    compared = with_eces(results, "stated", [((0.40, 0.35, 0.45), (0.3, 0.2, 0.4)), ((0.10, 0.07, 0.14), (0.2, 0.1, 0.3))], ece_p=0.001)
    page = render_html([compared])
    assert "Paired comparisons" in page and "smollm2-135m → qwen2.5-coder-0.5b" in page
    assert "-0.300 [-0.350, -0.250] p=0.001 *" in page


def test_selective_prediction_curves_and_prr_come_from_the_items(results):
    items = [json.loads(line) for line in (FIXTURE / "items.jsonl").read_text().splitlines()]
    chosen = [i for i in items if i["model"] == "qwen2.5-coder-0.5b" and i["protocol"] == "stated" and i["status"] in ("ok", "lenient")]
    p = np.array([i["confidence"] for i in chosen])
    y = np.array([float(i["correct"]) for i in chosen])
    sel = next(x for x in results.models[1].protocols if x.protocol == "stated").selective
    assert sel.prr.value == pytest.approx(metrics.prr(p, y)) and sel.risk[-1] == pytest.approx(1 - y.mean())
    data = risk_coverage_data(results)
    assert {c["model"] for c in data["stated"]} == {"smollm2-135m", "qwen2.5-coder-0.5b"}
    page = render_html([results])
    assert "Selective prediction" in page and f"{sel.prr.value:.2f} [{sel.prr.low:.2f}, {sel.prr.high:.2f}]" in page


def test_the_terminal_table_fits_100_columns_and_names_the_headline_protocol():
    from rich.console import Console

    from calibench.report.headline import headline
    from calibench.report.table import DISTORTS, TERMINAL_WIDTH, rich_table

    results = load_results(FIXTURE)
    long_model = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    table_rows = rows(results)
    table_rows[0] = {**table_rows[0], "Model": long_model, "Protocol": "verbalized-json@rephrased" + DISTORTS}
    table_rows[1] = {**table_rows[1], "Protocol": "an_imported_task_with_a_long_name/loglik-norm"}  # wraps in its column
    console = Console(width=TERMINAL_WIDTH, record=True, file=open("/dev/null", "w"))
    console.print(rich_table(table_rows, title="t", notes=headline(results)))
    lines = console.export_text().splitlines()
    assert max(len(line.rstrip()) for line in lines) <= TERMINAL_WIDTH
    assert long_model in [line.strip() for line in lines]  # a model's name on a line of its own, whole
    name = "an_imported_task_with_a_long_name/loglik-norm"  # folded onto a second line in its own column
    assert any(a.split() and a.split()[0] + b.strip() == name for a, b in zip(lines, lines[1:]))
    assert not any("…" in line for line in lines)  # no cell cut
    assert any("(stated, complete-case)" in line for line in lines)  # the headline says which protocol it is for


def test_figures_read_at_a_glance_with_one_colour_per_protocol_everywhere(results, tmp_path):
    from matplotlib.colors import to_hex

    from calibench.report.figures import PALETTE, main_figures, plot_risk_coverage, protocol_colors, size_label

    assert (size_label(1.35e8), size_label(4.94e8), size_label(1.54e9)) == ("135M", "494M", "1.54B")
    colors = protocol_colors(results)
    assert set(colors.values()) <= set(PALETTE) and len(set(colors.values())) == len(colors)
    data = trend_data(results)
    fig = plot_trends(data, colors=colors)
    ax_ece = fig.axes[0]
    sizes = sorted({p["parameters"] for points in data.values() for p in points if p["parameters"]})
    assert list(ax_ece.get_xticks()) == sizes and [t.get_text() for t in ax_ece.get_xticklabels()] == [size_label(x) for x in sizes]
    assert ax_ece.get_xticks(minor=True).size == 0  # no minor labels to overprint
    drawn = {to_hex(line.get_color()) for line in ax_ece.get_lines() if line.get_label() in colors}
    assert drawn <= set(colors.values())
    assert not fig.axes[2].texts  # models are told apart by marker shape in a legend, not by labels that can overlap
    plt.close(fig)
    fig = plot_risk_coverage(risk_coverage_data(results), colors=colors)
    for ax in fig.axes:
        for line in ax.get_lines():
            protocol = line.get_label().split(":")[0]
            assert to_hex(line.get_color()) == colors[protocol]
    plt.close(fig)
    # every figure of the page is written as SVG and PNG, for papers
    stems = [stem for stem, _ in main_figures(results)]
    write_report([results], tmp_path / "r")
    for stem in stems:
        assert (tmp_path / "r" / f"{stem}.svg").is_file() and (tmp_path / "r" / f"{stem}.png").is_file()


def test_the_page_admits_its_own_script_and_no_other(results, tmp_path):
    import base64
    import hashlib

    from calibench.study.run import load_run

    run = load_run(FIXTURE)
    page = write_report([run.results], tmp_path / "r", items=[run.items]).read_text()
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    scripts = re.findall(r"<script>(.*?)</script>", page, flags=re.S)
    assert len(scripts) == 1  # the explorer's (the JSON block is data, type application/json)
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in html.unescape(policy) and "unsafe-inline" not in policy.split("script-src")[1]
    assert "default-src 'none'" in html.unescape(policy)


def test_many_diagrams_wrap_four_to_a_row():
    from calibench.report.figures import diagrams

    empty = {"title": "m · s: no answers", "bins": [], "histogram": None}
    fig = diagrams([empty] * 6, width=3.4)  # e.g. a model's signals in the extended study
    width, height = fig.get_size_inches()
    assert width == pytest.approx(4 * 3.4) and height == pytest.approx(2 * 4.8)
    assert sum(ax.get_visible() for ax in fig.axes) == 12 and len(fig.axes) == 16  # two places of the second row left empty
    plt.close(fig)


def test_a_figure_keeps_its_whole_name_when_the_model_label_holds_dots(tmp_path):
    # "signals-qwen2.5-coder-0.5b" once lost ".5b", and two protocols' recalibration figures of
    # one model overwrote each other
    from calibench.report.figures import save

    fig = plt.figure()
    for stem in ("signals-qwen2.5-coder-0.5b", "recalibration-qwen2.5-coder-0.5b-stated", "recalibration-qwen2.5-coder-0.5b-p-true"):
        save(fig, tmp_path / stem)
    plt.close(fig)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{stem}.{ext}" for stem in ("signals-qwen2.5-coder-0.5b", "recalibration-qwen2.5-coder-0.5b-stated",
                                     "recalibration-qwen2.5-coder-0.5b-p-true") for ext in ("svg", "png"))


def test_signals_md_holds_every_signal_section_the_run_has(results, tmp_path):
    from calibench.report.signals_md import signals_markdown
    from calibench.study.results import SignalRow, SignalTable, TemplateSpread

    # the fixture's 24 answers per row make no signals table: signals.md is not written
    assert signals_markdown(results) is None
    write_report([results], tmp_path / "r")
    assert not (tmp_path / "r" / "signals.md").exists()
    est = Estimate(value=0.1, low=0.05, high=0.2, level=0.95, method="percentile", n_boot=10)
    model = results.models[0]
    reliability = model.protocols[0].panel.reliability
    metrics_named = ("accuracy", "mean_confidence", "overconfidence_gap", "ece_debiased_l1", "brier", "auroc")
    table = SignalTable(n=40, best="logprob", left_out={"verbalized": 0}, rows=[
        SignalRow(signal="logprob", ece=est, brier=0.2, auroc=0.6, aurc=0.5, prr=0.1, brier_minus_best=None, reliability=reliability),
        SignalRow(signal="stated", ece=est, brier=0.3, auroc=None, aurc=None, prr=None, brier_minus_best=est, reliability=reliability)])
    spread = TemplateSpread(protocol="stated", templates=["stated", "stated@few-shot"], n={"stated": 24, "stated@few-shot": 20},
                            spread=dict.fromkeys(metrics_named, 0.04), interval_width=dict.fromkeys(metrics_named, 0.3),
                            example_copies={"stated": 0.0, "stated@few-shot": 0.61})
    richer = results.model_copy(update={"models": [model.model_copy(update={"signal_table": table, "templates": [spread]}),
                                                   *results.models[1:]]})
    text = signals_markdown(richer)
    assert f"**{model.label}**: 40 answers shared by every signal; left out for fewer than 30 answers: `verbalized` (n = 0)." in text
    assert "| `logprob` | 0.100 [0.050, 0.200] | 0.200 | 0.60 | 0.500 | 0.10 | best |" in text
    assert "| `stated` | 0.100 [0.050, 0.200] | 0.300 | - | - | - | +0.100 [+0.050, +0.200] |" in text
    assert f"| {model.label} | `stated`, `stated@few-shot` | 24, 20 | {' | '.join(['0.040 (0.300)'] * 5)} | 0%, 61% |" in text
    assert text.index("## Every signal") < text.index("## Prompt templates") < text.index("## Cost")
    write_report([richer], tmp_path / "s")
    assert (tmp_path / "s" / "signals.md").read_text() == text
    write_report([results], tmp_path / "s")  # re-rendered from results without signals: no stale file left
    assert not (tmp_path / "s" / "signals.md").exists()


def test_trend_lines_join_the_models_of_one_family_only(results):
    def lines(families):
        data = trend_data(with_eces(results, "stated", [((0.4, 0.35, 0.45), (0.3, 0.2, 0.4)), ((0.1, 0.07, 0.14), (0.2, 0.1, 0.3))],
                                    families=families))
        fig = plot_trends({"stated": data["stated"]})
        drawn = [line for line in fig.axes[0].get_lines() if line.get_linestyle() != "None"]  # not the points or caps
        plt.close(fig)
        return drawn

    joined = lines(("Qwen", "Qwen"))
    assert len(joined) == 1 and list(joined[0].get_ydata()) == [0.4, 0.1]
    assert lines(("SmolLM2", "Qwen2.5-Coder")) == [] and lines((None, None)) == []
