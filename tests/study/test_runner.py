"""End to end: the runner against the real embedded engine and against a scripted local server."""

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from calibench import metrics
from calibench.elicit.parser import PARSED, STATUSES
from calibench.models.ladder import LADDER, is_installed
from calibench.study import load_config, load_run, parse_config, run_study
from calibench.study.results import SCHEMA_FILE, json_schema
from calibench.report import headline
from calibench.report.headline import caveats
from calibench.study.store import Store

EXAMPLES = Path(__file__).parents[2] / "examples"


def remote_config(url, tmp_path, **extra):
    data = {"name": "remote", "out": str(tmp_path / "run"), "models": [{"name": "m", "endpoints": [{"base_url": url, "max_concurrency": 2}]}],
            "data": {"limit": 6}, "metrics": {"n_boot": 100}}
    data.update(extra)
    return parse_config(data)


def body_hash(body):
    body = {k: v for k, v in body.items() if k != "model"}  # the store keeps the endpoint-independent body
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def request_keys(server):
    return [body_hash(r["body"]) for r in server.requests]


def stored_bodies(path):
    import sqlite3

    with sqlite3.connect(path) as db:
        return {body_hash(json.loads(row[0])) for row in db.execute("SELECT request FROM responses WHERE ok = 1")}


def test_shipped_json_schema_is_in_sync():
    assert json.loads(SCHEMA_FILE.read_text()) == json.loads(json.dumps(json_schema())), (
        "regenerate it: python -c 'from calibench.study.results import write_schema; write_schema()'"
    )


@pytest.mark.skipif(not is_installed(LADDER["smollm2-135m"]), reason="smollm2-135m is not installed (make test installs it)")
def test_end_to_end_on_the_embedded_engine(tmp_path):
    cfg = parse_config({"name": "e2e", "out": str(tmp_path / "run"), "models": [{"name": "smollm2-135m", "engine": {"context": 1024}}],
                        "data": {"limit": 5}, "metrics": {"n_boot": 200}})
    run = load_run(run_study(cfg, show_progress=False))
    assert len(run.items) == 5 * 5
    assert {i["status"] for i in run.items} <= set(STATUSES) | {"failed"}
    model = run.results.models[0]
    assert model.sha256 == LADDER["smollm2-135m"].sha256 and model.engine["model_sha256"] == model.sha256
    assert (model.family, model.parameters) == ("SmolLM2", LADDER["smollm2-135m"].parameters)  # scale is compared within a family
    assert run.results.provenance.dataset_manifest["ids"][:5] == [i["question_id"] for i in run.items if i["protocol"] == "stated"]
    # every number in results.json is recomputed from items.jsonl
    for proto in model.protocols:
        items = [i for i in run.items if i["protocol"] == proto.protocol]
        parsed = [i for i in items if i["status"] in PARSED]
        assert proto.parse.n == 5 and proto.parse.parsed == len(parsed)
        assert proto.parse.parse_rate == pytest.approx(len(parsed) / 5)
        if parsed:
            p = np.array([i["confidence"] for i in parsed])
            y = np.array([float(i["correct"]) for i in parsed])
            assert proto.panel.metrics["ece"].value == pytest.approx(metrics.ece(p, y))
            assert proto.panel.metrics["accuracy"].value == pytest.approx(y.mean())
            assert proto.panel.metrics["brier"].value == pytest.approx(metrics.brier(p, y))
    # the answer comes first: stated and p-true speak of the answer read's letter on every question
    by = {(i["protocol"], i["question_id"]): i for i in run.items}
    for qid in run.results.provenance.dataset_manifest["ids"][:5]:
        read = by[("logprob", qid)]
        assert read["letter"] == max(read["letter_probs"], key=read["letter_probs"].get) and read["answer_source"] == "logprobs"
        assert by[("stated", qid)]["letter"] == by[("p-true", qid)]["letter"] == read["letter"]
        assert by[("stated", qid)]["answer_source"] == "logprobs"
        # only the number was constrained: "Confidence:" prefilled, then a number in either scale
        assert re.fullmatch(r"Confidence: ?(0|[1-9][0-9]{0,2})(\.[0-9]{1,4})?%?", by[("stated", qid)]["raw_text"])
        assert 0 <= by[("p-true", qid)]["confidence"] <= 1 and by[("p-true", qid)]["letter_mass"] > 0
    logprob = next(p for p in model.protocols if p.protocol == "logprob")
    assert logprob.parse.parse_rate == 1.0 and logprob.constraint == "prefill"
    json_ = next(p for p in model.protocols if p.protocol == "verbalized-json")
    assert json_.constraint == "json-schema" and json_.validity is not None and json_.validity.n == 5
    t = model.timing
    assert t.requests == 25 and t.sessions == 1 and t.floor_s > 0 and t.generated_tokens > 0
    assert t.cached_tokens > 0  # a question's later requests reuse the first one's prefix
    assert 0.95 <= t.wall_over_floor < 3  # one slot: the wall time covers the engine's compute


@pytest.mark.skipif(not is_installed(LADDER["smollm2-135m"]), reason="smollm2-135m is not installed")
def test_the_number_constraint_does_not_pin_the_model_to_zero(tmp_path):
    # Measured in the same run: SmolLM2-135M's stated confidence (the second turn, after the
    # answer "A" placed in the conversation) under our number grammar (either scale) vs an integer-only 0-100 grammar, which
    # cuts "0.8" off after its "0".
    import asyncio

    from calibench.data import load_dataset, sample_study
    from calibench.elicit.protocols import NUMBER_GRAMMAR, PROTOCOLS
    from calibench.elicit.parser import parse_reply
    from calibench.models import ChatClient, LocalEngine

    questions = sample_study(load_dataset("mmlu")).questions[::19][:16]
    stated = PROTOCOLS["stated"]
    integer_only = 'root ::= " "? ("0" | [1-9] [0-9]{0,2}) "%"?\n'

    async def confidences(url, grammar):
        out = []
        async with ChatClient("m", [url]) as client:
            for q in questions:
                options = stated.options(q, temperature=0.0, seed=0)
                options = type(options)(**{**options.__dict__, "extra": {"grammar": grammar}})
                reply = await client.chat(stated.messages(q, answer="A"), options)
                out.append(parse_reply(reply.text, q.letters, kind="number").confidence)
        return np.array(out, dtype=float)

    with LocalEngine("smollm2-135m", context=1024) as engine:
        ours = asyncio.run(confidences(engine.base_url, NUMBER_GRAMMAR))
        integer = asyncio.run(confidences(engine.base_url, integer_only))
    assert np.mean(integer == 0) >= 0.75  # the failure mode is real on this model
    assert np.mean(ours == 0) <= 0.25  # and the number grammar avoids it


def test_remote_run_and_resume_asks_nothing_again(fault_server, tmp_path):
    cfg = remote_config(fault_server.base_url, tmp_path)
    run_study(cfg, show_progress=False)
    # the answer read (the model's own letter: no prefill on a plain OpenAI-compatible API), its
    # follow-ups stated and p-true, then verbalized and verbalized-json
    assert len(fault_server.requests) == 6 * 5
    assert cfg.protocols == ["stated", "p-true", "verbalized", "verbalized-json"]
    follow_up = next(r["body"]["messages"] for r in fault_server.requests if len(r["body"]["messages"]) > 2)
    assert follow_up[2] == {"role": "assistant", "content": "Answer: B"}  # the letter the server's first reply gave
    run_study(cfg, show_progress=False)
    assert len(fault_server.requests) == 30  # a rerun rebuilds the follow-ups from the store and asks nothing
    run = load_run(cfg.out_dir)
    # no logprobs and no True/False from this server: p-true reads nothing
    assert [p.parse.parse_rate for p in run.results.models[0].protocols] == [1.0, 0.0, 1.0, 1.0]
    assert {i["answer_source"] for i in run.items if i["protocol"] == "stated"} == {"constrained-letter"}


def test_resume_after_a_crash_loses_and_repeats_nothing(fault_server, tmp_path, monkeypatch):
    cfg = remote_config(fault_server.base_url, tmp_path, data={"limit": 10})
    original = Store.put
    calls = {"n": 0}

    def crashing_put(self, **kw):
        original(self, **kw)
        calls["n"] += 1
        if calls["n"] == 7:
            raise KeyboardInterrupt  # dies right after the 7th response is stored

    monkeypatch.setattr(Store, "put", crashing_put)
    with pytest.raises(KeyboardInterrupt):
        run_study(cfg, show_progress=False)
    stored_first = stored_bodies(cfg.out_dir / "responses.sqlite")
    asked_before = len(fault_server.requests)
    monkeypatch.setattr(Store, "put", original)
    run_study(cfg, show_progress=False)
    keys = request_keys(fault_server)
    assert len(stored_first) >= 7  # the 7th put raised; a request in flight beside it may have landed too
    assert not any(k in stored_first for k in keys[asked_before:])  # nothing stored was asked again
    assert set(keys) == stored_bodies(cfg.out_dir / "responses.sqlite")  # and nothing was lost
    with Store(cfg.out_dir / "responses.sqlite") as store:
        assert store.count() == {"ok": 50, "failed": 0}  # five requests a question, follow-ups built from stored answers
    assert len(load_run(cfg.out_dir).items) == 10 * 4


def test_quick_preset(fault_server, tmp_path):
    from calibench.cli import main

    assert main(["run", "--model", f"m@{fault_server.base_url}", "--quick", "--protocol", "verbalized",
                 "--out", str(tmp_path / "q"), "--quiet"]) == 0
    run = load_run(tmp_path / "q")
    assert len(run.items) == 60 and run.results.study == "study-quick"
    assert run.results.models[0].timing.requests == 60 and run.results.models[0].timing.floor_s is None  # no engine timings


def test_a_remote_model_is_given_its_family_and_size_in_the_study_file(fault_server, tmp_path):
    fault_server.default = lambda body: ("ok", "Answer: B\nConfidence: 80%")
    cfg = parse_config({"name": "sized", "out": str(tmp_path / "run"), "protocols": ["verbalized"], "data": {"limit": 2},
                        "metrics": {"n_boot": 50},
                        "models": [{"name": "llama-8b", "family": "Llama 3", "parameters": 8.0e9,
                                    "endpoints": [{"base_url": fault_server.base_url, "max_concurrency": 1}]}]})
    model = load_run(run_study(cfg, show_progress=False)).results.models[0]
    assert (model.family, model.parameters) == ("Llama 3", 8.0e9)


def test_the_cli_says_when_answers_failed(fault_server, tmp_path, capsys):
    from calibench.cli import main

    fault_server.default = ("status", 400, "bad request")
    code = main(["run", "--model", f"m@{fault_server.base_url}", "--limit", "1", "--protocol", "verbalized",
                 "--out", str(tmp_path / "run"), "--quiet"])
    assert code == 0
    err = capsys.readouterr().err
    assert "1 request(s) failed, no reply (first error: " in err and "HTTP 400" in err and "asked again" in err
    run = load_run(tmp_path / "run")
    proto = run.results.models[0].protocols[0]
    # a failure is not an unparsed answer: no rate and no missing-data policy counts it
    assert (proto.parse.failed, proto.parse.n, proto.parse.parse_rate) == (1, 0, 0.0)
    assert all(row.n == 0 for row in proto.missing_data)
    assert "1 answer(s) got no reply" in " ".join(caveats(run.results))
    assert headline(run.results)[0].startswith("Nothing is measured: 1 answer(s) got no reply")


def test_failed_requests_are_stored_then_retried_on_resume(fault_server, tmp_path):
    fault_server.default = ("status", 400, "bad request")
    cfg = remote_config(fault_server.base_url, tmp_path, data={"limit": 2}, max_failed=100)
    run_study(cfg, show_progress=False)
    run = load_run(cfg.out_dir)
    assert {i["status"] for i in run.items} == {"failed"} and "HTTP 400" in run.items[0]["error"]
    assert run.results.models[0].protocols[0].parse.counts["failed"] == 2
    fault_server.default = ("ok", "Answer: C\nConfidence: 70%")
    run_study(cfg, show_progress=False)
    run = load_run(cfg.out_dir)
    verbalized = [i for i in run.items if i["protocol"] == "verbalized"]
    assert all(i["status"] == "ok" and i["letter"] == "C" and i["confidence"] == pytest.approx(0.7) for i in verbalized)


def test_missing_data_policies_and_repetitions(fault_server, tmp_path):
    fault_server.script.extend([("ok", "no idea"), ("ok", "no idea")] + [("ok", "Answer: B\nConfidence: 90%")] * 10)
    cfg = remote_config(fault_server.base_url, tmp_path, data={"limit": 3}, sampling={"repetitions": 2, "temperature": 0.7},
                        protocols=["verbalized"])
    run = load_run(run_study(cfg, show_progress=False))
    proto = run.results.models[0].protocols[0]
    assert proto.parse.n == 6 and len(proto.runs) == 2
    rows = {r.policy: r for r in proto.missing_data}
    assert rows["complete_case"].n == proto.parse.parsed and rows["hle"].n == 6 and rows["zero"].n == 6
    assert rows["hle"].mean_confidence >= rows["complete_case"].mean_confidence * (proto.parse.parsed / 6)
    assert rows["worst_case"].ece.value >= rows["best_case"].ece.value
    seeds = sorted({r["body"].get("seed") for r in fault_server.requests})
    assert seeds == [0, 1]  # one seed per repetition


@pytest.mark.parametrize("example", ["nim-reference", "openai", "vllm"])
def test_examples_run_against_a_local_server(example, fault_server, tmp_path, monkeypatch):
    monkeypatch.setenv("NVIDIA_API_KEY", "test-key-not-real")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key-not-real")
    data = load_config(EXAMPLES / f"{example}.toml")
    for model in data["models"]:
        for endpoint in model["endpoints"]:
            endpoint["base_url"] = fault_server.base_url
            # NIM's free-tier limit ships in its example; keeping it here would make this test a minute
            # long (tests/models/test_rate_limit.py tests the limiter itself)
            assert endpoint.pop("requests_per_minute", 40) == 40
    data["out"] = str(tmp_path / example)
    data["data"]["limit"] = 2
    data["metrics"] = {"n_boot": 50}
    cfg = parse_config(data)
    run = load_run(run_study(cfg, show_progress=False))
    reps = cfg.sampling.repetitions
    assert len(run.items) == len(cfg.models) * 2 * reps * len(cfg.protocols)
    assert {r["body"]["model"] for r in fault_server.requests} == {m.name for m in cfg.models}


def test_items_as_a_dataframe(fault_server, tmp_path):
    pd = pytest.importorskip("pandas")
    cfg = remote_config(fault_server.base_url, tmp_path, data={"limit": 2})
    frame = load_run(run_study(cfg, show_progress=False)).items_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 2 * 4 and "confidence" in frame.columns


def test_load_run_refuses_what_is_not_a_run(tmp_path):
    from calibench.errors import CalibenchError

    with pytest.raises(CalibenchError, match="not a finished run"):
        load_run(tmp_path)
    (tmp_path / "results.json").write_text('{"schema_version": 99}')
    (tmp_path / "items.jsonl").write_text("")
    with pytest.raises(CalibenchError, match="does not match the results schema"):
        load_run(tmp_path)


def test_signals_compare_stated_and_letter_confidence_and_consistency(fault_server, tmp_path):
    fault_server.default = ("ok", "Answer: B\nConfidence: 90%")
    fault_server.script.extend([("ok", "Answer: A\nConfidence: 60%")] * 3)
    cfg = remote_config(fault_server.base_url, tmp_path, data={"limit": 4}, sampling={"repetitions": 3, "temperature": 0.8},
                        protocols=["verbalized"])
    model = load_run(run_study(cfg, show_progress=False)).results.models[0]
    (consistency,) = model.signals.consistency
    assert consistency.repetitions == 3 and consistency.n_questions == 4
    assert 0 < consistency.mean_confidence <= 1
    assert model.signals.comparisons == []  # this server returns no logprobs


def test_fixture_signals_pair_the_same_answers():
    from calibench.study.run import load_results

    results = load_results(Path(__file__).parents[1] / "fixtures" / "run")
    qwen = results.models[1]
    pair = next(c for c in qwen.signals.comparisons if c.stated_protocol == "verbalized-json")
    proto = next(p for p in qwen.protocols if p.protocol == "verbalized-json")
    assert pair.n == proto.parse.parsed and pair.stated_ece == pytest.approx(proto.panel.metrics["ece"].value)


def test_a_study_never_writes_its_key(fault_server, tmp_path, monkeypatch, capsys):
    from calibench.cli import main

    secret = "nvapi-STUDY-SECRET-42"
    monkeypatch.setenv("STUDY_KEY", secret)
    fault_server.script.append(("status", 400, f"bad request for key {secret}"))  # echoed back in an error
    code = main(["run", "--model", f"m@{fault_server.base_url}", "--api-key-env", "STUDY_KEY", "--limit", "3",
                 "--out", str(tmp_path / "run"), "--quiet"])
    assert code == 0
    assert all(r["headers"]["Authorization"] == f"Bearer {secret}" for r in fault_server.requests)
    with Store(tmp_path / "run" / "responses.sqlite") as store:
        assert store.count()["failed"] == 1  # the 400 is stored as a failure, redacted
    out, err = capsys.readouterr()
    files = [p for p in (tmp_path / "run").rglob("*") if p.is_file()]
    assert {"responses.sqlite", "results.json", "items.jsonl", "report.html", "config.json"} <= {p.name for p in files}
    assert not any(secret.encode() in p.read_bytes() for p in files)
    assert secret not in out + err
    assert "***" in (tmp_path / "run" / "items.jsonl").read_text()


def test_a_key_refused_mid_run_stops_it_and_a_rerun_resumes(fault_server, tmp_path, monkeypatch, capsys):
    from calibench.cli import main

    secret = "nvapi-REVOKED-7"
    monkeypatch.setenv("STUDY_KEY", secret)
    args = ["run", "--model", f"m@{fault_server.base_url}", "--api-key-env", "STUDY_KEY", "--limit", "20",
            "--protocol", "verbalized", "--out", str(tmp_path / "run"), "--quiet", "--concurrency", "2"]
    fault_server.script.extend([("ok", "Answer: A\nConfidence: 60%")] * 2)
    fault_server.default = ("status", 401, f"revoked {secret}")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "HTTP 401 Unauthorized" in err and "run the same command to resume" in err and secret not in err
    assert len(err.strip().splitlines()) == 1
    sent = len(fault_server.requests)
    assert sent <= 2 + 2  # the two answered, then no new request once a 401 came back (two at a time)
    with Store(tmp_path / "run" / "responses.sqlite") as store:
        assert store.count()["ok"] == 2
    fault_server.default = ("ok", "Answer: C\nConfidence: 70%")  # a new key
    assert main(args) == 0
    assert len(fault_server.requests) == sent + 18  # only the 18 not yet answered are asked
    assert {i["status"] for i in load_run(tmp_path / "run").items} == {"ok"}


def test_max_failed_ends_the_run_and_a_rerun_resumes(fault_server, tmp_path, capsys):
    from calibench.cli import main

    args = ["run", "--model", f"m@{fault_server.base_url}", "--limit", "20", "--protocol", "verbalized",
            "--out", str(tmp_path / "run"), "--quiet", "--max-failed", "3"]
    fault_server.default = ("status", 400, "bad request")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "4 requests failed, more than max_failed allows (3" in err
    fault_server.default = ("ok", "Answer: C\nConfidence: 70%")
    assert main(args) == 0
    run = load_run(tmp_path / "run")
    assert len(run.items) == 20 and {i["status"] for i in run.items} == {"ok"}


def test_an_endpoint_that_goes_down_trips_the_breaker(fault_server, tmp_path, monkeypatch):
    from calibench.models import client
    from calibench.models.client import ENDPOINT_BREAKER
    from calibench.study.failures import RunStopped

    monkeypatch.setattr(client, "BREAKER_S", 0.0)  # no minimum duration: ten failures drop it

    cfg = remote_config(fault_server.base_url, tmp_path, data={"limit": 30}, protocols=["verbalized"], max_failed=100)
    cfg.models[0].retry.max_attempts = 1
    fault_server.default = ("status", 503, "down")
    with pytest.raises(RunStopped, match=f"every endpoint is down .*{ENDPOINT_BREAKER} attempts in a row failed over"):
        run_study(cfg, show_progress=False)
    assert len(fault_server.requests) < 30  # stopped, not sent to the end
    with Store(cfg.out_dir / "responses.sqlite") as store:
        assert store.count()["ok"] == 0 and store.count()["failed"] >= ENDPOINT_BREAKER


def test_a_dead_endpoint_of_two_is_dropped_and_the_run_goes_on(fault_server, tmp_path, capsys, monkeypatch):
    from calibench.models import client
    from calibench.models.client import ENDPOINT_BREAKER

    monkeypatch.setattr(client, "BREAKER_S", 0.0)

    dead = type(fault_server)()
    dead.default = ("status", 502, "bad gateway")
    try:
        cfg = remote_config(fault_server.base_url, tmp_path, data={"limit": 40}, protocols=["verbalized"], max_failed=100)
        cfg.models[0].endpoints.append(cfg.models[0].endpoints[0].model_copy(update={"base_url": dead.base_url}))
        cfg.models[0].retry.backoff_base_s = 0.001
        run_study(cfg, show_progress=False, console=Console(stderr=True))
        # dropped once its tenth attempt in a row failed; only requests already in flight (concurrency 4) came after
        assert ENDPOINT_BREAKER <= len(dead.requests) <= ENDPOINT_BREAKER + 3
        assert f"{dead.base_url} dropped: {ENDPOINT_BREAKER} attempts in a row failed over" in capsys.readouterr().err
        assert {i["status"] for i in load_run(cfg.out_dir).items} == {"ok"}
    finally:
        dead.close()


def test_a_run_directory_never_takes_another_study(fault_server, tmp_path, capsys):
    from calibench.cli import main

    base = ["run", "--model", f"m@{fault_server.base_url}", "--out", str(tmp_path / "run"), "--quiet"]
    assert main(base + ["--limit", "2", "--protocol", "verbalized"]) == 0
    results = (tmp_path / "run" / "results.json").read_bytes()
    capsys.readouterr()
    assert main(base + ["--limit", "2", "--protocol", "verbalized-json"]) == 2
    err = capsys.readouterr().err
    assert "holds another study (it differs in protocols)" in err and "--out" in err and len(err.strip().splitlines()) == 1
    assert (tmp_path / "run" / "results.json").read_bytes() == results  # nothing was overwritten
    asked = len(fault_server.requests)
    assert main(base + ["--limit", "4", "--protocol", "verbalized"]) == 0  # the same study, asked further: a resume
    assert len(fault_server.requests) == asked + 2


def test_a_run_from_an_older_config_without_newer_fields_still_resumes(fault_server, tmp_path):
    cfg = remote_config(fault_server.base_url, tmp_path, data={"limit": 2}, protocols=["verbalized"])
    run_study(cfg, show_progress=False)
    stored = json.loads((cfg.out_dir / "config.json").read_text())
    del stored["data"]["permutations"], stored["max_failed"]  # written before those fields existed
    (cfg.out_dir / "config.json").write_text(json.dumps(stored))
    asked = len(fault_server.requests)
    run_study(cfg, show_progress=False)  # the same study: resumed, nothing asked again
    assert len(fault_server.requests) == asked
