"""A study against a server that misbehaves on 30% of requests: it completes, every question
ends answered or recorded as failed with its error, and the counts add up."""

from calibench.study import load_run, parse_config, run_study
from calibench.study.store import Store

FAULTS = [
    ("status", 429, "slow down", {"Retry-After": "0"}),
    ("status", 429, "slow down"),
    ("status", 500, "internal error"),
    ("status", 502, "bad gateway"),
    ("status", 503, "unavailable"),
    ("reset",),
    ("slow", 0.6),  # past the 0.25 s deadline
    ("drip", 0.01),  # a byte every 10 ms: past the deadline too
    ("raw", b'{"choices": [{"message": {"content": "Answer: B'),  # truncated JSON
    ("raw", b'{"id": "x", "object": "chat.completion"}'),  # valid JSON, no choices
    ("raw", b'{"choices": []}'),
    ("big", 10_000_000),  # a 10 MB reply
]


def test_thirty_percent_faults_over_500_questions(fault_server, tmp_path):
    fault_server.faults = FAULTS
    fault_server.fault_rate = 0.3
    cfg = parse_config({
        "name": "faults",
        "out": str(tmp_path / "run"),
        "protocols": ["verbalized"],
        "data": {"subjects": "all", "n_total": 500},
        "metrics": {"n_boot": 100},
        "models": [{
            "name": "m",
            "endpoints": [{"base_url": fault_server.base_url, "max_concurrency": 8, "timeout_s": 0.25}],
            "retry": {"max_attempts": 4, "backoff_base_s": 0.01, "backoff_max_s": 0.05},
        }],
    })
    run = load_run(run_study(cfg, show_progress=False))
    items = run.items
    assert len(items) == 500 and len({i["question_id"] for i in items}) == 500
    answered = [i for i in items if i["status"] != "failed"]
    failed = [i for i in items if i["status"] == "failed"]
    assert len(answered) + len(failed) == 500
    assert all(i["error"] for i in failed)
    assert len(answered) >= 480  # 0.3**4 of requests fail for good: about 4 expected
    with Store(cfg.out_dir / "responses.sqlite") as store:
        counts = store.count()
    assert counts == {"ok": len(answered), "failed": len(failed)}
    faults_seen = len(fault_server.requests) - 500
    assert faults_seen > 100  # the faults really happened, and were retried
    proto = run.results.models[0].protocols[0]
    assert proto.parse.counts["failed"] == proto.parse.failed == len(failed) and proto.parse.n == 500 - len(failed)
