"""The item explorer: every answer in its reliability bin, with the question and the raw reply, safely embedded."""

import json
from pathlib import Path

import numpy as np

from calibench.elicit.parser import PARSED
from calibench.metrics.binning import uniform_bin_index
from calibench.report.explorer import REPLY_CHARS, embedded_json, explorer_data, run_questions
from calibench.study.run import load_run

FIXTURE = Path(__file__).parents[1] / "fixtures" / "run"


def test_every_answer_sits_in_its_bin_and_the_bins_match_the_diagrams():
    run = load_run(FIXTURE)
    questions = run_questions(run.results)
    data = explorer_data(run.results, run.items, questions)
    assert len(data["groups"]) == sum(len(m.protocols) for m in run.results.models)
    for group in data["groups"]:
        model = next(m for m in run.results.models if m.label == group["model"])
        proto = next(p for p in model.protocols if p.protocol == group["protocol"])
        mine = [i for i in run.items if i["model"] == model.name and i["protocol"] == proto.protocol]
        read = [i for i in mine if i["status"] in PARSED]
        # the diagram's counts, recomputed from the items, are the explorer's
        counts = np.bincount(uniform_bin_index(np.array([i["confidence"] for i in read]), 10), minlength=10) if read else np.zeros(10)
        assert [len(b["items"]) for b in group["bins"]] == counts.tolist()
        if proto.panel is not None:
            assert [len(b["items"]) for b in group["bins"] if b["items"]] == [c for c in proto.panel.reliability.count if c]
        assert len(group["unread"]) == len(mine) - len(read)
        for b in group["bins"]:
            rows = [data["items"][i] for i in b["items"]]
            if rows:
                assert b["accuracy"] == np.mean([r[5] for r in rows])
    # each listed answer's question is there with its options and right letter
    qid = data["items"][0][0]
    text, options, right = data["questions"][qid]
    assert text and len(options) == 4 and right in "ABCD"


def test_a_hostile_reply_cannot_leave_the_data_block_and_a_long_one_is_cut():
    run = load_run(FIXTURE)
    item = {**run.items[0], "raw_text": "</script><script>alert(1)</script>&amp;" + "x" * (REPLY_CHARS + 10)}
    data = explorer_data(run.results, [item], {})
    text = embedded_json(data)
    assert "<" not in text and ">" not in text and "&" not in text
    row = json.loads(text)["items"][0]
    assert row[4].startswith("</script><script>alert(1)</script>&amp;") and row[4].endswith("more characters in items.jsonl]")
    assert len(row[4]) < REPLY_CHARS + 60
