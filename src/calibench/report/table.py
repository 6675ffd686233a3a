"""The comparison table: the reference study's columns (Model | Acc | Conf | Gap | ECE | Parse)
plus n, Brier, AUROC and 95% CIs, as rows of plain values, then as Markdown or a rich table."""

from __future__ import annotations

from rich.table import Table

from calibench.study.results import ModelResult, ProtocolResult, Results

COLUMNS = ("Model", "Protocol", "n", "Acc", "Conf", "Gap", "ECE", "Brier", "AUROC", "Parse")


def ordered_models(results: Results) -> list[ModelResult]:
    """Models by size where known (smallest first), otherwise in study order."""
    indexed = list(enumerate(results.models))
    return [m for _, m in sorted(indexed, key=lambda im: (im[1].parameters is None, im[1].parameters or 0, im[0]))]


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def _ci(est, fmt: str) -> str:
    if est is None or est.value is None:
        return "-"
    if est.low is None or est.high is None:
        return format(est.value, fmt)
    return f"{format(est.value, fmt)} [{format(est.low, fmt)}, {format(est.high, fmt)}]"


def _gap(est) -> str:
    if est is None or est.value is None:
        return "-"
    return f"{est.value * 100:+.0f}pt [{est.low * 100:+.0f}, {est.high * 100:+.0f}]"


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
    return {
        "Model": model.label,
        "Protocol": proto.protocol,
        "n": str(proto.panel.n if proto.panel else 0),
        "Acc": _ci(m.get("accuracy"), ".0%") if m else "-",
        "Conf": _ci(m.get("mean_confidence"), ".0%") if m else "-",
        "Gap": _gap(m.get("overconfidence_gap")) if m else "-",
        "ECE": _ci(m.get("ece"), ".3f") if m else "-",
        "Brier": _ci(m.get("brier"), ".3f") if m else "-",
        "AUROC": _ci(m.get("auroc"), ".2f") if m else "-",
        "Parse": _pct(proto.parse.parse_rate),
        "values": {k: (v.value if v else None) for k, v in m.items()},
    }


def markdown(table_rows: list[dict]) -> str:
    """The table as GitHub Markdown."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in table_rows:
        lines.append("| " + " | ".join(r[c].replace("|", "\\|") for c in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def rich_table(table_rows: list[dict], *, title: str) -> Table:
    """The table for the terminal: compact, with the CI on ECE only."""
    table = Table(title=title, caption="complete-case (unparsed answers dropped); ECE with its 95% bootstrap CI")
    for column in COLUMNS:
        table.add_column(column, justify="left" if column in ("Model", "Protocol") else "right", no_wrap=column != "Model", overflow="fold")
    for r in table_rows:
        v = r["values"]
        cells = {c: r[c] for c in COLUMNS}
        if v:
            cells.update({"Acc": _pct(v["accuracy"]), "Conf": _pct(v["mean_confidence"]), "Gap": f"{v['overconfidence_gap'] * 100:+.0f}pt",
                          "Brier": f"{v['brier']:.3f}", "AUROC": "-" if v["auroc"] is None else f"{v['auroc']:.2f}"})
        table.add_row(*(cells[c] for c in COLUMNS))
    return table
