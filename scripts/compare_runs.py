"""How far two runs of the same study agree: replies byte for byte, readings, and every metric.

Usage: python scripts/compare_runs.py RUN_A RUN_B [--json OUT --what "which runs these are"]

For the reproducibility check (the same study run twice, e.g. from two fresh clones): pairs
the items of RUN_A and RUN_B by model, protocol, question, option order, repetition and
sample, and prints per model and protocol how many replies are byte-identical, how many
name the same letter, how many readings (letter, confidence and status) agree, and for each headline metric of results.json its value
in each run and the difference. Items present in one run only are counted. Standard library
only, like scripts/verify_study.py.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

METRICS = ("accuracy", "mean_confidence", "overconfidence_gap", "ece_debiased_l1", "ece", "brier", "auroc")


def items(run: Path) -> dict[tuple, dict]:
    out = {}
    for line in (run / "items.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            i = json.loads(line)
            out[(i["model"], i["protocol"], i["question_id"], i.get("rotation", 0), i.get("repetition", 0), i.get("sample"))] = i
    return out


def panels(run: Path) -> dict[tuple[str, str], dict]:
    results = json.loads((run / "results.json").read_text(encoding="utf-8"))
    return {(m["name"], p["protocol"]): p["panel"]["metrics"] for m in results["models"] for p in m["protocols"] if p["panel"]}


def compare(a: Path, b: Path) -> list[dict]:
    """One row per model and protocol: replies compared, byte-identical, readings agreeing, one run only, metric pairs."""
    ia, ib = items(a), items(b)
    rows: dict[tuple[str, str], dict] = defaultdict(lambda: {"paired": 0, "identical": 0, "same_letter": 0, "same_reading": 0, "only_one": 0})
    for key in ia.keys() | ib.keys():
        row = rows[key[:2]]
        if key not in ia or key not in ib:
            row["only_one"] += 1
            continue
        x, y = ia[key], ib[key]
        row["paired"] += 1
        row["identical"] += x.get("raw_text") == y.get("raw_text") and x.get("raw_text_chars") == y.get("raw_text_chars")
        row["same_letter"] += x.get("letter") == y.get("letter")
        row["same_reading"] += (x.get("letter"), x.get("confidence"), x["status"]) == (y.get("letter"), y.get("confidence"), y["status"])
    pa, pb = panels(a), panels(b)
    out = []
    for (model, protocol), row in sorted(rows.items()):
        ma, mb = pa.get((model, protocol), {}), pb.get((model, protocol), {})
        metrics = {m: (ma[m]["value"], mb[m]["value"]) for m in METRICS if m in ma and m in mb}
        out.append({"model": model, "protocol": protocol, **row, "metrics": metrics})
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_a", type=Path)
    parser.add_argument("run_b", type=Path)
    parser.add_argument("--json", type=Path, help="also write the rows there, for scripts/publish_study.py")
    parser.add_argument("--what", default="", help="one sentence saying which runs these are (written into the JSON)")
    args = parser.parse_args()
    rows = compare(args.run_a, args.run_b)
    if args.json:
        args.json.write_text(json.dumps({"what": args.what, "rows": rows}, indent=1) + "\n", encoding="utf-8")
    print("| model | protocol | replies paired | byte-identical | same letter | same reading | in one run only | " + " | ".join(METRICS) + " |")
    print("|---|---|---|---|---|---|---|" + "---|" * len(METRICS))
    for r in rows:
        cells = []
        for m in METRICS:
            pair = r["metrics"].get(m)
            cells.append("-" if pair is None or None in pair else f"{pair[0]:.3f} → {pair[1]:.3f} ({pair[1] - pair[0]:+.3f})")
        print(f"| {r['model']} | {r['protocol']} | {r['paired']} | {r['identical']} | {r['same_letter']} | {r['same_reading']} | {r['only_one']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
