"""Print what a run measured of every confidence signal, as Markdown (docs/elicitation.md quotes it).

``python scripts/signals_table.py runs/offline-ladder-extended``: from results.json only,

1. per model, the signals table on the answers every signal shares (headline ECE with its
   interval, Brier, AUROC, AURC, PRR, and the paired bootstrap difference in Brier to the
   best signal), and the signals left out for having too few answers;
2. each sampled signal on its own answers (consistency of a protocol's samples);
3. the protocols asked in several templates: each metric's spread across the templates beside
   the plain template's interval width, and the share of confidences copied from a few-shot
   example;
4. the protocols asked in several option orders: accuracy and confidence per order, the
   position-debiased means, and the share of questions answered alike in every order;
5. per model, the replies concluded by a second request (``cot``) and the engine time.
"""

from __future__ import annotations

import sys

from calibench.report.format import estimate, num, pct
from calibench.report.table import ordered_models
from calibench.study.run import load_results

TEMPLATE_METRICS = ("accuracy", "mean_confidence", "ece_debiased_l1", "brier", "auroc")


def signal_tables(results) -> None:
    for model in ordered_models(results):
        table = model.signal_table
        if table is None:
            continue
        left_out = ", ".join(f"`{name}` (n = {n})" for name, n in table.left_out.items()) or "none"
        print(f"**{model.label}**: {table.n} shared answers; left out for fewer than 30 answers: {left_out}.\n")
        print("| Signal | ECE [95% CI] | Brier | AUROC | AURC | PRR | Brier − best [95% CI] |")
        print("|---|---|---|---|---|---|---|")
        for row in table.rows:
            vs_best = "best" if row.brier_minus_best is None else estimate(row.brier_minus_best, "+.3f")
            print(f"| `{row.signal}` | {estimate(row.ece)} | {num(row.brier)} | {num(row.auroc, '.2f')} | "
                  f"{num(row.aurc)} | {num(row.prr, '.2f')} | {vs_best} |")
        print()


def sampled_signals(results) -> None:
    print("| Model | Signal | k | Temperature | n | Acc | Conf | ECE [95% CI] | Brier | AUROC |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for model in ordered_models(results):
        for s in (model.signals.sampled if model.signals else []):
            print(f"| {model.label} | `{s.protocol}~{s.signal}` | {s.samples} | {s.temperature:g} | {s.n} | {pct(s.accuracy)} | "
                  f"{pct(s.mean_confidence)} | {estimate(s.ece)} | {num(s.brier)} | {num(s.auroc, '.2f')} |")
    print()


def template_spreads(results) -> None:
    print("| Model | Protocol | n per template | " + " | ".join(f"{m}: spread (plain CI width)" for m in TEMPLATE_METRICS)
          + " | Confidences equal to an example's |")
    print("|---|---|---|" + "---|" * len(TEMPLATE_METRICS) + "---|")
    for model in ordered_models(results):
        for t in model.templates:
            cells = [f"{num(t.spread.get(m))} ({num(t.interval_width.get(m))})" for m in TEMPLATE_METRICS]
            n = ", ".join(f"{n}" for n in t.n.values())
            copies = ", ".join(pct(c) for c in t.example_copies.values())
            print(f"| {model.label} | `{t.protocol}` ({', '.join(t.templates)}) | {n} | " + " | ".join(cells) + f" | {copies} |")
    print()


def permutations(results) -> None:
    print("| Model | Protocol | Questions | Acc per order | Conf per order | Debiased acc | Debiased conf | Same answer in every order |")
    print("|---|---|---|---|---|---|---|---|")
    for model in ordered_models(results):
        for p in model.protocols:
            perm = p.permutations
            if perm is None:
                continue
            print(f"| {model.label} | `{p.protocol}` | {perm.n_questions} | {', '.join(pct(r.accuracy) for r in perm.per_order)} | "
                  f"{', '.join(pct(r.mean_confidence) for r in perm.per_order)} | {pct(perm.debiased_accuracy)} | "
                  f"{pct(perm.debiased_mean_confidence)} | {pct(perm.agreement)} |")
    print()


def costs(results) -> None:
    print("| Model | Requests | Wall | Engine floor | Wall / floor | Prompt tokens (new) | cached | generated | cot concluded |")
    print("|---|---|---|---|---|---|---|---|---|")
    for model in ordered_models(results):
        t = model.timing
        cot = next((p for p in model.protocols if p.protocol == "cot"), None)
        concluded = "-" if cot is None else f"{cot.parse.concluded} of {cot.parse.n}"
        if t is None:
            continue
        print(f"| {model.label} | {t.requests} | {t.wall_s / 60:.1f} min | {t.floor_s / 60:.1f} min | {num(t.wall_over_floor, '.2f')} | "
              f"{t.prompt_tokens} | {t.cached_tokens} | {t.generated_tokens} | {concluded} |")


def main(run_dir: str) -> None:
    results = load_results(run_dir)
    signal_tables(results)
    sampled_signals(results)
    template_spreads(results)
    permutations(results)
    costs(results)


if __name__ == "__main__":
    main(sys.argv[1])
