"""The signals table: every signal on the answers they share, with the paired difference to the best."""

import json
import zlib

import numpy as np
import pytest

from calibench.cli import main
from calibench.study import load_run
from calibench.study.comparisons import MIN_N


def test_every_signal_is_scored_on_the_shared_answers(fault_server, tmp_path):
    def reply(body):
        text = json.dumps(body["messages"])
        spread = zlib.crc32(text.encode()) % 9  # a confidence that varies from question to question
        if (body.get("response_format") or {}).get("json_schema", {}).get("name") == "confidence":
            return ("ok", json.dumps({"confidence": 10 + 10 * spread}))  # stated, on an OpenAI backend
        if "Reply with two lines" in text:
            return ("ok", f"Answer: B\nConfidence: {95 - spread}%")  # verbalized: near-certain, always
        return ("ok", '{"answer": "B"}')  # the answer read

    fault_server.default = reply
    assert main(["run", "--model", f"m@{fault_server.base_url}", "--protocol", "stated", "--protocol", "verbalized",
                 "--out", str(tmp_path / "run"), "--quiet", "--limit", "40"]) == 0
    run = load_run(tmp_path / "run")
    table = run.results.models[0].signal_table
    assert table.n == 40 and {r.signal for r in table.rows} == {"stated", "verbalized"} and table.left_out == {}
    assert [r.brier for r in table.rows] == sorted(r.brier for r in table.rows) and table.best == table.rows[0].signal
    # recomputed from items.jsonl
    for row in table.rows:
        mine = [i for i in run.items if i["protocol"] == row.signal]
        p = np.array([i["confidence"] for i in mine])
        y = np.array([float(i["correct"]) for i in mine])
        assert row.brier == pytest.approx(float(np.mean((p - y) ** 2)))
    best, other = table.rows
    assert best.brier_minus_best is None
    d = other.brier_minus_best
    assert d.value == pytest.approx(other.brier - best.brier) and d.low <= d.value <= d.high


def test_a_signal_with_too_few_answers_is_left_out(fault_server, tmp_path):
    fault_server.default = lambda body: ("ok", "no idea") if "Reply with two lines" in json.dumps(body["messages"]) \
        else ("ok", '{"answer": "B"}') if not body.get("response_format") or body["response_format"]["json_schema"]["name"] != "confidence" \
        else ("ok", '{"confidence": 60}')
    assert main(["run", "--model", f"m@{fault_server.base_url}", "--protocol", "stated", "--protocol", "verbalized",
                 "--out", str(tmp_path / "run"), "--quiet", "--limit", str(MIN_N)]) == 0
    table = load_run(tmp_path / "run").results.models[0].signal_table
    assert table.left_out == {"verbalized": 0} and [r.signal for r in table.rows] == ["stated"] and table.best == "stated"


def test_the_report_shows_the_signal_table(fault_server, tmp_path):
    test_every_signal_is_scored_on_the_shared_answers(fault_server, tmp_path)
    page = (tmp_path / "run" / "report.html").read_text()
    assert "Confidence signals on the answers they share" in page and "m: 40 shared answers" in page
    assert page.count("<td class=\"left\">stated</td>") >= 2 and ">best<" in page
    assert (tmp_path / "run" / "signals-m.svg").exists() and (tmp_path / "run" / "signals-m.png").exists()
    assert "every signal on the 40 answers they share" in page and page.count("<svg") == 5  # with the reliability, risk and card figures
