"""Draw the parser audit set: real stored replies from the published study, unlabelled.

Stratified by model x protocol (and within it by the status the v1 parser gave, so that the
odd replies are over-represented), seeded, so that the draw is reproducible:
``python scripts/draw_audit.py`` writes ``tests/elicit/audit/replies.jsonl``. Each row
holds what a reader needs to label it (question, options, raw reply, whether the reply was
cut by the token limit) and nothing of what any parser read; the labels are written by
reading the replies, into ``labels.jsonl`` beside it.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from calibench.data import load_dataset

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "elicit" / "audit" / "replies.jsonl"
# protocol -> max_tokens of the published (v2) study: a reply of that many tokens was cut
MAX_TOKENS = {"verbalized": 24, "verbalized-json": 40}
# rows per model: (source file, protocol, how many)
PLAN = [("docs/study/items.jsonl", "verbalized", 95), ("docs/study/items.jsonl", "verbalized-json", 30),
        ("docs/study/sampled/items.jsonl", "verbalized-json", 15)]


def _draw(rows: list[dict], k: int, rng: random.Random) -> list[dict]:
    """k rows, every v1 status represented: the rarer statuses taken whole (up to a third each)."""
    by_status: dict[str, list[dict]] = {}
    for row in rows:
        by_status.setdefault(row["status"], []).append(row)
    chosen: list[dict] = []
    for status in sorted(by_status, key=lambda s: len(by_status[s])):
        group = by_status[status]
        left = k - len(chosen)
        take = min(len(group), max(1, k // 3), left) if status != max(by_status, key=lambda s: len(by_status[s])) else left
        chosen += rng.sample(group, min(take, len(group)))
    return chosen


def main() -> None:
    rng = random.Random(13)
    questions = {q.id: q for q in load_dataset("mmlu")}
    out = []
    for source, protocol, k in PLAN:
        rows = [json.loads(line) for line in (ROOT / source).read_text().splitlines()]
        for model in sorted({r["model"] for r in rows}):
            stratum = [r for r in rows if r["model"] == model and r["protocol"] == protocol and r["raw_text"] is not None]
            for r in _draw(stratum, k, rng):
                q = questions[r["question_id"]]
                out.append({
                    "id": f"{Path(source).parent.name}:{model}:{protocol}:{r['question_id']}:{r['repetition']}",
                    "model": model,
                    "protocol": protocol,
                    "question": q.question,
                    "options": dict(zip(q.letters, q.choices)),
                    "reply": r["raw_text"],
                    "finish_reason": "length" if r["completion_tokens"] == MAX_TOKENS[protocol] else "stop",
                })
    rng.shuffle(out)
    OUT.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in out))
    print(f"{len(out)} replies -> {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
