"""The report: one self-contained HTML page (inline SVG and CSS, no external resource) plus the
figures as SVG and PNG, all rendered from results.json; with the run's items, an item explorer
(one inline script, the only one the page's Content-Security-Policy admits).

Every string from a run (model names, labels, subjects) goes through jinja2's autoescaping.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
import matplotlib.pyplot as plt

from calibench import __version__
from calibench.atomic import remove_stale_temporaries, write_atomic
from calibench.report import figures
from calibench.report.explorer import SCRIPT, embedded_json, explorer_data, run_questions, script_hash
from calibench.report.format import estimate, num, pct, points
from calibench.report.headline import caveats, headline, headline_protocol
from calibench.report.signals_md import signals_markdown
from calibench.report.table import COLUMNS, calibration_error, markdown, ordered_models, row, rows
from calibench.study.comparisons import ALPHA, MIN_N, TESTED
from calibench.study.results import POLICIES, Results

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("calibench.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def merge(results: list[Results]) -> Results:
    """Several runs as one, for ``calibench compare``: models side by side, labels made distinct."""
    if len(results) == 1:
        return results[0]
    models, seen = [], set()
    for r in results:
        for m in r.models:
            label = m.label if m.label not in seen else f"{m.label} ({r.study})"
            seen.add(label)
            models.append(m.model_copy(update={"label": label}))
    first = results[0]
    # runs ask different questions (or the same ones apart): nothing pairs across them
    return first.model_copy(update={"study": " + ".join(r.study for r in results), "models": models, "common_subset": [],
                                    "comparisons": []})


def _recalibration_rows(label: str, proto) -> list[dict]:
    """The recalibration table's rows of one model and protocol: the nested selection (the
    headline "after"), every method, the base rate, then any transfers."""
    recal = proto.recalibration
    rows_out = []
    for m in [x for x in (recal.selected,) if x is not None] + recal.methods + [x for x in (recal.base_rate,) if x is not None]:
        cf = m.cross_fit
        ece = calibration_error(cf)
        name = m.method if not m.chosen else f"{m.method} (chosen per fold: {', '.join(m.chosen)})"
        holdout = "-" if m.holdout is None else estimate(calibration_error(m.holdout).after)
        rows_out.append({"model": label, "protocol": proto.protocol, "method": name,
                         "ece_before": estimate(ece.before), "ece_after": estimate(ece.after), "holdout_after": holdout,
                         "plug_in_after": num(cf["ece"].after.value), "brier_after": num(cf["brier"].after.value),
                         "skill": "-" if m.brier_skill is None else f"{m.brier_skill:+.2f}",
                         "rel": f"{cf['brier_reliability'].before.value:.3f} → {cf['brier_reliability'].after.value:.3f}",
                         "res": f"{cf['brier_resolution'].before.value:.3f} → {cf['brier_resolution'].after.value:.3f}",
                         "auroc": f"{num(cf['auroc'].before.value, '.2f')} → {num(cf['auroc'].after.value, '.2f')}"})
    for t in recal.transfer:
        rows_out.append({"model": label, "protocol": proto.protocol, "method": f"{t.method}, fitted on {t.fitted_on}",
                         "ece_before": estimate(t.ece.before), "ece_after": estimate(t.ece.after), "holdout_after": "-",
                         "plug_in_after": "-", "brier_after": num(t.brier.after.value), "skill": "-", "rel": "-", "res": "-", "auroc": "-"})
    return rows_out


def context(results_list: list[Results], *, svgs: dict[str, str] | None = None) -> dict:
    """Everything the template shows, as plain values; figures as inline SVG (``svgs``, by
    file stem, when the caller has drawn them already)."""
    results = merge(results_list)
    if svgs is None:
        svgs = {stem: figures.to_svg(fig) for stem, fig in figures.main_figures(results)}
    reliability = [{"protocol": protocol, "svg": svgs[figures.reliability_stem(protocol)]}
                   for protocol in dict.fromkeys(p.protocol for m in results.models for p in m.protocols)
                   if figures.reliability_stem(protocol) in svgs]
    trends = svgs.get("trends")
    selective = [{"model": model.label, "protocol": p.protocol, "n": p.panel.n, "prr": estimate(p.selective.prr, ".2f", p.panel.n),
                  "aurc": estimate(p.panel.metrics["aurc"], ".3f", p.panel.n),
                  "risk_half": f"{p.selective.risk[p.selective.coverage.index(0.5)]:.0%}" if 0.5 in p.selective.coverage else "-"}
                 for model in ordered_models(results) for p in model.protocols if p.selective is not None and p.panel is not None]
    missing, groups, signals, recal, recal_figures = [], [], [], [], []
    elicitation = []
    for model in ordered_models(results):
        for proto in model.protocols:
            elicitation.append(_elicitation_row(model.label, proto))
            if proto.recalibration is not None:
                recal += _recalibration_rows(model.label, proto)
                stem = figures.recalibration_stem(model, proto)
                if stem in svgs:
                    recal_figures.append(svgs[stem])
            for r in proto.missing_data:
                missing.append({"model": model.label, "protocol": proto.protocol, "policy": r.policy, "description": r.description,
                                "n": r.n, "acc": pct(r.accuracy), "conf": pct(r.mean_confidence), "gap": points(r.overconfidence_gap),
                                "ece": estimate(r.ece, ".3f", r.n), "ece_plug_in": num(r.ece_plug_in), "brier": num(r.brier)})
            groups.append({
                "model": model.label,
                "protocol": proto.protocol,
                "categories": [_group_row(k, v) for k, v in proto.by_category.items()],
                "subjects": [_group_row(k, v) for k, v in proto.by_subject.items()],
            })
        for c in (model.signals.comparisons if model.signals else []):
            signals.append({"model": model.label, "kind": f"{c.stated_protocol} vs logprob", "n": c.n,
                            "a_ece": num(c.stated_ece), "b_ece": num(c.letter_ece), "a_auroc": num(c.stated_auroc, ".2f"),
                            "b_auroc": num(c.letter_auroc, ".2f"), "pearson": num(c.pearson, ".2f"), "spearman": num(c.spearman, ".2f")})
        for c in (model.signals.consistency if model.signals else []):
            signals.append({"model": model.label, "kind": f"sampling consistency ({c.protocol}, {c.repetitions} samples)", "n": c.n_questions,
                            "a_ece": num(c.ece), "b_ece": "-", "a_auroc": num(c.auroc, ".2f"), "b_auroc": "-", "pearson": "-", "spearman": "-"})
    signal_tables = [{"model": model.label, "n": model.signal_table.n, "best": model.signal_table.best,
                      "svg": svgs.get(figures.signals_stem(model)),
                      "left_out": ", ".join(f"{name} (n={n})" for name, n in model.signal_table.left_out.items()),
                      "rows": [{"signal": r.signal, "ece": estimate(r.ece, ".3f", model.signal_table.n), "brier": num(r.brier),
                                "auroc": num(r.auroc, ".2f"), "aurc": num(r.aurc), "prr": num(r.prr, ".2f"),
                                "vs_best": "best" if r.brier_minus_best is None else estimate(r.brier_minus_best, "+.3f", model.signal_table.n)}
                               for r in model.signal_table.rows]}
                     for model in ordered_models(results) if model.signal_table is not None]
    protocol = headline_protocol(results)
    cards = []
    for model in ordered_models(results):
        proto = next((p for p in model.protocols if p.protocol == protocol and p.panel is not None), None)
        if proto is not None:
            drawn = figures.card_diagram(model, proto)
            cards.append(_card(model, proto, figures.to_svg(drawn)))
            plt.close(drawn)
    common = []
    template_tables = [_template_table(model, spread) for model in ordered_models(results) for spread in model.templates]
    for r in results_list:
        for c in r.common_subset:
            common.append({"protocol": f"{c.protocol}, {r.study}", "n_questions": c.n_questions, "rows": [
                {"model": name, "n": row.n, "acc": pct(row.accuracy), "conf": pct(row.mean_confidence),
                 "gap": points(row.overconfidence_gap), "ece": estimate(row.ece, ".3f", row.n), "ece_plug_in": num(row.ece_plug_in)}
                              for name, row in c.models.items()]})
    n_boot = next((p.panel.options.get("n_boot") for m in results.models for p in m.protocols if p.panel), "-")
    return {
        "title": results.study,
        "version": __version__,
        "schema_version": results.schema_version,
        "run_count": len(results_list),
        "headline": headline(results),
        "cards": cards,
        "headline_protocol": protocol,
        "columns": COLUMNS,
        "table": [{c: two_lines(r[c]) for c in COLUMNS} for r in rows(results)],
        "missing_matrix": _missing_matrix(results),
        "n_boot": n_boot,
        "reliability": reliability,
        "trends": trends,
        "selective": selective,
        "risk_coverage": svgs.get("risk-coverage"),
        "missing": missing,
        "policies": POLICIES,
        "common": common,
        "paired": [_paired_row(c) for r in results_list for c in r.comparisons],
        "signals": signals,
        "signal_tables": signal_tables,
        "template_tables": template_tables,
        "groups": groups,
        "recal": recal,
        "elicitation": elicitation,
        "recal_figures": recal_figures,
        "caveats": [c for r in results_list for c in caveats(r)],
        "provenance": [_provenance(r) for r in results_list],
    }


def two_lines(text: str) -> tuple[str, str]:
    """A table cell as its value and, for a second line in smaller type, its interval or note:
    "0.213 [0.170, 0.261]" -> ("0.213", "[0.170, 0.261]")."""
    for mark in (" [", " ("):
        value, sep, rest = text.partition(mark)
        if sep:
            return value, sep.strip() + rest
    return text, ""


CARD = (("Accuracy", "Acc"), ("Stated confidence", "Conf"), ("Gap", "Gap"), ("ECE", "ECE"))


def _card(model, proto, svg: str) -> dict:
    """A model's card: the headline protocol's numbers as the comparison table writes them, each
    with its interval, and a small diagram."""
    cells, n = row(model, proto), proto.panel.n
    return {"model": model.label, "protocol": proto.protocol, "n": n, "svg": svg, "few": n < MIN_N,
            "rows": [(label, two_lines(cells[column])) for label, column in CARD]
                    + [("Parse rate", (cells["Parse"], f"{proto.parse.parsed} of {proto.parse.n}"))]}


def _missing_matrix(results: Results) -> dict:
    """Every missing-data policy's ECE [interval] per model and protocol, one row each."""
    rows_out = []
    for model in ordered_models(results):
        for proto in model.protocols:
            by = {r.policy: r for r in proto.missing_data}
            rows_out.append({"model": model.label, "protocol": proto.protocol,
                             "cells": [two_lines(estimate(by[p].ece, ".3f", by[p].n)) + (by[p].n,) if p in by else ("-", "", 0)
                                       for p in POLICIES]})
    return {"policies": list(POLICIES), "rows": rows_out}


TEMPLATE_METRICS = {"accuracy": "Accuracy", "mean_confidence": "Mean confidence", "overconfidence_gap": "Gap",
                    "ece_debiased_l1": "ECE", "brier": "Brier", "auroc": "AUROC"}


def _template_table(model, spread) -> dict:
    """One protocol's templates side by side: each metric per template (the plain one with its
    interval), the spread over them and the plain one's interval width, all as fractions."""
    panels = {p.protocol: p.panel for p in model.protocols}
    rows = []
    for metric, label in TEMPLATE_METRICS.items():
        cells = []
        for name in spread.templates:
            panel = panels.get(name)
            est = panel.metrics[metric] if panel is not None else None
            cells.append(estimate(est, ".3f", panel.n) if name == spread.protocol and panel is not None else num(est.value if est else None))
        rows.append({"metric": label, "cells": cells, "spread": num(spread.spread[metric]), "width": num(spread.interval_width[metric])})
    return {"model": model.label, "protocol": spread.protocol, "templates": spread.templates,
            "n": [spread.n[name] for name in spread.templates],
            "copies": [pct(spread.example_copies[name]) for name in spread.templates], "rows": rows}


def _paired_row(c) -> dict:
    """One paired comparison: each metric's difference b - a with its interval and Holm-adjusted p."""
    cells = {metric: "-" for metric in ("accuracy", *TESTED)}
    for t in c.tests:
        if t.difference is None:
            continue
        interval = "" if t.low is None else f" [{t.low:+.3f}, {t.high:+.3f}]"
        star = " *" if t.p_holm is not None and t.p_holm < ALPHA else ""
        cells[t.metric] = f"{t.difference:+.3f}{interval} p={num(t.p_holm, '.2g')}{star}"
    return {"kind": "model" if c.kind == "models" else "protocol", "within": c.within, "a": c.a, "b": c.b, "n": c.n, **cells}


def _elicitation_row(model: str, proto) -> dict:
    """What the protocol did to the answers: validity against the answer read, position bias,
    the most common stated value, option orders, scale ambiguity."""
    v, pos, values, perm = proto.validity, proto.positions, proto.confidence_values, proto.permutations
    scale = proto.scale_readings
    return {
        "model": model,
        "protocol": proto.protocol,
        "constraint": (proto.constraint or "-") + (f"; {proto.parse.concluded} of {proto.parse.n} concluded after the budget"
                                                    if proto.parse.concluded else ""),
        "agreement": pct(v.agreement) if v else "-",
        "accuracy": f"{pct(v.accuracy)} vs {pct(v.reference_accuracy)}" if v else "-",
        "mcnemar": (f"{v.right_only_here}/{v.right_only_reference}, p={v.mcnemar_p:.2g}" + (" distorting" if v.distorting else "")) if v else "-",
        "tv": num(pos.tv_distance, ".2f") if pos else "-",
        "top_letter": (lambda a: f"{a} {pos.answers[a]:.0%} (gold {pos.gold[a]:.0%})")(max(pos.answers, key=pos.answers.get)) if pos else "-",
        "top_value": f"{values.most_common:g} ({values.most_common_share:.0%})" if values and values.most_common is not None else "-",
        "orders": (f"{perm.orders} orders: acc {pct(perm.debiased_accuracy)}, same letter {pct(perm.agreement)}") if perm else "-",
        "scale": (f"{proto.parse.counts['scale_ambiguous']} scale-ambiguous: ECE {num(scale['percent'].ece)} as %, "
                  f"{num(scale['probability'].ece)} as probability") if scale else "-",
    }


def _group_row(name, g) -> dict:
    return {"name": name, "n": g.n, "parse": pct(g.parse_rate), "acc": pct(g.accuracy), "conf": pct(g.mean_confidence),
            "gap": points(g.overconfidence_gap), "ece": num(g.ece)}


def _provenance(results: Results) -> dict:
    p = results.provenance
    out = [
        ("calibench", p.calibench_version),
        ("git commit", p.git_commit or "-"),
        ("python / numpy", f"{p.python} / {p.numpy}"),
        ("platform", p.platform),
        ("started / finished", f"{p.started_at} / {p.finished_at}"),
        *([("imported from", f"{p.dataset_manifest.get('tool')} {p.dataset_manifest.get('version') or ''}"),
           *((f"source file {f['path']}", f"sha256 {f['sha256']}") for f in p.dataset_manifest["files"])]
          if "files" in p.dataset_manifest else
          [("dataset", f"{p.dataset_manifest.get('dataset')} ({len(p.dataset_manifest.get('ids', []))} questions, seed {p.dataset_manifest.get('seed')})"),
           ("dataset content sha256", p.dataset_manifest_sha256)]),
        ("sampling", ", ".join(f"{k}={v}" for k, v in p.sampling.items())),
    ]
    out += [(f"prompt {name} sha256", sha) for name, sha in p.prompts.items()]
    for m in results.models:
        out.append((f"model {m.label}", f"{m.model_id} · sha256 {m.sha256 or '-'} · {m.source}"))
        if m.engine:
            out.append((f"engine {m.label}", ", ".join(f"{k}={v}" for k, v in m.engine.items() if k not in ("model", "model_sha256", "model_source"))))
        if m.timing:
            t = m.timing
            floor = f"; engine compute {t.floor_s:.0f} s, wall/compute {t.wall_over_floor:.2f}" if t.floor_s else ""
            out.append((f"asking {m.label}", f"{t.wall_s:.0f} s for {t.requests} requests in {t.sessions} sitting(s){floor}; "
                        f"prompt tokens {t.prompt_tokens} new + {t.cached_tokens} cached, {t.generated_tokens} generated"))
    out += [("note", n) for n in p.notes]
    return {"study": results.study, "rows": out}


def _explorer(results_list: list[Results], items_list: list[list[dict]] | None) -> dict | None:
    """The item explorer's data over every run that came with its items (None: no items given)."""
    if not items_list:
        return None
    combined: dict = {"groups": [], "items": [], "questions": {}}
    for results, items in zip(results_list, items_list):
        data = explorer_data(results, items, run_questions(results))
        shift = len(combined["items"])
        for group in data["groups"]:
            combined["groups"].append({**group, "unread": [i + shift for i in group["unread"]],
                                       "bins": [{**b, "items": [i + shift for i in b["items"]]} for b in group["bins"]]})
        combined["items"] += data["items"]
        combined["questions"].update(data["questions"])
    return combined


def render_html(results_list: list[Results], *, svgs: dict[str, str] | None = None, items: list[list[dict]] | None = None) -> str:
    """The report page as a string (``svgs``: figures already drawn, see :func:`context`; ``items``:
    each run's items, for the item explorer)."""
    explorer = _explorer(results_list, items)
    extra = {"explorer": explorer, "explorer_json": embedded_json(explorer) if explorer else "",
             "script": SCRIPT if explorer else "", "script_hash": script_hash(SCRIPT)}
    return _ENV.get_template("report.html.j2").render(**context(results_list, svgs=svgs), **extra)


def write_report(results_list: list[Results], out_dir: Path, *, items: list[list[dict]] | None = None) -> Path:
    """Write report.html, table.md, signals.md (when the run has signals to compare, templates or
    option orders: :mod:`calibench.report.signals_md`) and the figures (SVG and PNG) into ``out_dir``;
    return the page.
    ``items`` (each run's items.jsonl rows, in the order of ``results_list``) adds the item explorer."""
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out_dir)
    merged = merge(results_list)
    svgs = {stem: figures.save(fig, out_dir / stem) for stem, fig in figures.main_figures(merged)}
    write_atomic(out_dir / "table.md", markdown(rows(merged)))
    signals = signals_markdown(merged)
    if signals is not None:
        write_atomic(out_dir / "signals.md", signals)
    else:
        (out_dir / "signals.md").unlink(missing_ok=True)  # left by an earlier render of other results
    page = out_dir / "report.html"
    write_atomic(page, render_html(results_list, svgs=svgs, items=items))
    return page
