"""The signals of a run as Markdown (``signals.md`` beside ``table.md``), from results.json only.

Five sections, each present when the run collected what it needs:

1. per model, the signals table on the answers every signal shares (the headline ECE, bin-debiased,
   with its interval; Brier; AUROC; AURC; PRR; and the paired bootstrap difference in Brier to
   the best signal), with the signals left out for having fewer than 30 answers;
2. each sampled signal (consistency of a protocol's samples) on its own answers;
3. the protocols asked in several templates: each metric's spread (largest minus smallest value
   over the templates) beside the plain template's interval width, and the share of confidences
   equal to a few-shot example's;
4. the protocols asked in several option orders: accuracy and confidence per order, the
   position-debiased means, and the share of questions answered alike in every order;
5. per model, the requests, the engine time and tokens, and the ``cot`` replies concluded by a
   second request.
"""

from __future__ import annotations

from calibench.report.format import estimate, num, pct
from calibench.report.table import ordered_models
from calibench.study.comparisons import MIN_N
from calibench.study.results import Results

TEMPLATE_METRICS = ("accuracy", "mean_confidence", "ece_debiased_l1", "brier", "auroc")


def signal_tables(results: Results) -> list[str]:
    out = []
    for model in ordered_models(results):
        table = model.signal_table
        if table is None or not table.rows:
            continue
        left_out = ", ".join(f"`{name}` (n = {n})" for name, n in table.left_out.items()) or "none"
        out += [f"**{model.label}**: {table.n} answers shared by every signal; left out for fewer than {MIN_N} "
                f"answers: {left_out}.", "",
                "| Signal | ECE [95% CI] | Brier | AUROC | AURC | PRR | Brier − best [95% CI] |",
                "|---|---|---|---|---|---|---|"]
        for row in table.rows:
            vs_best = "best" if row.brier_minus_best is None else estimate(row.brier_minus_best, "+.3f")
            out.append(f"| `{row.signal}` | {estimate(row.ece)} | {num(row.brier)} | {num(row.auroc, '.2f')} | "
                       f"{num(row.aurc)} | {num(row.prr, '.2f')} | {vs_best} |")
        out.append("")
    return out


def sampled_signals(results: Results) -> list[str]:
    rows = [(model, s) for model in ordered_models(results) for s in (model.signals.sampled if model.signals else [])]
    if not rows:
        return []
    out = ["| Model | Signal | k | Temperature | n | Acc | Conf | ECE [95% CI] | Brier | AUROC |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for model, s in rows:
        out.append(f"| {model.label} | `{s.protocol}~{s.signal}` | {s.samples} | {s.temperature:g} | {s.n} | {pct(s.accuracy)} | "
                   f"{pct(s.mean_confidence)} | {estimate(s.ece)} | {num(s.brier)} | {num(s.auroc, '.2f')} |")
    return out + [""]


def template_spreads(results: Results) -> list[str]:
    rows = [(model, t) for model in ordered_models(results) for t in model.templates]
    if not rows:
        return []
    out = ["| Model | Templates | n | " + " | ".join(f"{m}: spread (plain CI width)" for m in TEMPLATE_METRICS)
           + " | Confidences equal to an example's |",
           "|---|---|---|" + "---|" * len(TEMPLATE_METRICS) + "---|"]
    for model, t in rows:
        cells = [f"{num(t.spread.get(m))} ({num(t.interval_width.get(m))})" for m in TEMPLATE_METRICS]
        out.append(f"| {model.label} | {', '.join(f'`{name}`' for name in t.templates)} | {', '.join(map(str, t.n.values()))} | "
                   + " | ".join(cells) + f" | {', '.join(pct(c) for c in t.example_copies.values())} |")
    return out + [""]


def option_orders(results: Results) -> list[str]:
    rows = [(model, p) for model in ordered_models(results) for p in model.protocols if p.permutations is not None]
    if not rows:
        return []
    out = ["| Model | Protocol | Questions | Acc per order | Conf per order | Debiased acc | Debiased conf | Same answer in every order |",
           "|---|---|---|---|---|---|---|---|"]
    for model, p in rows:
        perm = p.permutations
        out.append(f"| {model.label} | `{p.protocol}` | {perm.n_questions} | {', '.join(pct(r.accuracy) for r in perm.per_order)} | "
                   f"{', '.join(pct(r.mean_confidence) for r in perm.per_order)} | {pct(perm.debiased_accuracy)} | "
                   f"{pct(perm.debiased_mean_confidence)} | {pct(perm.agreement)} |")
    return out + [""]


def costs(results: Results) -> list[str]:
    rows = [model for model in ordered_models(results) if model.timing is not None]
    if not rows:
        return []
    out = ["| Model | Requests | Wall | Engine floor | Wall / floor | Prompt tokens processed | cached | generated | `cot` concluded |",
           "|---|---|---|---|---|---|---|---|---|"]
    for model in rows:
        t = model.timing
        cot = next((p for p in model.protocols if p.protocol == "cot"), None)
        floor = "-" if t.floor_s is None else f"{t.floor_s / 60:.1f} min"  # remote endpoints report no timings
        out.append(f"| {model.label} | {t.requests} | {t.wall_s / 60:.1f} min | {floor} | "
                   f"{num(t.wall_over_floor, '.2f')} | {t.prompt_tokens} | {t.cached_tokens} | {t.generated_tokens} | "
                   f"{'-' if cot is None else f'{cot.parse.concluded} of {cot.parse.n}'} |")
    return out + [""]


SECTIONS = (("Every signal on the answers they share", signal_tables),
            ("Sampling consistency", sampled_signals),
            ("Prompt templates", template_spreads),
            ("Option orders", option_orders),
            ("Cost", costs))


def signals_markdown(results: Results) -> str | None:
    """``signals.md``: every section the run has (see the module's docstring), or None when it has
    none but the cost (a run of one signal, in one template and order)."""
    parts = []
    for title, section in SECTIONS:
        lines = section(results)
        if lines:
            parts += [f"## {title}", "", *lines]
    return "\n".join(parts) if parts and parts[0] != "## Cost" else None
