"""The parser against an audit set of real replies labelled by reading them.

``audit/replies.jsonl`` holds replies drawn at random from real runs
(``scripts/draw_audit.py``: every model and text-reading protocol, stratified by the status
the parser of the time gave, so the odd replies are over-represented): 420 from the
published v1 study, labelled before the v3 parser existed, and a second part from the
default study re-run with the v3 protocols, labelled without seeing the parser's readings
(replies it was not tuned on). ``audit/labels.jsonl`` holds what a reader judged each reply
to assert: its letter (or why none), its stated confidence as written (or why none). A
read is the parser returning a confidence, with a letter where the protocol asks for one
(status ok or lenient); it is right when both match the label. Precision (right reads /
reads) must be at least 99% on each part; every wrong read is printed.
"""

import json
from pathlib import Path

from calibench.elicit.parser import PARSED, parse_reply, read_confidence

AUDIT = Path(__file__).with_name("audit")


def _rows():
    replies = [json.loads(line) for line in (AUDIT / "replies.jsonl").read_text().splitlines()]
    labels = {x["id"]: x for x in map(json.loads, (AUDIT / "labels.jsonl").read_text().splitlines())}
    assert {r["id"] for r in replies} == set(labels), "every reply is labelled, and only those"
    return [(r, labels[r["id"]]) for r in replies]


def _label_confidence(label) -> float | None:
    if label["confidence"] is None:
        return None
    return read_confidence(str(label["confidence"]), bool(label["percent_sign"]))[0]


KIND = {"verbalized": "text", "verbalized-json": "json", "stated": "number"}


def test_audit_precision_and_recall(capsys):
    rows = _rows()
    assert len(rows) >= 400
    for part in sorted({r["id"].split(":")[0] in ("study", "sampled") for r, _ in rows}, reverse=True):
        chosen = [(r, x) for r, x in rows if (r["id"].split(":")[0] in ("study", "sampled")) == part]
        _check(chosen, "v1 study (labelled before the parser)" if part else "v3 re-run (replies the parser was not tuned on)", capsys)


def _check(rows, name, capsys):
    reads = right = readable = letter_reads = letter_right = 0
    wrong = []
    for reply, label in rows:
        number = reply["protocol"] == "stated"  # the letter is the answer read's, not the reply's
        parsed = parse_reply(reply["reply"], tuple(reply["options"]), kind=KIND[reply["protocol"]],
                             finish_reason=reply["finish_reason"], options=tuple(reply["options"].values()))
        truth = _label_confidence(label)
        readable += (number or label["letter"] is not None) and truth is not None
        if parsed.letter is not None:
            letter_reads += 1
            letter_right += parsed.letter == label["letter"]
        if parsed.status in PARSED:
            reads += 1
            ok = (number or parsed.letter == label["letter"]) and truth is not None and abs(parsed.confidence - truth) < 1e-9
            right += ok
            if not ok:
                wrong.append((reply["id"], reply["reply"], (parsed.letter, parsed.confidence, parsed.status), (label["letter"], truth)))
    with capsys.disabled():
        print(f"\naudit, {name}: {len(rows)} replies, {readable} readable by the labels; parser reads {reads}, right {right}: "
              f"precision {right / reads:.1%}, recall {right / readable:.1%}; letters read {letter_reads}, right {letter_right}"
              + (f" ({letter_right / letter_reads:.1%})" if letter_reads else ""))
        for row in wrong:
            print("  false parse:", row)
    assert right / reads >= 0.99, wrong
