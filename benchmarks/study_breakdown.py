"""Where a study's time went: per model and protocol, from the engine's own timings.

Usage: python benchmarks/study_breakdown.py RUN_DIR

Reads the run's store (every response keeps llama.cpp's ``timings``) and its results.json
(the wall time of asking, per model). Prints, per model and request protocol: requests, new
and cached prompt tokens, generated tokens, the engine's prompt and generation seconds and
rates; then per model the floor (their sum), the wall time and wall / floor. ``answer`` is
the answer read's request (the ``logprob`` protocol reads it; ``stated`` and ``p-true``
continue its conversation).
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections import defaultdict
from pathlib import Path


def main() -> None:
    run = Path(sys.argv[1])
    db = sqlite3.connect(f"file:{run / 'responses.sqlite'}?mode=ro", uri=True)
    rows = defaultdict(lambda: defaultdict(float))
    for model, protocol, response in db.execute("SELECT model, protocol, response FROM responses WHERE ok = 1"):
        t = json.loads(response).get("timings") or {}
        r = rows[(model, protocol)]
        r["requests"] += 1
        r["new"] += t.get("prompt_n", 0)
        r["cached"] += t.get("cache_n", 0)
        r["generated"] += t.get("predicted_n", 0)
        r["prompt_s"] += t.get("prompt_ms", 0) / 1e3
        r["gen_s"] += t.get("predicted_ms", 0) / 1e3
    results = json.loads((run / "results.json").read_text())
    print("| model | protocol | requests | new prompt tok | cached tok | generated tok | prompt s (tok/s) | generation s (tok/s) |")
    print("|---|---|---|---|---|---|---|---|")
    for (model, protocol), r in sorted(rows.items()):
        print(f"| {model} | {protocol} | {r['requests']:.0f} | {r['new']:,.0f} | {r['cached']:,.0f} | {r['generated']:,.0f} | "
              f"{r['prompt_s']:.0f} ({r['new'] / r['prompt_s']:.0f}) | {r['gen_s']:.0f} ({r['generated'] / r['gen_s']:.0f}) |")
    print()
    print("| model | questions | asking wall time | engine floor | wall / floor | seconds per question |")
    print("|---|---|---|---|---|---|")
    n_questions = len(results["provenance"]["dataset_manifest"]["ids"]) * results["provenance"]["sampling"]["repetitions"]
    total_wall = 0.0
    for m in results["models"]:
        t = m["timing"]
        if not t:
            continue
        total_wall += t["wall_s"]
        print(f"| {m['name']} | {n_questions} | {t['wall_s']:.0f} s | {t['floor_s']:.0f} s | {t['wall_over_floor']:.3f} | "
              f"{t['wall_s'] / n_questions:.2f} |")
    print(f"\nasking, all models: {total_wall:.0f} s ({total_wall / 60:.1f} min)")


if __name__ == "__main__":
    main()
