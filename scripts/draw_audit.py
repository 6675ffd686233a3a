"""Draw the parser audit set: real stored replies, unlabelled.

Two parts, each stratified by model x protocol (and within it by the status the parser of
the time gave, so that the odd replies are over-represented) and seeded:
``python scripts/draw_audit.py`` writes ``tests/elicit/audit/replies.jsonl``.

1. ``study``: 420 replies of the published v1 study (docs/study/v1), ``verbalized`` and
   ``verbalized-json``, labelled before the v3 parser was written;
2. ``v3``: replies of the default study re-run with the v3 protocols (``make study-extended``, then
   ``runs/offline-ladder-extended-v3/items.jsonl``), ``verbalized``, ``verbalized-json`` and ``stated``,
   labelled after the v3 parser was written but without seeing its readings: a check of
   it on replies it was not tuned on. Its strata are the statuses of the parser at commit
   131120f, which later parser changes move, so a redraw picks other replies than the
   labelled ones: the script keeps the committed part 2 unless ``--redraw-v3`` is given
   (and a redrawn part needs labelling anew). Part 1 redraws identically from docs/study/v1.

Each row holds what a reader needs to label it (question, options, raw reply, whether the
reply was cut by the token limit) and nothing of what any parser read; the labels are
written by reading the replies, into ``labels.jsonl`` beside it.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from calibench.data import load_dataset

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "elicit" / "audit" / "replies.jsonl"
# protocol -> max_tokens of the published (v2) study: a reply of that many tokens was cut
# (its items predate the finish_reason field)
MAX_TOKENS = {"verbalized": 24, "verbalized-json": 40}
# rows per model: (source file, protocol, how many)
PLAN = [("docs/study/v1/items.jsonl", "verbalized", 95), ("docs/study/v1/items.jsonl", "verbalized-json", 30),
        ("docs/study/v1/sampled/items.jsonl", "verbalized-json", 15)]
PLAN_V3 = [("runs/offline-ladder-extended-v3/items.jsonl", "verbalized", 30), ("runs/offline-ladder-extended-v3/items.jsonl", "verbalized-json", 10),
           ("runs/offline-ladder-extended-v3/items.jsonl", "stated", 10)]


def _draw(rows: list[dict], k: int, rng: random.Random) -> list[dict]:
    """k rows, every v1 status represented: the rarer statuses taken whole (up to a third each)."""
    by_status: dict[str, list[dict]] = {}
    for row in rows:
        by_status.setdefault(row["status"], []).append(row)
    order = sorted(by_status, key=lambda s: len(by_status[s]))  # rarest first; the commonest fills the rest
    chosen: list[dict] = []
    for status in order:
        group = by_status[status]
        take = k - len(chosen) if status == order[-1] else min(max(1, k // 3), k - len(chosen))
        chosen += rng.sample(group, min(take, len(group)))
    return chosen


def _part(plan, prefix: str | None, questions: dict, rng: random.Random) -> list[dict]:
    """One part's rows; ids begin with ``prefix`` (by default the source's folder name)."""
    out = []
    for source, protocol, k in plan:
        rows = [json.loads(line) for line in (ROOT / source).read_text().splitlines()]
        for model in sorted({r["model"] for r in rows}):
            stratum = [r for r in rows if r["model"] == model and r["protocol"] == protocol and r["raw_text"] is not None]
            for r in _draw(stratum, k, rng):
                q = questions[r["question_id"]]
                finish = r.get("finish_reason") or ("length" if r["completion_tokens"] == MAX_TOKENS[protocol] else "stop")
                out.append({
                    "id": f"{prefix or Path(source).parent.name}:{model}:{protocol}:{r['question_id']}:{r['repetition']}",
                    "model": model,
                    "protocol": protocol,
                    "question": q.question,
                    "options": dict(zip(q.letters, q.choices)),
                    "reply": r["raw_text"],
                    "finish_reason": finish,
                })
    rng.shuffle(out)
    return out


def main() -> None:
    questions = {q.id: q for q in load_dataset("mmlu")}
    if "--redraw-v3" in sys.argv[1:]:
        second = _part(PLAN_V3, "v3", questions, random.Random(1313))
    else:
        second = [row for row in map(json.loads, OUT.read_text().splitlines()) if row["id"].startswith("v3:")]
    out = _part(PLAN, None, questions, random.Random(13)) + second
    OUT.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in out))
    print(f"{len(out)} replies -> {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
