"""Reliability diagrams and trend charts: the plot data first (plain dicts), the drawing second.

Reliability diagram: each bin a dot at (mean confidence, accuracy) whose AREA is
proportional to its count (the reference study scaled the radius, which overstates big
bins), Wilson-interval whiskers, the dashed diagonal, the overconfident region below it
shaded, and the confidence histogram underneath.
"""

from __future__ import annotations

import io
import re

import matplotlib
import matplotlib.lines
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from calibench.atomic import write_atomic  # noqa: E402
from calibench.metrics.binning import uniform_bin_index  # noqa: E402
from calibench.report.format import TOO_SMALL, estimate  # noqa: E402
from calibench.report.table import calibration_error, ordered_models  # noqa: E402
from calibench.study.comparisons import MIN_N  # noqa: E402
from calibench.study.results import ModelResult, ProtocolResult, Results  # noqa: E402

MAX_DOT_AREA = 600.0  # points^2 for the fullest bin
OVERCONFIDENT = "#f4d6d1"
DOT = "#1f5aa6"
# Okabe and Ito's colour-blind-safe palette; in every figure a colour stands for a protocol
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#000000", "#f0e442")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")  # and a marker shape for a model


def protocol_colors(results: Results) -> dict[str, str]:
    """Each protocol's colour, in the order the study lists them (the same in every figure of a report)."""
    names = dict.fromkeys(p.protocol for m in results.models for p in m.protocols)
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def size_label(parameters: float) -> str:
    """1.5e9 -> "1.5B", 1.35e8 -> "135M"."""
    for scale, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if parameters >= scale:
            return f"{parameters / scale:.3g}{unit}"
    return f"{parameters:.3g}"


def title_line(model: ModelResult, proto: ProtocolResult) -> str:
    """E.g. "qwen2.5-coder-1.5b: ECE 0.21 [0.17, 0.26] · gap +19pt · n=287 parsed (96% parse rate)";
    the ECE is the headline (bin-debiased) one."""
    if proto.panel is None:
        return f"{model.label}: no parsed answers ({proto.parse.parse_rate:.0%} parse rate)"
    m = proto.panel.metrics
    n = proto.panel.n
    ece, gap = calibration_error(m), m["overconfidence_gap"]
    interval = f" [{ece.low:.2f}, {ece.high:.2f}]" if n >= 2 else f" ({TOO_SMALL})"
    return (
        f"{model.label}: ECE {ece.value:.2f}{interval} · gap {gap.value * 100:+.0f}pt"
        f" · n={n} parsed ({proto.parse.parse_rate:.0%} parse rate)"
    )


def reliability_data(model: ModelResult, proto: ProtocolResult) -> dict:
    """Everything the diagram draws, as plain numbers: dots, areas, whiskers, histogram, title."""
    data = diagram_data(proto.panel.reliability if proto.panel else None, title_line(model, proto))
    return {"model": model.label, "protocol": proto.protocol, **data}


def diagram_data(rel, title: str) -> dict:
    """Plot data of one reliability diagram from stored reliability bins (or None: empty)."""
    data = {"title": title, "bins": [], "histogram": None}
    if rel is None:
        return data
    counts = np.array(rel.count, dtype=float)
    areas = MAX_DOT_AREA * counts / counts.max() if counts.size else counts
    for i in range(len(rel.count)):
        data["bins"].append(
            {
                "confidence": rel.mean_confidence[i],
                "accuracy": rel.accuracy[i],
                "count": rel.count[i],
                "area": float(areas[i]),
                "accuracy_low": rel.accuracy_low[i],
                "accuracy_high": rel.accuracy_high[i],
            }
        )
    k = rel.n_bins
    hist = np.zeros(k, dtype=int)
    index = uniform_bin_index(np.array(rel.confidence_min, dtype=float), k)
    np.add.at(hist, index, np.array(rel.count, dtype=int))
    data["histogram"] = {"edges": [i / k for i in range(k + 1)], "counts": hist.tolist()}
    return data


def before_after(model: ModelResult, proto: ProtocolResult) -> tuple[plt.Figure, list[dict]] | None:
    """Before and after recalibration by the nested selection (the method chosen within the
    training folds, never the best out-of-fold result), side by side."""
    recal = proto.recalibration
    if recal is None or recal.selected is None or proto.panel is None:
        return None
    chosen = recal.selected
    ece = chosen.cross_fit["ece_debiased_l1"]
    datas = [
        diagram_data(proto.panel.reliability, f"{model.label} · {proto.protocol}: before, ECE {ece.before.value:.2f}"),
        diagram_data(chosen.reliability_after, f"after nested selection (out-of-fold): ECE {ece.after.value:.2f} "
                                               f"[{ece.after.low:.2f}, {ece.after.high:.2f}]"),
    ]
    return diagrams(datas, width=4.2), datas


def diagrams(datas: list[dict], *, width: float, title: str | None = None, height: float = 4.8, min_width: float = 5.0,
             per_row: int = 4) -> plt.Figure:
    """Reliability diagrams side by side, ``per_row`` to a row, each ``width`` inches wide (the
    figure at least ``min_width``) and ``height`` inches tall, under an optional ``title``."""
    cols = max(1, min(len(datas), per_row))
    rows = max(1, -(-len(datas) // per_row))
    fig, axes = plt.subplots(2 * rows, cols, figsize=(max(width * cols, min_width), height * rows),
                             gridspec_kw={"height_ratios": [3, 1] * rows}, squeeze=False)
    for i, data in enumerate(datas):
        row, col = divmod(i, per_row)
        plot_reliability(data, axes[2 * row][col], axes[2 * row + 1][col])
    for i in range(len(datas), rows * cols):  # the last row's empty places
        row, col = divmod(i, per_row)
        axes[2 * row][col].set_visible(False)
        axes[2 * row + 1][col].set_visible(False)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_reliability(data: dict, ax, ax_hist) -> None:
    """Draw one reliability diagram from :func:`reliability_data` onto two axes."""
    ax.fill_between([0, 1], [0, 1], [0, 0], color=OVERCONFIDENT, linewidth=0, label="overconfident")
    ax.plot([0, 1], [0, 1], linestyle="--", color="#555555", linewidth=1)
    for b in data["bins"]:
        ax.plot([b["confidence"]] * 2, [b["accuracy_low"], b["accuracy_high"]], color=DOT, linewidth=1, alpha=0.7)
    if data["bins"]:
        ax.scatter([b["confidence"] for b in data["bins"]], [b["accuracy"] for b in data["bins"]],
                   s=[b["area"] for b in data["bins"]], color=DOT, alpha=0.75, edgecolor="white", linewidth=0.5, zorder=3,
                   clip_on=False)  # a full bin at confidence 1.0 is drawn whole, not cut at the frame
    ax.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.02), ylabel="accuracy")
    name, _, stats = data["title"].partition(": ")
    ax.set_title(f"{name}\n{stats}", fontsize=7.5, loc="left")
    ax.set_xticklabels([])
    ax.grid(alpha=0.2)
    if data["histogram"]:
        edges, counts = data["histogram"]["edges"], data["histogram"]["counts"]
        ax_hist.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color="#8fa8c8", edgecolor="white")
    ax_hist.set(xlim=(-0.02, 1.02), xlabel="confidence", ylabel="n")


def card_diagram(model: ModelResult, proto: ProtocolResult) -> plt.Figure:
    """A small reliability diagram for a model's card at the top of the report (its numbers are on the card)."""
    data = {**reliability_data(model, proto), "title": ""}
    return diagrams([data], width=2.6, height=2.9, min_width=2.6)


def small_multiples(results: Results, protocol: str) -> tuple[plt.Figure, list[dict]]:
    """One figure with every model's reliability diagram for ``protocol``; returns it with its data."""
    models = [m for m in ordered_models(results) if any(p.protocol == protocol for p in m.protocols)]
    datas = [reliability_data(m, next(p for p in m.protocols if p.protocol == protocol)) for m in models]
    return diagrams(datas, width=4.2, title=f"{protocol}: dot area proportional to count, whiskers 95% Wilson intervals"), datas


def trend_data(results: Results) -> dict:
    """ECE (the headline, bin-debiased) and gap against model size with CIs, and mean confidence
    against accuracy, per protocol; each point carries its n and its model's family."""
    out: dict[str, list[dict]] = {}
    for model in ordered_models(results):
        for proto in model.protocols:
            if proto.panel is None:
                continue
            m = {**proto.panel.metrics, "ece": calibration_error(proto.panel.metrics)}
            out.setdefault(proto.protocol, []).append(
                {
                    "model": model.label,
                    "parameters": model.parameters,
                    "family": model.family,
                    "n": proto.panel.n,
                    **{f"{name}_{part}": getattr(m[name], part) for name in ("ece", "overconfidence_gap", "accuracy", "mean_confidence") for part in ("value", "low", "high")},
                }
            )
    return out


def plot_trends(data: dict, *, colors: dict[str, str] | None = None) -> plt.Figure:
    """Three panels: ECE and gap against parameters (log scale, one tick per model), and mean
    confidence against accuracy (a colour per protocol, a marker shape per model, both in legends).

    Points with fewer than ``MIN_N`` answers are drawn hollow, labelled with their n, and left
    out of the trend line (the report makes no claim from them). A line joins the models of one
    family only: across families it would draw a scale trend that the study cannot claim.
    """
    colors = colors or {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(data)}
    models = list(dict.fromkeys(p["model"] for points in data.values() for p in points))
    marker = {name: MARKERS[i % len(MARKERS)] for i, name in enumerate(models)}
    sizes = {p["parameters"]: p["model"] for points in data.values() for p in points if p["parameters"]}
    fig, (ax_ece, ax_gap, ax_acc) = plt.subplots(1, 3, figsize=(11, 3.6))
    for protocol, points in data.items():
        color = colors[protocol]
        sized = [p for p in points if p["parameters"]]
        for ax, key in ((ax_ece, "ece"), (ax_gap, "overconfidence_gap")):
            label = protocol  # on the protocol's first series, filled or hollow
            for enough in (True, False):
                chosen = [p for p in sized if (p["n"] >= MIN_N) == enough]
                if not chosen:
                    continue
                x = [p["parameters"] for p in chosen]
                y = np.array([p[f"{key}_value"] for p in chosen])
                err = np.array([[p[f"{key}_value"] - p[f"{key}_low"] for p in chosen], [p[f"{key}_high"] - p[f"{key}_value"] for p in chosen]])
                ax.errorbar(x, y, yerr=err, marker="o", capsize=3, color=color, linestyle="none",
                            markerfacecolor=color if enough else "white", label=label)
                label = None
                for family in dict.fromkeys(p["family"] for p in chosen if enough and p["family"]):
                    line = sorted((p for p in chosen if p["family"] == family), key=lambda p: p["parameters"])
                    if len(line) >= 2:
                        ax.plot([p["parameters"] for p in line], [p[f"{key}_value"] for p in line], color=color, linewidth=1.5)
                for p in chosen if not enough else ():
                    ax.annotate(f"n={p['n']}", (p["parameters"], p[f"{key}_value"]), fontsize=6, xytext=(5, -3), textcoords="offset points")
        for p in points:
            enough = p["n"] >= MIN_N
            ax_acc.scatter([p["accuracy_value"]], [p["mean_confidence_value"]], marker=marker[p["model"]], s=36,
                           edgecolors=color, facecolors=color if enough else "white", linewidths=1.2)
    for ax, label in ((ax_ece, "ECE (10 bins, bin-debiased)"), (ax_gap, "gap: confidence - accuracy")):
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())  # one tick per model, no minor labels
        ax.set_xticks(sorted(sizes), [size_label(x) for x in sorted(sizes)])
        if sizes:
            ax.set_xlim(min(sizes) / 1.6, max(sizes) * 1.6)
        ax.set(xlabel="parameters", ylabel=label)
        ax.grid(alpha=0.3)
    ax_gap.axhline(0, color="#555555", linewidth=1, linestyle="--")
    ax_acc.plot([0, 1], [0, 1], linestyle="--", color="#555555", linewidth=1)
    ax_acc.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.04), xlabel="accuracy", ylabel="mean confidence")
    ax_acc.grid(alpha=0.3)
    if ax_ece.get_legend_handles_labels()[0]:
        ax_ece.legend(fontsize=7, title="protocol", title_fontsize=7)
    shapes = [matplotlib.lines.Line2D([], [], linestyle="none", marker=marker[m], color="#555555", label=m) for m in models]
    if shapes:
        ax_acc.legend(handles=shapes, fontsize=6, title="model (hollow: n < 30)", title_fontsize=6, loc="lower right")
    fig.tight_layout()
    return fig


def risk_coverage_data(results: Results) -> dict:
    """Per protocol, each model's risk-coverage curve with its band and PRR, as plain numbers."""
    out: dict[str, list[dict]] = {}
    for model in ordered_models(results):
        for proto in model.protocols:
            sel = proto.selective
            if sel is None or proto.panel is None:
                continue
            out.setdefault(proto.protocol, []).append({
                "model": model.label, "n": proto.panel.n, "coverage": sel.coverage, "risk": sel.risk, "low": sel.low,
                "high": sel.high, "prr": sel.prr.value, "prr_low": sel.prr.low, "prr_high": sel.prr.high,
            })
    return out


def plot_risk_coverage(data: dict, *, colors: dict[str, str] | None = None) -> plt.Figure:
    """One panel per model: each protocol's risk among the answers kept against the share kept,
    with its pointwise 95% band, in the protocol's colour; rows under ``MIN_N`` answers dashed and
    labelled with n."""
    colors = colors or {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(data)}
    by_model: dict[str, list[tuple[str, dict]]] = {}
    for protocol, curves in data.items():
        for c in curves:
            by_model.setdefault(c["model"], []).append((protocol, c))
    cols = max(1, len(by_model))
    fig, axes = plt.subplots(1, cols, figsize=(max(4.0 * cols, 5.0), 3.6), squeeze=False)
    for ax, (model, curves) in zip(axes[0], by_model.items()):
        for protocol, c in curves:
            color = colors[protocol]
            prr = "PRR n/a" if c["prr"] is None else f"PRR {c['prr']:.2f} [{c['prr_low']:.2f}, {c['prr_high']:.2f}]"
            small = c["n"] < MIN_N
            label = f"{protocol}: {prr}" + (f" (n={c['n']})" if small else "")
            ax.plot(c["coverage"], c["risk"], color=color, linestyle="--" if small else "-", label=label)
            ax.fill_between(c["coverage"], c["low"], c["high"], color=color, alpha=0.15, linewidth=0)
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="coverage (share answered, most confident first)", ylabel="risk (error rate)")
        ax.set_title(model, fontsize=9, loc="left")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def signals_figure(model: ModelResult) -> tuple[plt.Figure, list[dict]] | None:
    """Every signal's reliability diagram for one model, side by side, on the answers they share
    (the model's signal table); None when it has fewer than two signals scored."""
    table = model.signal_table
    if table is None or len(table.rows) < 2:
        return None
    datas = [diagram_data(r.reliability, f"{model.label} · {r.signal}: ECE {estimate(r.ece, '.2f')}, Brier {r.brier:.3f}")
             for r in table.rows]
    return diagrams(datas, width=3.4, title=f"{model.label}: every signal on the {table.n} answers they share (best Brier first)"), datas


def _safe(text: str) -> str:
    """``text`` made safe for a file name (a model label or an imported protocol may hold '/')."""
    return re.sub(r"[^\w.@-]", "-", text)


def reliability_stem(protocol: str) -> str:
    """The file stem of a protocol's reliability small multiples."""
    return "reliability-" + _safe(protocol)


def signals_stem(model: ModelResult) -> str:
    """The file stem of a model's signals figure."""
    return "signals-" + _safe(model.label)


def recalibration_stem(model: ModelResult, proto: ProtocolResult) -> str:
    """The file stem of a model's before/after recalibration figure for one protocol."""
    return "recalibration-" + _safe(f"{model.label}-{proto.protocol}")


def main_figures(results: Results):
    """The report's figures by file stem, drawn one at a time (each closed when the caller moves
    on): the reliability small multiples of every protocol, the trends when model sizes are known,
    the risk-coverage curves, each model's signals side by side, and before and after recalibration."""
    for protocol in dict.fromkeys(p.protocol for m in results.models for p in m.protocols):
        fig, _ = small_multiples(results, protocol)
        yield reliability_stem(protocol), fig
        plt.close(fig)
    colors = protocol_colors(results)
    data = trend_data(results)
    if any(p["parameters"] for points in data.values() for p in points):
        fig = plot_trends(data, colors=colors)
        yield "trends", fig
        plt.close(fig)
    curves = risk_coverage_data(results)
    if curves:
        fig = plot_risk_coverage(curves, colors=colors)
        yield "risk-coverage", fig
        plt.close(fig)
    for model in ordered_models(results):
        drawn = signals_figure(model)
        if drawn is not None:
            yield signals_stem(model), drawn[0]
            plt.close(drawn[0])
    for model in ordered_models(results):
        for proto in model.protocols:
            drawn = before_after(model, proto)
            if drawn is not None:
                yield recalibration_stem(model, proto), drawn[0]
                plt.close(drawn[0])


# Text stays text in SVG (not glyph paths): half the bytes of a figure, searchable and editable in
# a paper's drawing tool. Matplotlib lays it out with DejaVu Sans; a reader without that font
# gets a close sans-serif.
SVG_STYLE = {"svg.fonttype": "none", "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"]}
_BETWEEN_TAGS = re.compile(r">\s+<")


def _svg_document(fig: plt.Figure) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context(SVG_STYLE):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    return _BETWEEN_TAGS.sub("><", buf.getvalue())


def to_svg(fig: plt.Figure) -> str:
    """The figure as inline SVG markup (text as SVG text, whitespace between tags dropped)."""
    svg = _svg_document(fig)
    return svg[svg.index("<svg") :]


def save(fig: plt.Figure, stem) -> str:
    """Write ``stem``.svg and ``stem``.png (200 dpi), each atomically; return the SVG markup
    (as :func:`to_svg`), so that a page can inline the figure without drawing it again."""
    svg = _svg_document(fig)
    # Not with_suffix: a model label such as "qwen2.5-coder-0.5b" holds dots of its own.
    write_atomic(stem.parent / f"{stem.name}.svg", svg)
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=200, metadata={"Software": None})
    write_atomic(stem.parent / f"{stem.name}.png", png.getvalue())
    return svg[svg.index("<svg") :]
