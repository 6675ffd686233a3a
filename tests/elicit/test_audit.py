"""The parser against an audit set of real replies labelled by reading them.

``audit/replies.jsonl`` holds 420 replies drawn at random from the published study
(``scripts/draw_audit.py``: every model and text-reading protocol, stratified by the status
the previous parser gave, so the odd replies are over-represented); ``audit/labels.jsonl``
what a reader, who had not seen any parser's reading, judged each reply to assert: its letter
(or why none), its stated confidence as written (or why none). A read is the parser
returning a letter and a confidence (status ok or lenient); it is right when both match the
label. Precision (right reads / reads) must be at least 99%; every wrong read is printed.
"""

import json
from pathlib import Path

from calibench.elicit.parser import PARSED, parse_reply, read_confidence

AUDIT = Path(__file__).with_name("audit")


def _rows():
    replies = [json.loads(line) for line in (AUDIT / "replies.jsonl").read_text().splitlines()]
    labels = [json.loads(line) for line in (AUDIT / "labels.jsonl").read_text().splitlines()]
    assert [r["id"] for r in replies] == [x["id"] for x in labels]
    return list(zip(replies, labels))


def _label_confidence(label) -> float | None:
    if label["confidence"] is None:
        return None
    return read_confidence(str(label["confidence"]), bool(label["percent_sign"]))[0]


def test_audit_precision_and_recall(capsys):
    rows = _rows()
    reads = right = readable = letter_reads = letter_right = 0
    wrong = []
    for reply, label in rows:
        parsed = parse_reply(reply["reply"], tuple(reply["options"]), kind="json" if reply["protocol"] == "verbalized-json" else "text",
                             finish_reason=reply["finish_reason"], options=tuple(reply["options"].values()))
        truth = _label_confidence(label)
        readable += label["letter"] is not None and truth is not None
        if parsed.letter is not None:
            letter_reads += 1
            letter_right += parsed.letter == label["letter"]
        if parsed.status in PARSED:
            reads += 1
            ok = parsed.letter == label["letter"] and truth is not None and abs(parsed.confidence - truth) < 1e-9
            right += ok
            if not ok:
                wrong.append((reply["id"], reply["reply"], (parsed.letter, parsed.confidence, parsed.status), (label["letter"], truth)))
    with capsys.disabled():
        print(f"\naudit: {len(rows)} replies, {readable} readable by the labels; parser reads {reads}, right {right}: "
              f"precision {right / reads:.1%}, recall {right / readable:.1%}; letters read {letter_reads}, right {letter_right} "
              f"({letter_right / letter_reads:.1%})")
        for row in wrong:
            print("  false parse:", row)
    assert len(rows) >= 400
    assert right / reads >= 0.99, wrong
