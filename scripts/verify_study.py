"""Recompute a study's per-model, per-protocol numbers from its items.jsonl, independently of calibench,
and every point estimate and exact test of its write-up (README.md) where it has one.

Usage: python scripts/verify_study.py RUN_DIR [--tolerance T]

Reads RUN_DIR/items.jsonl and RUN_DIR/results.json with the standard library alone (no
calibench import: the definitions are written out again here) and recomputes, for every model
and protocol, from the answers read (status ok or lenient; consistency samples excluded):

- n, the parse rate (read over asked, failed requests left out), accuracy, mean confidence,
  the gap (confidence minus accuracy);
- the plug-in ECE over the run's equal-width bins (10 unless its metrics say otherwise),
  left-closed, 1.0 in the top bin:
  sum_b (n_b / n) |conf_b - acc_b|;
- the bin-debiased ECE: sum_b (n_b / n) sqrt(max(gap_b^2 - acc_b (1 - acc_b) / (n_b - 1), 0)),
  a bin of one answer keeping |gap_b|;
- the Brier score, mean (confidence - right)^2;
- AUROC, the share of (right, wrong) pairs where the right answer has the higher confidence,
  ties counting one half;
- AURC, the area under the risk-coverage curve: answer the k most confident, the risk the
  error rate among them, ties in confidence taken in expectation (a tied group at the cut
  answered pro rata), averaged over k = 1..n.

Each is compared with the value results.json holds; the script prints every comparison and
exits 1 if any differs by more than the tolerance (default 1e-9), 0 otherwise. Intervals come
from seeded bootstraps and are not recomputed.

The write-up (RUN_DIR/README.md, when there is one)
---------------------------------------------------

Its Markdown tables are found by their header row (sections by their "## " heading), and each cell holding a point estimate, a
count or an exact test is compared with its recomputation from RUN_DIR/items.jsonl at the
precision the page prints: "26%" must be 100 x rounded to a whole number, "0.133" x to three
decimals, "+14pt" 100 x to a whole number, a count exactly; a value exactly half-way may have
been rounded either way. "< 0.001" must be below 0.001; "-" must be a value that does not
exist. A cell that differs prints one line

    DIFFERS <section> / <row> / <column>: README x vs recomputed y

and the last line counts the cells checked, the ones that differ and the ones skipped as not
recomputable; the exit status is 1 if any cell differs. A table whose header the script does
not know, and a known table it has no data for, is printed as NOT CHECKED (and counted in the
last line), never passed over in silence. The model names of the page are mapped to the
items' through results.json's name and label, its only use of results.json here.

Not recomputed anywhere (they come from seeded bootstraps, simulations or fitted maps): the
bracketed intervals "[a, b]", Holm-adjusted p-values (every p-value of the study is one Holm
family, most of them from paired bootstraps), paired-bootstrap p-values, the calibration
test's p, the plain template's CI width, and every number of the recalibration after the map.
These cells are counted as skipped.

Checked, table by table (v2 page, as scripts/publish_study.py writes it):

- Results (Model | Protocol | n | Acc | Conf | Gap | ECE | ECE plug-in | Brier | AUROC | Parse):
  every point value; ECE is the bin-debiased one; "(distorts answers)" after a protocol must
  have an exact McNemar p below 0.01 against the answer read (see below). The v1 page's table
  (no "ECE plug-in" column; its ECE is the plug-in one, as v1 computed it) likewise.
- its bullets: "ECE by model (P, complete-case)" values (or a lone model's "M (P,
  complete-case): ECE x"); each paired step "A -> B +x.xxx" (the
  bin-debiased ECE of B minus A's on the answers both read, cell by cell); the number of
  models with 30 or more answers; "(n=K)" of a model left out; the Holm family's size
  ("the study's N tests"): 3 p-values (McNemar, ECE, Brier) per pair with 30 or more paired
  answers (every model pair within each protocol, every protocol pair within each model),
  plus AUROC's where it is defined on both sides.
- Scale, within one family (Models | Protocol | n | Delta accuracy (McNemar p, Holm p) |
  Delta ECE | Delta Brier | Delta AUROC): n, the accuracy difference and its exact McNemar p,
  the three metric differences (B minus A on the answers both read); not the intervals nor
  the Holm p.
- Every confidence signal on the same answers, per model: the line above each table (the
  answers shared, every signal left out and its n, the set of signals), and per row the
  bin-debiased ECE, Brier, AUROC, AURC, PRR and the Brier difference to the best signal (or
  "best": the lowest Brier, ties by name). A signal is a protocol's answers read, each on its
  own correctness, keyed by (question, repetition, option order), and the three a protocol's
  consistency samples (protocol `P~sample`, k = 1 + the largest sample index) give its
  headline answers (original option order, repetition 0, a letter read; docs/elicitation.md):
  `P~agreement` = samples with the headline letter / k; `P~entropy` = 1 - H / ln(min(k,
  options)), H the entropy (natural log) of the sampled letters, where at least k/2 samples
  gave a letter; `P~avg-conf` = the stated confidences of the agreeing samples over those of
  every sample read with a confidence, where at least k/2 stated one and their sum is
  positive. A question's options are counted from the answer read's letter distribution
  (`letter_probs`). Signals with fewer than 30 answers are left out; the rest are scored on
  the cells they all have. PRR = (AURC_random - AURC) / (AURC_random - AURC_oracle),
  AURC_random the error rate, AURC_oracle = (1/n) sum_k max(0, k - right) / k.
- Sampling consistency (Model | Signal | k | Temperature | n | Acc | Conf | ECE | Brier | AUROC):
  each sampled signal on all its answers; not the temperature (not in the items).
- What each protocol does to the answers: parse rate; against the answer read (protocol
  `logprob`) on the cells where both read a letter: their number, the share naming the same
  letter, both accuracies, the exact McNemar p, "distorting" (p < 0.01); then on the cells
  both read with a confidence: n ("-" below 30) and the accuracy difference; not the Holm p.
  The `cot` sentence below it: replies concluded, read, and asked (failed ones left out).
- Position bias (Model | Protocol | Most chosen (its gold share) | TV distance): over the
  protocol's items with a letter shown, the share of each shown letter and of the gold shown
  letter, the most chosen one (any of a tie), both shares and the total-variation distance
  0.5 sum |answers - gold| over the letters.
- Option orders (... | Questions | Acc per order | Conf per order | Debiased acc | Debiased
  conf | Same answer in every order): per rotation, accuracy and confidence of the answers
  read; their means; the share of (question, repetition) with a letter in every order whose
  letters (original labelling) all agree.
- Prompt sensitivity: n per template, each metric's spread (largest minus smallest over the
  templates), the share of each template's confidences equal to one of the few-shot
  examples' (the values the section's text lists); not the plain CI width.
- What changed from v1 (from the v1 items.jsonl in the directory the section links, `v1/`):
  parse rate, n, accuracy, confidence and plug-in ECE on both sides; on the questions both
  read a letter for (original order, repetition 0): their number, the share that agree, the
  changed ones' count and their most common v1 letter (any of a tie) with its count, and the
  exact McNemar p.
- Sample size and the calibration test, its bullets: n, the bin-debiased and the plug-in ECE;
  not the calibration test's p (a seeded simulation).
- What recalibration removed: ECE before and AUROC before (the model's answers read); not the
  method chosen, nor anything after a map (5-fold cross-fitted maps with nested selection),
  nor the base rate or the Brier skill.
- Run-to-run spread (from RUN_DIR/sampled/items.jsonl, `verbalized-json` per repetition):
  accuracy and plug-in ECE per run, the ECE's mean and standard deviation (n - 1), the mean
  gap.
- Reproducibility (from RUN_DIR/reproducibility.json, the check the section reports): per
  model the replies in both runs, byte-identical (and their share), read alike, in one run
  only, and the largest metric change (any of a tie) with both values.
- The introduction's counts (models, questions, subjects, option orders, consistency
  samples, the Holm family's size) and the limitations' (parse rates below 95%, subjects and
  questions).

Not checked: the model table of the introduction (family, size, quantisation, package: from
the model ladder, not from the items; printed NOT CHECKED), the settings a page states (bins,
resamples, temperatures, the 30-answer and p < 0.01 rules, template budgets), sentences other
than those listed above (the hand-written "A reading" among them, but for the Holm family's
size wherever "the study's N tests" appears; scripts/publish_study.py refuses a reading citing
a number the generated sections do not show), and any table this script does not know (printed
NOT CHECKED, counted as unknown: on the v1 page, its recalibration, stated-against-token and
run-to-run tables, whose columns differ from v2's).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections import Counter, defaultdict
from fractions import Fraction
from itertools import combinations
from pathlib import Path

READ = ("ok", "lenient")
MIN_N = 30  # fewer paired answers than this are not compared, fewer signal answers not tabled (docs/statistics.md)
DISTORTING_P = 0.01  # the answers section's rule
ANSWER_READ = "logprob"  # the protocol whose letter is the answer read


def bin_of(p: float, bins: int) -> int:
    """The equal-width bin of a confidence: [k/B, (k+1)/B), 1.0 in the last."""
    edges = [k / bins for k in range(1, bins)]
    return sum(p >= e for e in edges)


def auroc_of(answers: list[tuple[float, bool]]) -> float | None:
    """Share of (right, wrong) pairs ranked right above wrong, ties one half; None without both."""
    levels: dict[float, list[int]] = defaultdict(lambda: [0, 0])
    for c, r in answers:
        levels[c][0 if r else 1] += 1
    n_right = sum(v[0] for v in levels.values())
    n_wrong = sum(v[1] for v in levels.values())
    if not n_right or not n_wrong:
        return None
    wins, wrong_below = 0.0, 0
    for c in sorted(levels):
        right, wrong = levels[c]
        wins += right * (wrong_below + 0.5 * wrong)
        wrong_below += wrong
    return wins / (n_right * n_wrong)


def aurc_of(answers: list[tuple[float, bool]]) -> float:
    """Mean over k = 1..n of the error rate among the k most confident, a tied group at the cut answered pro rata."""
    levels: dict[float, list[int]] = defaultdict(lambda: [0, 0])
    for c, r in answers:
        levels[c][0] += 1
        levels[c][1] += not r
    total = above = errors_above = 0.0
    for c in sorted(levels, reverse=True):
        m, e = levels[c]
        for j in range(1, m + 1):
            total += (errors_above + j * e / m) / (above + j)
        above += m
        errors_above += e
    return total / len(answers)


def prr_of(answers: list[tuple[float, bool]]) -> float | None:
    """(AURC_random - AURC) / (AURC_random - AURC_oracle); None when every answer is right or every one wrong."""
    n = len(answers)
    right = sum(bool(r) for _, r in answers)
    random = (n - right) / n
    oracle = sum(max(0, k - right) / k for k in range(1, n + 1)) / n
    if random - oracle == 0:
        return None
    return (random - aurc_of(answers)) / (random - oracle)


def recompute(answers: list[tuple[float, bool]], bins: int) -> dict[str, float | None]:
    n = len(answers)
    acc = sum(r for _, r in answers) / n
    conf = sum(c for c, _ in answers) / n
    members_of: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    for c, r in answers:
        members_of[bin_of(c, bins)].append((c, r))
    plug_in = debiased = 0.0
    for members in members_of.values():
        m = len(members)
        gap = sum(c for c, _ in members) / m - sum(r for _, r in members) / m
        a = sum(r for _, r in members) / m
        plug_in += m / n * abs(gap)
        variance = a * (1 - a) / (m - 1) if m >= 2 else 0.0
        debiased += m / n * math.sqrt(max(gap * gap - variance, 0.0))
    return {"accuracy": acc, "mean_confidence": conf, "overconfidence_gap": conf - acc, "ece": plug_in,
            "ece_debiased_l1": debiased, "brier": sum((c - r) ** 2 for c, r in answers) / n, "auroc": auroc_of(answers),
            "aurc": aurc_of(answers)}


def mcnemar_p(a_only: int, b_only: int) -> float:
    """Exact two-sided McNemar p: the binomial(a_only + b_only, 1/2) tail of the smaller count, doubled, at most 1."""
    n = a_only + b_only
    if n == 0:
        return 1.0
    k = min(a_only, b_only)
    tail = Fraction(sum(math.comb(n, i) for i in range(k + 1)), 2 ** n)
    return float(min(Fraction(1), 2 * tail))


def load_items(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ---------------------------------------------------------------------------------------------
# the recomputation the write-up is checked against


def cell_of(item: dict) -> tuple:
    """The answer an item is one of: (question, repetition, option order)."""
    return item["question_id"], item.get("repetition") or 0, item.get("rotation") or 0


def read(items: list[dict]) -> list[tuple[float, bool]]:
    return [(float(i["confidence"]), bool(i["correct"])) for i in items if i["status"] in READ]


def parse_rate(items: list[dict]) -> float:
    asked = [i for i in items if i["status"] != "failed"]
    return sum(i["status"] in READ for i in asked) / len(asked) if asked else 0.0


def paired(items_a: list[dict], items_b: list[dict]) -> list[tuple[dict, dict]]:
    """The answers of a and b read to the same (question, repetition, option order), in a's order."""
    there = {cell_of(i): i for i in items_b if i["status"] in READ}
    return [(i, there[cell_of(i)]) for i in items_a if i["status"] in READ and cell_of(i) in there]


def answers_of(pairs: list[tuple[dict, dict]], side: int) -> list[tuple[float, bool]]:
    return [(float(p[side]["confidence"]), bool(p[side]["correct"])) for p in pairs]


def defined_auroc(answers: list[tuple[float, bool]]) -> bool:
    return len({r for _, r in answers}) == 2


class Study:
    """A run's items, indexed, and the quantities the write-up cites, computed on demand."""

    def __init__(self, items: list[dict], bins: int, labels: dict[str, str]):
        self.items, self.bins, self.labels = items, bins, labels
        self.by: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for item in items:
            self.by[(item["model"], item["protocol"])].append(item)
        self.models = list(dict.fromkeys(i["model"] for i in items))
        answers = [i for i in items if i.get("sample") is None]
        self.questions, self.subjects = len({i["question_id"] for i in answers}), len({i["subject"] for i in answers})
        self.protocols = list(dict.fromkeys(i["protocol"] for i in items if "~" not in i["protocol"]))
        options: dict[str, int] = {}
        for i in items:
            if i.get("letter_probs"):
                options[i["question_id"]] = max(options.get(i["question_id"], 0), len(i["letter_probs"]))
        self.options, self.most_options = options, max(options.values(), default=4)
        self._signals: dict[str, dict] = {}

    def model(self, label: str) -> str:
        return self.labels.get(label, label)

    def main(self, model: str, protocol: str) -> list[dict]:
        """A protocol's own items (consistency samples are items of their own protocol, `P~sample`)."""
        return [i for i in self.by.get((model, protocol), []) if i.get("sample") is None]

    def panel(self, model: str, protocol: str) -> dict | None:
        answers = read(self.main(model, protocol))
        return recompute(answers, self.bins) if answers else None

    def samples_k(self, model: str, protocol: str) -> int | None:
        drawn = self.by.get((model, protocol + "~sample"), [])
        return 1 + max(i["sample"] for i in drawn) if drawn else None

    def signals(self, model: str) -> dict[str, dict[tuple, tuple[float, bool]]]:
        """Every signal's (confidence, right) per cell (module docstring)."""
        if model in self._signals:
            return self._signals[model]
        values: dict[str, dict[tuple, tuple[float, bool]]] = {}
        for protocol in self.protocols:
            mine = self.main(model, protocol)
            if not mine:
                continue
            values[protocol] = {cell_of(i): (float(i["confidence"]), bool(i["correct"])) for i in mine if i["status"] in READ}
            drawn_by: dict[str, list[dict]] = defaultdict(list)
            for s in self.by.get((model, protocol + "~sample"), []):
                drawn_by[s["question_id"]].append(s)
            if not drawn_by:
                continue
            k = self.samples_k(model, protocol)
            agreement, entropy, avg_conf = {}, {}, {}
            for i in mine:
                if i.get("rotation") or i.get("repetition") or i["letter"] is None:
                    continue
                drawn = drawn_by.get(i["question_id"], [])
                letters = [s["letter"] for s in drawn if s["letter"] is not None]
                right = bool(i["correct"])
                agreement[cell_of(i)] = (letters.count(i["letter"]) / k, right)
                if len(letters) >= k / 2:
                    shares = [letters.count(x) / len(letters) for x in sorted(set(letters))]
                    h = -sum(s * math.log(s) for s in shares)
                    most = math.log(min(k, self.options.get(i["question_id"], self.most_options)))
                    entropy[cell_of(i)] = (1 - h / most, right)
                stated = [(s["letter"], float(s["confidence"])) for s in drawn if s["status"] in READ and s["confidence"] is not None]
                total = sum(c for _, c in stated)
                if len(stated) >= k / 2 and total > 0:
                    avg_conf[cell_of(i)] = (sum(c for letter, c in stated if letter == i["letter"]) / total, right)
            values[f"{protocol}~agreement"], values[f"{protocol}~entropy"], values[f"{protocol}~avg-conf"] = agreement, entropy, avg_conf
        self._signals[model] = values
        return values

    def signal_table(self, model: str) -> dict:
        values = self.signals(model)
        kept = {name: v for name, v in values.items() if len(v) >= MIN_N}
        left_out = {name: len(v) for name, v in values.items() if len(v) < MIN_N}
        shared = sorted(set.intersection(*(set(v) for v in kept.values()))) if kept else []
        rows: dict[str, dict] = {}
        for name, v in kept.items():
            answers = [v[c] for c in shared]
            if answers:
                m = recompute(answers, self.bins)
                rows[name] = {**m, "prr": prr_of(answers)}
        best = min(rows, key=lambda name: (rows[name]["brier"], name)) if rows else None
        return {"n": len(shared), "left_out": left_out, "rows": rows, "best": best}

    def pair_counts(self) -> int:
        """The Holm family's size: the p-values of every comparison with MIN_N or more paired answers."""
        count = 0
        groups = [(self.main(a, p), self.main(b, p)) for p in self.protocols for a, b in combinations(self.models, 2)]
        groups += [(self.main(m, a), self.main(m, b)) for m in self.models for a, b in combinations(self.protocols, 2)]
        for items_a, items_b in groups:
            pairs = paired(items_a, items_b)
            if len(pairs) >= MIN_N:
                count += 3 + (defined_auroc(answers_of(pairs, 0)) and defined_auroc(answers_of(pairs, 1)))
        return count


# ---------------------------------------------------------------------------------------------
# the write-up: Markdown tables and the sentences with numbers


class Checks:
    def __init__(self):
        self.checked = self.differ = self.skipped = 0
        self.not_checked: list[str] = []
        self.unknown = 0

    def skip(self, n: int = 1) -> None:
        self.skipped += n

    def point(self, text: str) -> str:
        """A cell's point value: its bracketed interval (counted as skipped) and "(n too small)" removed."""
        text, n = re.subn(r"\s*\[[^\]]*\]", "", text)
        self.skip(n)
        return re.sub(r"\s*\(n too small\)", "", text).strip()

    def cell(self, section: str, row: str, column: str, text: str, value) -> None:
        text = text.strip().replace("\u2212", "-").strip("`")
        ok, shown = compare(text, value)
        self.checked += 1
        if not ok:
            self.differ += 1
            print(f"DIFFERS {section} / {row} / {column}: README {text} vs recomputed {shown}")

    def table_not_checked(self, section: str, header: list[str], why: str, *, unknown: bool = False) -> None:
        self.unknown += unknown
        line = f"{section}: | {' | '.join(header)} | ({why})"
        self.not_checked.append(line)
        print(f"NOT CHECKED {line}")


def decimals(number: str) -> int:
    return len(number.split(".")[1]) if "." in number else 0


def compare(text: str, value) -> tuple[bool, str]:
    """Whether README ``text`` shows ``value`` at the precision it prints, and the value written as the text is."""
    if value is None:
        return text == "-", "-"
    if isinstance(value, str):
        return text == value, value
    if isinstance(value, bool):
        return text == ("yes" if value else "no"), "yes" if value else "no"
    if text == "-":
        return False, repr(value)
    m = re.fullmatch(r"([<≤])\s*(\d+(?:\.\d+)?)", text)
    if m:
        bound = float(m.group(2))
        ok = value < bound if m.group(1) == "<" else value <= bound
        return ok, f"{value:.{max(decimals(m.group(2)), 3) + 1}f}"
    m = re.fullmatch(r"([+-]?\d+(?:\.\d+)?)(%|pt)?", text)
    if not m:
        return False, f"{value!r} (README cell not a number)"
    number, unit = m.group(1), m.group(2)
    d = decimals(number)
    if isinstance(value, int) and not unit and d == 0:
        return int(number) == value, str(value)
    scaled = value * 100 if unit else value
    ok = abs(scaled - float(number)) <= 0.5 * 10 ** -d + 1e-9
    sign = "+" if number[0] in "+-" else ""
    shown = f"{scaled:{sign}.{d}f}{unit or ''} ({value:.6g})"
    return ok, shown


def split_row(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [c.strip().replace("\\|", "|") for c in cells]


def blocks(text: str):
    """The page as (section, kind, payload, text before it): kind 'table' (header, rows) or 'line'."""
    section = "Introduction"
    lines = text.splitlines()
    before: list[str] = []
    i = 0
    fence = False
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            fence = not fence
        if not fence and line.startswith("## "):
            section = line[3:].strip()
            before = []
        elif not fence and line.startswith("|") and i + 1 < len(lines) and re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", lines[i + 1].strip()):
            header = split_row(line)
            rows = []
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(split_row(lines[i]))
                i += 1
            yield section, "table", (header, rows), "\n".join(before)
            before = []
            continue
        else:
            yield section, "line", line, "\n".join(before)
            before.append(line)
        i += 1


def name_of(cell: str) -> str:
    return cell.strip().strip("`")


def both(text: str, sep: str = " → ") -> list[str]:
    return [x.strip() for x in text.split(sep)]


class Page:
    """Checks a README's tables and sentences against a Study."""

    def __init__(self, run_dir: Path, study: Study, checks: Checks):
        self.run_dir, self.s, self.c = run_dir, study, checks

    # -- tables -----------------------------------------------------------------------------

    TABLES = {
        ("Model", "Family", "Parameters", "Quantisation", "Package"): "metadata",
        ("Model", "Protocol", "n", "Acc", "Conf", "Gap", "ECE", "ECE plug-in", "Brier", "AUROC", "Parse"): "results",
        ("Model", "Protocol", "n", "Acc", "Conf", "Gap", "ECE", "Brier", "AUROC", "Parse"): "results_v1",
        ("Models", "Protocol", "n", "Δ accuracy (McNemar p, Holm p)", "Δ ECE [95% CI] (Holm p)", "Δ Brier [95% CI] (Holm p)",
         "Δ AUROC [95% CI] (Holm p)"): "scale",
        ("Signal", "ECE [95% CI]", "Brier", "AUROC", "AURC", "PRR", "Brier − best [95% CI]"): "signals",
        ("Model", "Signal", "k", "Temperature", "n", "Acc", "Conf", "ECE [95% CI]", "Brier", "AUROC"): "sampled",
        ("Model", "Protocol", "Parse", "Both read a letter", "Same letter", "Accuracy: here vs answer read", "McNemar p",
         "Distorting (p < 0.01)", "Complete-case n", "Δ accuracy (Holm p)"): "answers",
        ("Model", "Protocol", "Most chosen (its gold share)", "TV distance"): "positions",
        ("Model", "Protocol", "Questions", "Acc per order", "Conf per order", "Debiased acc", "Debiased conf",
         "Same answer in every order"): "orders",
        ("Model", "Protocol", "Parse", "n", "Acc", "Conf", "ECE (plug-in)", "Questions with both letters", "Same letter",
         "Changed letters, v1's most common", "McNemar p"): "v1",
        ("Model", "Protocol", "chosen per fold", "ECE before", "ECE after (nested)", "base rate: ECE", "Brier skill vs base rate (p, Holm p)",
         "AUROC"): "recalibration",
        ("Model", "Acc per run", "ECE per run (plug-in)", "ECE mean ± sd", "gap mean"): "spread",
        ("Model", "Replies in both", "Byte-identical", "Read alike", "In one run only", "Largest metric change"): "reproducibility",
    }
    SPREAD_METRICS = ("accuracy", "mean_confidence", "overconfidence_gap", "ece_debiased_l1", "ece", "brier", "auroc")

    def table(self, section: str, header: list[str], rows: list[list[str]], before: str) -> None:
        kind = self.TABLES.get(tuple(header))
        if kind is None and header[:3] == ["Model", "Templates", "n"] and header[-1] == "Confidences equal to an example's":
            kind = "templates"
        if kind is None:
            self.c.table_not_checked(section, header, "unknown table", unknown=True)
            return
        if kind == "metadata":
            self.c.table_not_checked(section, header, "model metadata, not from the items")
            return
        for row in rows:
            if len(row) != len(header):
                self.c.cell(section, " ".join(row[:2]), "row", f"{len(row)} cells", f"{len(header)} cells")
                continue
            getattr(self, f"t_{kind}")(section, dict(zip(header, row)), header, before)

    def t_results(self, section, r, header, before, plug_in_ece=False):
        label, protocol = r["Model"], name_of(r["Protocol"])
        distorts = protocol.endswith(" (distorts answers)")
        protocol = name_of(protocol.removesuffix(" (distorts answers)"))
        model = self.s.model(label)
        row = f"{label} {protocol}"
        items = self.s.main(model, protocol)
        m = self.s.panel(model, protocol)
        c = self.c
        c.cell(section, row, "n", r["n"], len(read(items)))
        for column, key in (("Acc", "accuracy"), ("Conf", "mean_confidence"), ("Gap", "overconfidence_gap"),
                            ("ECE", "ece" if plug_in_ece else "ece_debiased_l1"), ("ECE plug-in", "ece"), ("Brier", "brier"),
                            ("AUROC", "auroc")):
            if column in r:
                c.cell(section, row, column, c.point(r[column]), m[key] if m else None)
        c.cell(section, row, "Parse", r["Parse"], parse_rate(items))
        if distorts:
            c.cell(section, row, "distorts answers", "yes", self.validity(model, protocol)["p"] < DISTORTING_P)

    def t_results_v1(self, section, r, header, before):
        self.t_results(section, r, header, before, plug_in_ece=True)

    def step(self, protocol: str, label_a: str, label_b: str) -> tuple[list, dict | None, dict | None]:
        pairs = paired(self.s.main(self.s.model(label_a), protocol), self.s.main(self.s.model(label_b), protocol))
        if not pairs:
            return pairs, None, None
        return pairs, recompute(answers_of(pairs, 0), self.s.bins), recompute(answers_of(pairs, 1), self.s.bins)

    def t_scale(self, section, r, header, before):
        a, b = both(r["Models"])
        protocol = name_of(r["Protocol"])
        row = f"{r['Models']} {protocol}"
        pairs, ma, mb = self.step(protocol, a, b)
        c = self.c
        c.cell(section, row, "n", r["n"], len(pairs))
        m = re.fullmatch(r"(\S+) \((.+), (.+)\)", r[header[3]])
        a_only = sum(bool(x["correct"]) and not y["correct"] for x, y in pairs)
        b_only = sum(bool(y["correct"]) and not x["correct"] for x, y in pairs)
        if m:
            c.cell(section, row, "Δ accuracy", m.group(1), mb["accuracy"] - ma["accuracy"] if pairs else None)
            c.cell(section, row, "McNemar p", m.group(2), mcnemar_p(a_only, b_only) if pairs else None)
            c.skip()  # Holm p
        else:
            c.cell(section, row, header[3], r[header[3]], "Δ (McNemar p, Holm p)")
        for column, key in zip(header[4:], ("ece_debiased_l1", "brier", "auroc")):
            text = re.sub(r"\s*\([^()]*\)$", "", r[column])
            c.skip(text != r[column])  # Holm p
            value = None if not pairs or ma[key] is None or mb[key] is None else mb[key] - ma[key]
            c.cell(section, row, column.split(" [")[0], c.point(text), value)

    def t_signals(self, section, r, header, before):
        m = re.search(r"\*\*(.+?)\*\*: (\d+) answers shared by every signal; left out for fewer than \d+ answers: (.*?)\.\s*$", before, re.S)
        if not m:
            self.c.cell(section, name_of(r["Signal"]), "model", "(no model line above the table)", "a model line")
            return
        label = m.group(1)
        model = self.s.model(label)
        table = self.s.signal_table(model)
        if self._signal_line != m.group(0):  # the line above the table, once per table
            self._signal_line = m.group(0)
            self.c.cell(section, label, "answers shared", m.group(2), table["n"])
            listed = dict(re.findall(r"`([^`]+)` \(n = (\d+)\)", m.group(3)))
            for name, n in listed.items():
                self.c.cell(section, label, f"left out `{name}` n", n, table["left_out"].get(name, "not left out"))
            for name in table["left_out"]:
                if name not in listed:
                    self.c.cell(section, label, f"left out `{name}`", "not listed", f"left out (n = {table['left_out'][name]})")
        name = name_of(r["Signal"])
        row = f"{label} {name}"
        mine = table["rows"].get(name)
        if mine is None:
            self.c.cell(section, row, "Signal", name, f"no signal {name} with {MIN_N} or more answers")
            return
        c = self.c
        c.cell(section, row, "ECE", c.point(r["ECE [95% CI]"]), mine["ece_debiased_l1"])
        c.cell(section, row, "Brier", r["Brier"], mine["brier"])
        c.cell(section, row, "AUROC", r["AUROC"], mine["auroc"])
        c.cell(section, row, "AURC", r["AURC"], mine["aurc"])
        c.cell(section, row, "PRR", r["PRR"], mine["prr"])
        best = table["best"]
        if r[header[-1]] == "best":
            c.cell(section, row, "Brier − best", name, best)
        else:
            c.cell(section, row, "Brier − best", c.point(r[header[-1]]), mine["brier"] - table["rows"][best]["brier"])

    def signal_set(self, section: str, label: str, listed: set[str]) -> None:
        table = self.s.signal_table(self.s.model(label))
        for name in sorted(set(table["rows"]) - listed):
            self.c.cell(section, label, f"signal `{name}`", "not in the table", f"{MIN_N} or more answers")

    def t_sampled(self, section, r, header, before):
        label, signal = r["Model"], name_of(r["Signal"])
        model = self.s.model(label)
        row = f"{label} {signal}"
        values = self.s.signals(model).get(signal)
        c = self.c
        if values is None:
            c.cell(section, row, "Signal", signal, "no such sampled signal")
            return
        answers = list(values.values())
        m = recompute(answers, self.s.bins) if answers else None
        c.cell(section, row, "k", r["k"], self.s.samples_k(model, signal.split("~")[0]))
        c.skip()  # temperature: a setting, not in the items
        c.cell(section, row, "n", r["n"], len(answers))
        for column, key in (("Acc", "accuracy"), ("Conf", "mean_confidence"), ("ECE [95% CI]", "ece_debiased_l1"),
                            ("Brier", "brier"), ("AUROC", "auroc")):
            c.cell(section, row, column.split(" [")[0], c.point(r[column]), m[key] if m else None)

    def validity(self, model: str, protocol: str) -> dict:
        ref = {cell_of(i): i for i in self.s.main(model, ANSWER_READ) if i["letter"] is not None}
        pairs = [(i, ref[cell_of(i)]) for i in self.s.main(model, protocol) if i["letter"] is not None and cell_of(i) in ref]
        here = sum(bool(a["correct"]) and not b["correct"] for a, b in pairs)
        there = sum(bool(b["correct"]) and not a["correct"] for a, b in pairs)
        n = len(pairs)
        return {"n": n, "agreement": sum(a["letter"] == b["letter"] for a, b in pairs) / n if n else None,
                "accuracy": sum(bool(a["correct"]) for a, _ in pairs) / n if n else None,
                "reference_accuracy": sum(bool(b["correct"]) for _, b in pairs) / n if n else None,
                "p": mcnemar_p(here, there) if n else None}

    def t_answers(self, section, r, header, before):
        label, protocol = r["Model"], name_of(r["Protocol"])
        model = self.s.model(label)
        row = f"{label} {protocol}"
        c = self.c
        v = self.validity(model, protocol)
        c.cell(section, row, "Parse", r["Parse"], parse_rate(self.s.main(model, protocol)))
        c.cell(section, row, "Both read a letter", r["Both read a letter"], v["n"])
        c.cell(section, row, "Same letter", r["Same letter"], v["agreement"])
        here, there = both(r["Accuracy: here vs answer read"], " vs ")
        c.cell(section, row, "Accuracy here", here, v["accuracy"])
        c.cell(section, row, "Accuracy answer read", there, v["reference_accuracy"])
        c.cell(section, row, "McNemar p", r["McNemar p"], v["p"])
        c.cell(section, row, "Distorting", r["Distorting (p < 0.01)"], None if v["p"] is None else v["p"] < DISTORTING_P)
        pairs = paired(self.s.main(model, ANSWER_READ), self.s.main(model, protocol))
        enough = len(pairs) >= MIN_N
        c.cell(section, row, "Complete-case n", r["Complete-case n"], len(pairs) if enough else None)
        delta = r["Δ accuracy (Holm p)"]
        text = re.sub(r"\s*\([^()]*\)$", "", delta)
        c.skip(text != delta)
        mine = None
        if enough:
            mine = sum(bool(y["correct"]) for _, y in pairs) / len(pairs) - sum(bool(x["correct"]) for x, _ in pairs) / len(pairs)
        c.cell(section, row, "Δ accuracy", text, mine)

    def t_positions(self, section, r, header, before):
        label, protocol = r["Model"], name_of(r["Protocol"])
        model = self.s.model(label)
        row = f"{label} {protocol}"
        items = self.s.main(model, protocol)
        shown = [i for i in items if i.get("shown_letter") is not None]
        letters = sorted({i["shown_answer"] for i in items} | {i["shown_letter"] for i in shown})
        n = len(shown)
        answers = Counter(i["shown_letter"] for i in shown)
        gold = Counter(i["shown_answer"] for i in shown)
        a = {k: answers.get(k, 0) / n for k in letters} if n else {}
        g = {k: gold.get(k, 0) / n for k in letters} if n else {}
        c = self.c
        m = re.fullmatch(r"(\S+) (\S+) \((\S+)\)", r[header[2]])
        if not m or not n:
            c.cell(section, row, header[2], r[header[2]], "-" if not n else "LETTER share (gold share)")
            return
        letter = m.group(1)
        top = max(a.values())
        c.cell(section, row, "most chosen", letter, letter if a.get(letter) == top else max(a, key=a.get))
        c.cell(section, row, "its share", m.group(2), a.get(letter))
        c.cell(section, row, "its gold share", m.group(3), g.get(letter))
        c.cell(section, row, "TV distance", r["TV distance"], 0.5 * sum(abs(a[k] - g[k]) for k in letters))

    def t_orders(self, section, r, header, before):
        label, protocol = r["Model"], name_of(r["Protocol"])
        model = self.s.model(label)
        row = f"{label} {protocol}"
        items = self.s.main(model, protocol)
        orders = sorted({i.get("rotation") or 0 for i in items})
        acc, conf = [], []
        for o in orders:
            answers = read([i for i in items if (i.get("rotation") or 0) == o])
            acc.append(sum(x for _, x in answers) / len(answers) if answers else None)
            conf.append(sum(x for x, _ in answers) / len(answers) if answers else None)
        letters: dict[tuple, dict[int, str | None]] = defaultdict(dict)
        for i in items:
            letters[(i["question_id"], i.get("repetition") or 0)][i.get("rotation") or 0] = i["letter"]
        complete = [v for v in letters.values() if len(v) == len(orders) and all(x is not None for x in v.values())]
        c = self.c
        c.cell(section, row, "Questions", r["Questions"], len({i["question_id"] for i in items}))
        for column, mine in (("Acc per order", acc), ("Conf per order", conf)):
            shown = [x.strip() for x in r[column].split(",")]
            if len(shown) != len(mine):
                c.cell(section, row, column, f"{len(shown)} orders", f"{len(mine)} orders")
                continue
            for k, (text, value) in enumerate(zip(shown, mine)):
                c.cell(section, row, f"{column} [{orders[k]}]", text, value)
        have = [x for x in acc if x is not None]
        c.cell(section, row, "Debiased acc", r["Debiased acc"], sum(have) / len(have) if have else None)
        have = [x for x in conf if x is not None]
        c.cell(section, row, "Debiased conf", r["Debiased conf"], sum(have) / len(have) if have else None)
        c.cell(section, row, "Same answer in every order", r["Same answer in every order"],
               sum(len(set(v.values())) == 1 for v in complete) / len(complete) if complete else None)

    def t_templates(self, section, r, header, before):
        label = r["Model"]
        model = self.s.model(label)
        templates = [name_of(t) for t in r["Templates"].split(",")]
        row = f"{label} {templates[0]}"
        panels = [self.s.panel(model, t) for t in templates]
        c = self.c
        ns = [x.strip() for x in r["n"].split(",")]
        for t, text, p in zip(templates, ns, panels):
            c.cell(section, row, f"n {t}", text, p and len(read(self.s.main(model, t))) or 0)
        for column in header[3:-1]:
            metric = column.split(":")[0]
            key = metric if metric in self.SPREAD_METRICS else None
            m = re.fullmatch(r"(\S+)(?: \((\S+)\))?", r[column])
            if key is None or not m:
                c.cell(section, row, column, r[column], f"a known metric: {', '.join(self.SPREAD_METRICS)}")
                continue
            values = [p[key] for p in panels if p and p[key] is not None]
            c.cell(section, row, f"{metric} spread", m.group(1), max(values) - min(values) if len(values) == len(panels) else None)
            c.skip(m.group(2) is not None)  # the plain template's CI width
        found = re.search(r"equal to a few-shot example's \(([^)]*)\)", before)
        copies = [x.strip() for x in r[header[-1]].split(",")]
        if not found:
            c.cell(section, row, header[-1], r[header[-1]], "the examples' values, listed in the section's text")
            return
        examples = [float(x.strip().rstrip("%")) / 100 for x in found.group(1).split(",")]
        for t, text in zip(templates, copies):
            stated = [float(i["confidence"]) for i in self.s.main(model, t) if i["status"] in READ]
            share = sum(any(abs(x - e) < 1e-9 for e in examples) for x in stated) / len(stated) if stated else None
            c.cell(section, row, f"equal to an example's, {t}", text, share)

    def v1_study(self, before: str) -> Study | None:
        if self._v1 is None:
            link = re.search(r"\]\(([^)]*v1[^)]*)\)", before)
            where = self.run_dir / (link.group(1) if link else "v1")
            if not (where / "items.jsonl").exists():
                self._v1 = False
            else:
                self._v1 = Study(load_items(where / "items.jsonl"), self.s.bins, self.s.labels)
        return self._v1 or None

    def t_v1(self, section, r, header, before):
        v1 = self.v1_study(before)
        if v1 is None:
            if not self._v1_reported:
                self._v1_reported = True
                self.c.table_not_checked(section, header, "the v1 items.jsonl the section links is not there")
            return
        label, protocol = r["Model"], name_of(r["Protocol"])
        model = self.s.model(label)
        row = f"{label} {protocol}"
        c = self.c
        old_items, new_items = v1.main(model, protocol), self.s.main(model, protocol)
        old, new = v1.panel(model, protocol), self.s.panel(model, protocol)
        for column, mine in (("Parse", (parse_rate(old_items), parse_rate(new_items))),
                             ("n", (len(read(old_items)), len(read(new_items)))),
                             ("Acc", (old and old["accuracy"], new and new["accuracy"])),
                             ("Conf", (old and old["mean_confidence"], new and new["mean_confidence"])),
                             ("ECE (plug-in)", (old and old["ece"], new and new["ece"]))):
            shown = both(r[column])
            if len(shown) != 2:
                c.cell(section, row, column, r[column], "v1 → v2")
                continue
            c.cell(section, row, f"{column} v1", shown[0], mine[0])
            c.cell(section, row, f"{column} v2", shown[1], mine[1])

        def first_order(items):
            return {i["question_id"]: i for i in items if not i.get("rotation") and i.get("sample") is None and not i.get("repetition")}
        here, then = first_order(new_items), first_order(old_items)
        pairs = [(a, here[q]) for q, a in then.items() if a["letter"] and q in here and here[q]["letter"]]
        changed = Counter(a["letter"] for a, b in pairs if a["letter"] != b["letter"])
        before_only = sum(bool(a["correct"]) and not b["correct"] for a, b in pairs)
        after_only = sum(bool(b["correct"]) and not a["correct"] for a, b in pairs)
        c.cell(section, row, "Questions with both letters", r["Questions with both letters"], len(pairs))
        c.cell(section, row, "Same letter", r["Same letter"],
               sum(a["letter"] == b["letter"] for a, b in pairs) / len(pairs) if pairs else None)
        column = "Changed letters, v1's most common"
        m = re.fullmatch(r"(\d+) of (\d+) were (\S+)", r[column])
        if m:
            top = max(changed.values()) if changed else 0
            c.cell(section, row, "changed letters", m.group(2), sum(changed.values()))
            c.cell(section, row, "most common v1 letter", m.group(3),
                   m.group(3) if changed.get(m.group(3)) == top else (changed.most_common(1)[0][0] if changed else None))
            c.cell(section, row, "its count", m.group(1), top if changed else None)
        else:
            c.cell(section, row, column, r[column], None if not changed else f"{max(changed.values())} of {sum(changed.values())}")
        c.cell(section, row, "McNemar p", r["McNemar p"],
               mcnemar_p(before_only, after_only) if before_only + after_only else None)

    def t_recalibration(self, section, r, header, before):
        label, protocol = r["Model"], name_of(r["Protocol"])
        model = self.s.model(label)
        row = f"{label} {protocol}"
        m = self.s.panel(model, protocol)
        c = self.c
        c.skip(4)  # chosen per fold, ECE after, base rate, Brier skill
        c.cell(section, row, "ECE before", c.point(r["ECE before"]), m and m["ece_debiased_l1"])
        for column in ("ECE after (nested)", "base rate: ECE"):
            c.point(r[column])
        auroc = both(r["AUROC"])
        c.cell(section, row, "AUROC before", auroc[0], m and m["auroc"])
        c.skip(len(auroc) - 1)

    def t_spread(self, section, r, header, before):
        path = self.run_dir / "sampled" / "items.jsonl"
        if not path.exists():
            if not self._spread_reported:
                self._spread_reported = True
                self.c.table_not_checked(section, header, "no sampled/items.jsonl beside the README")
            return
        if self._sampled is None:
            self._sampled = Study(load_items(path), self.s.bins, self.s.labels)
        s = self._sampled
        label = r["Model"]
        model = s.model(label)
        items = s.main(model, "verbalized-json")
        runs = sorted({i.get("repetition") or 0 for i in items})
        panels = []
        for k in runs:
            answers = read([i for i in items if (i.get("repetition") or 0) == k])
            panels.append(recompute(answers, s.bins) if answers else None)
        c = self.c
        for column, key in (("Acc per run", "accuracy"), ("ECE per run (plug-in)", "ece")):
            shown = [x.strip() for x in r[column].split(",")]
            mine = [p[key] if p else None for p in panels]
            if key == "ece":
                mine = [x for x in mine if x is not None]
            if len(shown) != len(mine):
                c.cell(section, label, column, f"{len(shown)} runs", f"{len(mine)} runs")
                continue
            for k, (text, value) in enumerate(zip(shown, mine)):
                c.cell(section, label, f"{column} [{k}]", text, value)
        eces = [p["ece"] for p in panels if p]
        gaps = [p["overconfidence_gap"] for p in panels if p]
        m = re.fullmatch(r"(\S+) ± (\S+)", r["ECE mean ± sd"])
        if m and eces:
            mean = sum(eces) / len(eces)
            sd = math.sqrt(sum((x - mean) ** 2 for x in eces) / (len(eces) - 1)) if len(eces) > 1 else 0.0
            c.cell(section, label, "ECE mean", m.group(1), mean)
            c.cell(section, label, "ECE sd", m.group(2), sd)
        else:
            c.cell(section, label, "ECE mean ± sd", r["ECE mean ± sd"], None)
        c.cell(section, label, "gap mean", r["gap mean"], sum(gaps) / len(gaps) if gaps else None)

    def t_reproducibility(self, section, r, header, before):
        path = self.run_dir / "reproducibility.json"
        if not path.exists():
            if not self._repro_reported:
                self._repro_reported = True
                self.c.table_not_checked(section, header, "no reproducibility.json beside the README")
            return
        check = json.loads(path.read_text(encoding="utf-8"))
        label = r["Model"]
        got = [x for x in check["rows"] if x["model"] in (label, self.s.model(label))]
        c = self.c
        paired_n = sum(x["paired"] for x in got)
        identical = sum(x["identical"] for x in got)
        c.cell(section, label, "Replies in both", r["Replies in both"], paired_n)
        m = re.fullmatch(r"(\d+) \((\S+)\)", r["Byte-identical"])
        if m:
            c.cell(section, label, "Byte-identical", m.group(1), identical)
            c.cell(section, label, "Byte-identical share", m.group(2), identical / paired_n if paired_n else None)
        else:
            c.cell(section, label, "Byte-identical", r["Byte-identical"], f"{identical} (share)")
        c.cell(section, label, "Read alike", r["Read alike"], sum(x["same_reading"] for x in got))
        c.cell(section, label, "In one run only", r["In one run only"], sum(x["only_one"] for x in got))
        moves = [(abs(b - a), x["protocol"], metric, a, b) for x in got for metric, (a, b) in x["metrics"].items()
                 if a is not None and b is not None]
        m = re.fullmatch(r"(\S+) (\S+) (\S+) → (\S+)", r["Largest metric change"])
        if not moves or not m:
            c.cell(section, label, "Largest metric change", r["Largest metric change"],
                   None if not moves else "PROTOCOL METRIC a → b")
            return
        largest = max(x[0] for x in moves)
        tied = {(p, metric): (a, b) for d, p, metric, a, b in moves if d == largest}
        named = (m.group(1), m.group(2))
        c.cell(section, label, "largest change", " ".join(named), " ".join(named) if named in tied else " ".join(next(iter(tied))))
        a, b = tied.get(named, next(iter(tied.values())))
        c.cell(section, label, "largest change from", m.group(3), a)
        c.cell(section, label, "largest change to", m.group(4), b)

    # -- sentences ------------------------------------------------------------------------

    def line(self, section: str, line: str) -> None:
        c, s = self.c, self.s
        if section == "Introduction":
            m = re.match(r"(\d+) small open models", line)
            if m:
                c.cell(section, "models", "count", m.group(1), len(s.models))
            m = re.search(r"the same (\d+) MMLU questions \((\d+) subjects", line)
            if m:
                c.cell(section, "questions", "count", m.group(1), s.questions)
                c.cell(section, "subjects", "count", m.group(2), s.subjects)
            m = re.search(r"also in (\d+) option orders", line)
            if m:
                c.cell(section, "option orders", "count", m.group(1), len({i.get("rotation") or 0 for i in s.items}))
            for m in re.finditer(r"(\d+) samples of `([^`]+)`", line):
                ks = {s.samples_k(model, m.group(2)) for model in s.models} - {None}
                c.cell(section, f"samples of {m.group(2)}", "k", m.group(1), ks.pop() if len(ks) == 1 else f"{sorted(ks)}")
        for m in re.finditer(r"(?:all (\d+) p-values of the study|over the study's (\d+) tests)", line):
            c.cell(section, "Holm family", "size", m.group(1) or m.group(2), self.holm_size())
        if section == "Results" and line.startswith("- "):
            scope = re.search(r"\(([^,()]+), complete-case", line)
            protocol = scope.group(1) if scope else None
            m = re.match(r"- ECE by model \(([^,]+), complete-case\): (.*)\.$", line)
            if m:
                for value, label in re.findall(r"([\d.]+) \(([^)]+)\)", m.group(2)):
                    p = s.panel(s.model(label), m.group(1))
                    c.cell(section, f"ECE by model {label}", m.group(1), value, p and p["ece_debiased_l1"])
            m = re.match(r"- (\S+) \(([^,]+), complete-case\): ECE ([\d.]+)", line)  # the study's only model
            if m:
                p = s.panel(s.model(m.group(1)), m.group(2))
                c.cell(section, m.group(1), f"ECE {m.group(2)}", m.group(3), p and p["ece_debiased_l1"])
            elif protocol and not line.startswith("- ECE by model"):
                for a, b, value in re.findall(r"(\S+) → (\S+) ([+-]\d+\.\d+)", line):
                    pairs, ma, mb = self.step(protocol, a, b)
                    c.cell(section, f"{a} → {b}", f"Δ ECE {protocol}", value,
                           mb["ece_debiased_l1"] - ma["ece_debiased_l1"] if pairs else None)
                    c.skip(2)  # its interval and Holm p
            m = re.search(r"Every one of the (\d+) models with (\d+) or more answers", line)
            if m and protocol:
                n = sum(len(read(s.main(model, protocol))) >= int(m.group(2)) for model in s.models)
                c.cell(section, "models", f"with {m.group(2)} or more answers", m.group(1), n)
            m = re.match(r"- Left out of these claims, with fewer than \d+ answers \(([^,]+), complete-case\): (.*)\.$", line)
            if m:
                for label, n in re.findall(r"(\S+) \(n=(\d+)\)", m.group(2)):
                    c.cell(section, label, "n", n, len(read(s.main(s.model(label), m.group(1)))))
        if section == "What each protocol does to the answers" and "of the questions asked:" in line:
            for label, concluded, parsed, n in re.findall(r"(\S+) (\d+) and (\d+) of (\d+)", line.split("of the questions asked:")[1]):
                items = s.main(s.model(label), "cot")
                c.cell(section, f"{label} cot", "concluded", concluded, sum(bool(i.get("concluded")) for i in items))
                c.cell(section, f"{label} cot", "read", parsed, sum(i["status"] in READ for i in items))
                c.cell(section, f"{label} cot", "asked", n, sum(i["status"] != "failed" for i in items))
        if section == "Sample size and the calibration test":
            m = re.match(r"- (\S+) / `([^`]+)`: n = (\d+); ECE ([\d.]+) \[[^\]]*\] \(plug-in ([\d.]+)\)", line)
            if m:
                label, protocol = m.group(1), m.group(2)
                p = s.panel(s.model(label), protocol)
                row = f"{label} {protocol}"
                c.cell(section, row, "n", m.group(3), len(read(s.main(s.model(label), protocol))))
                c.cell(section, row, "ECE", m.group(4), p and p["ece_debiased_l1"])
                c.cell(section, row, "ECE plug-in", m.group(5), p and p["ece"])
                c.skip(1 + ("calibration test p" in line))  # the interval; the calibration test's p
        if section == "Limitations":
            m = re.search(r"(\d+) fixed subjects and (\d+) questions", line)
            if m:
                c.cell(section, "subjects", "count", m.group(1), s.subjects)
                c.cell(section, "questions", "count", m.group(2), s.questions)
            if "parse rate is low" in line:
                for label, protocol, rate in re.findall(r"([^\s(;]+) / `([^`]+)` (\d+%)", line):
                    c.cell(section, f"{label} {protocol}", "parse rate", rate, parse_rate(s.main(s.model(label), protocol)))

    def holm_size(self) -> int:
        if self._holm is None:
            self._holm = self.s.pair_counts()
        return self._holm

    def check(self, text: str) -> None:
        self._signal_line = None
        self._v1, self._v1_reported, self._sampled, self._spread_reported, self._repro_reported = None, False, None, False, False
        self._holm = None
        signal_rows: dict[str, set[str]] = {}
        for section, kind, payload, before in blocks(text):
            if kind == "table":
                header, rows = payload
                self.table(section, header, rows, before)
                if self.TABLES.get(tuple(header)) == "signals" and self._signal_line:
                    label = re.match(r"\*\*(.+?)\*\*", self._signal_line).group(1)
                    signal_rows.setdefault(label, set()).update(name_of(r[0]) for r in rows)
            else:
                self.line(section, payload)
        for label, listed in signal_rows.items():
            self.signal_set("Every confidence signal on the same answers", label, listed)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--tolerance", type=float, default=1e-9)
    args = parser.parse_args()
    results = json.loads((args.run_dir / "results.json").read_text(encoding="utf-8"))
    bins = int(results.get("config", {}).get("metrics", {}).get("n_bins", 10))
    labels = {m.get("label", m["name"]): m["name"] for m in results["models"]}
    study = Study(load_items(args.run_dir / "items.jsonl"), bins, labels)
    checked = differ = 0
    for model in results["models"]:
        for proto in model["protocols"]:
            mine = study.main(model["name"], proto["protocol"])
            answers = read(mine)
            mine_values = {"n": len(answers), "parse_rate": parse_rate(mine)}
            stored = {"n": proto["panel"]["n"] if proto["panel"] else 0, "parse_rate": proto["parse"]["parse_rate"]}
            if answers and proto["panel"]:
                bins = int(proto["panel"]["options"].get("n_bins", 10))  # the run's own bin count
                mine_values.update(recompute(answers, bins))
                stored.update({k: proto["panel"]["metrics"][k]["value"] for k in mine_values if k in proto["panel"]["metrics"]})
            for key, value in mine_values.items():
                if key not in stored:
                    continue
                other = stored[key]
                same = (value is None and other is None) or (value is not None and other is not None and abs(value - other) <= args.tolerance)
                checked += 1
                differ += not same
                if not same:
                    print(f"DIFFERS {model['name']} {proto['protocol']} {key}: items.jsonl {value} vs results.json {other}")
    print(f"{args.run_dir}: {checked} numbers recomputed from items.jsonl, {differ} differ from results.json")
    readme = args.run_dir / "README.md"
    if not readme.exists():
        return 1 if differ else 0
    checks = Checks()
    Page(args.run_dir, study, checks).check(readme.read_text(encoding="utf-8"))
    print(f"{readme}: {checks.checked} cells recomputed from items.jsonl, {checks.differ} differ; "
          f"{checks.skipped} not recomputable (intervals, Holm and bootstrap p, calibration test, recalibration after the map) "
          f"skipped; tables not checked: {len(checks.not_checked)} ({checks.unknown} unknown)")
    return 1 if differ or checks.differ else 0


if __name__ == "__main__":
    sys.exit(main())
