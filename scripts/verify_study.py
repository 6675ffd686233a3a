"""Recompute a study's per-model, per-protocol numbers from its items.jsonl, independently of calibench.

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
  ties counting one half.

Each is compared with the value results.json holds; the script prints every comparison and
exits 1 if any differs by more than the tolerance (default 1e-9), 0 otherwise. Intervals come
from seeded bootstraps and are not recomputed.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

READ = ("ok", "lenient")


def bin_of(p: float, bins: int) -> int:
    """The equal-width bin of a confidence: [k/B, (k+1)/B), 1.0 in the last."""
    edges = [k / bins for k in range(1, bins)]
    return sum(p >= e for e in edges)


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
    right = [c for c, r in answers if r]
    wrong = [c for c, r in answers if not r]
    auroc = None
    if right and wrong:
        wins = sum((a > b) + 0.5 * (a == b) for a in right for b in wrong)
        auroc = wins / (len(right) * len(wrong))
    return {"accuracy": acc, "mean_confidence": conf, "overconfidence_gap": conf - acc, "ece": plug_in,
            "ece_debiased_l1": debiased, "brier": sum((c - r) ** 2 for c, r in answers) / n, "auroc": auroc}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--tolerance", type=float, default=1e-9)
    args = parser.parse_args()
    results = json.loads((args.run_dir / "results.json").read_text(encoding="utf-8"))
    items = [json.loads(line) for line in (args.run_dir / "items.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    by: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for item in items:
        if item.get("sample") is None:
            by[(item["model"], item["protocol"])].append(item)
    checked = differ = 0
    for model in results["models"]:
        for proto in model["protocols"]:
            mine = by.get((model["name"], proto["protocol"]), [])
            asked = [i for i in mine if i["status"] != "failed"]
            answers = [(float(i["confidence"]), bool(i["correct"])) for i in mine if i["status"] in READ]
            mine_values = {"n": len(answers), "parse_rate": len(answers) / len(asked) if asked else 0.0}
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
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
