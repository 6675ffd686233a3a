"""The comparison table: the reference study's columns (Model | Acc | Conf | Gap | ECE | Parse)
plus n, Brier, AUROC and 95% CIs, as rows of plain values, then as Markdown or a rich table."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from calibench.report.format import estimate, gap_estimate, num, pct, points
from calibench.study.results import ModelResult, ProtocolResult, Results, size_order

COLUMNS = ("Model", "Protocol", "n", "Acc", "Conf", "Gap", "ECE", "ECE plug-in", "Brier", "AUROC", "Parse")
HEADLINE_ECE = "ece_debiased_l1"
DISTORTS = " (distorts answers)"
CAPTION = ("complete-case (unparsed answers dropped). ECE: bin-debiased, with its 95% interval (low end 0 unless "
           "a consistency test rejects perfect calibration, high end the plug-in's); ECE plug-in: the reference study's estimator (10 bins), "
           "biased upward at small n, shown without its interval")


def calibration_error(metrics: dict):
    """The headline calibration error among a panel's metrics (or a recalibration's before/after
    pairs): the bin-debiased ECE; results from before it existed have only the plug-in ECE,
    shown then as it was."""
    return metrics.get(HEADLINE_ECE) or metrics.get("ece")


def ordered_models(results: Results) -> list[ModelResult]:
    """Models by size where known (smallest first), otherwise in study order."""
    return [results.models[i] for i in size_order([m.parameters for m in results.models])]


def rows(results: Results, protocols: list[str] | None = None) -> list[dict]:
    """One dict per (model, protocol) with every column as display text, plus raw numbers."""
    out = []
    for model in ordered_models(results):
        for proto in model.protocols:
            if protocols and proto.protocol not in protocols:
                continue
            out.append(row(model, proto))
    return out


def row(model: ModelResult, proto: ProtocolResult) -> dict:
    m = proto.panel.metrics if proto.panel else {}
    n = proto.panel.n if proto.panel else 0
    return {
        "Model": model.label,
        "Protocol": proto.protocol + (DISTORTS if proto.validity is not None and proto.validity.distorting else ""),
        "n": str(proto.panel.n if proto.panel else 0),
        "Acc": estimate(m.get("accuracy"), ".0%", n) if m else "-",
        "Conf": estimate(m.get("mean_confidence"), ".0%", n) if m else "-",
        "Gap": gap_estimate(m.get("overconfidence_gap"), n) if m else "-",
        "ECE": estimate(m.get(HEADLINE_ECE), ".3f", n) if m else "-",
        # the value alone: its percentile interval is the one that misses small true errors (docs/statistics.md)
        "ECE plug-in": num(m["ece"].value) if m else "-",
        "Brier": estimate(m.get("brier"), ".3f", n) if m else "-",
        "AUROC": estimate(m.get("auroc"), ".2f", n) if m else "-",
        "Parse": pct(proto.parse.parse_rate),
        "values": {k: (v.value if v else None) for k, v in m.items()},
    }


def markdown(table_rows: list[dict]) -> str:
    """The table as GitHub Markdown."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in table_rows:
        lines.append("| " + " | ".join(r[c].replace("|", "\\|") for c in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


TERMINAL_WIDTH = 100
TERMINAL_COLUMNS = ("Protocol", "n", "Acc", "Conf", "Gap", "ECE [95% CI]", "plug-in", "Brier", "AUROC", "Parse")
FIXED_WIDTH = 58  # the widest cells of every column but Protocol


def rich_table(table_rows: list[dict], *, title: str, notes: list[str] = ()) -> Group:
    """The table for a terminal of ``TERMINAL_WIDTH`` columns: one block per model, its name as the
    block's title (never wrapped), an interval on the headline ECE only; ``notes`` (the headline
    sentences, which name the protocol they speak of) below it."""
    blocks = [Text(title, style="bold")]
    longest = max((len(r["Protocol"].replace(DISTORTS, " †")) for r in table_rows), default=0)
    gap = 2 if longest + FIXED_WIDTH + 2 * len(TERMINAL_COLUMNS) <= TERMINAL_WIDTH else 1  # two spaces between columns where they fit
    for model in dict.fromkeys(r["Model"] for r in table_rows):
        table = Table(title=model, title_justify="left", title_style="bold", box=None, padding=(0, 0, 0, gap), header_style="bold")
        for column in TERMINAL_COLUMNS:
            wraps = column == "Protocol" and longest + FIXED_WIDTH + len(TERMINAL_COLUMNS) > TERMINAL_WIDTH  # too long for one line
            table.add_column(column, justify="left" if column == "Protocol" else "right", no_wrap=not wraps,
                             max_width=TERMINAL_WIDTH - FIXED_WIDTH - len(TERMINAL_COLUMNS) if wraps else None, overflow="fold")
        for r in (r for r in table_rows if r["Model"] == model):
            v = r["values"]
            cells = [r["Protocol"].replace(DISTORTS, " †"), r["n"], "-", "-", "-", r["ECE"], r["ECE plug-in"], "-", "-", r["Parse"]]
            if v:
                cells[2:5] = pct(v["accuracy"]), pct(v["mean_confidence"]), points(v["overconfidence_gap"])
                cells[7:9] = f"{v['brier']:.3f}", "-" if v["auroc"] is None else f"{v['auroc']:.2f}"
            table.add_row(*cells)
        blocks.append(table)
    blocks.append(Text(CAPTION + ("; † distorts answers (its accuracy differs from the answer read's, exact McNemar p < 0.01)"
                                  if any(DISTORTS in r["Protocol"] for r in table_rows) else ""), style="dim"))
    blocks.extend(Text(note) for note in notes)
    return Group(*blocks)
