"""The preflight: one minimal request per remote endpoint before a study stores anything."""

import json
import socket
import time

import pytest

from calibench.cli import main
from calibench.models.client import Endpoint
from calibench.models.preflight import PreflightError, preflight


def run_cli(url, tmp_path, *extra):
    return main(["run", "--model", f"m@{url}", "--limit", "2", "--protocol", "verbalized", "--protocol", "p-true",
                 "--out", str(tmp_path / "run"), "--quiet", *extra])


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"  # nothing listens there once the socket is closed


def nothing_stored(tmp_path):
    return not (tmp_path / "run" / "responses.sqlite").exists()


def test_an_unreachable_endpoint_is_one_line_and_exit_2_within_seconds(tmp_path, capsys):
    url = closed_port_url()
    start = time.perf_counter()
    assert run_cli(url, tmp_path) == 2
    assert time.perf_counter() - start < 10
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and url in err and "is not answering" in err and "ConnectError" in err
    assert nothing_stored(tmp_path)


def test_a_refused_key_stops_after_one_request(fault_server, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BAD_KEY", "sk-wrong")
    fault_server.probe = ("status", 401, json.dumps({"error": "Unauthorized"}))
    assert run_cli(fault_server.base_url, tmp_path, "--api-key-env", "BAD_KEY") == 2
    err = capsys.readouterr().err
    assert "refused the request (HTTP 401): check the key in $BAD_KEY" in err and "sk-wrong" not in err
    assert len(fault_server.probes) == 1 and fault_server.requests == []  # not one question was sent
    assert nothing_stored(tmp_path)


def test_a_model_the_endpoint_does_not_serve(fault_server, tmp_path, capsys):
    fault_server.probe = ("status", 404, json.dumps({"error": "model not found"}))
    assert run_cli(fault_server.base_url, tmp_path) == 2
    err = capsys.readouterr().err
    assert "answered 404 for model 'm'" in err and "it serves" not in err and fault_server.requests == []
    # where the endpoint lists its models, the line names them and the one probably meant
    fault_server.models = ["meta/llama-3.1-8b-instruct", "meta/llama-3.2-1b-instruct"]
    assert main(["run", "--model", f"meta/llama-3.1-8b-instruc@{fault_server.base_url}", "--limit", "1",
                 "--protocol", "verbalized", "--out", str(tmp_path / "other"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "it serves meta/llama-3.1-8b-instruct, meta/llama-3.2-1b-instruct (did you mean meta/llama-3.1-8b-instruct?)" in err


def test_every_kind_of_request_is_tried_and_a_missing_feature_names_its_protocols(fault_server, tmp_path, capsys):
    # an endpoint that refuses response_format, which verbalized-json and (on an OpenAI backend) stated's number need
    fault_server.probe = lambda body: ("status", 400, "response_format is not supported") if body.get("response_format") else ("ok", "A")
    assert main(["run", "--model", f"m@{fault_server.base_url}", "--limit", "1", "--protocol", "verbalized-json",
                 "--protocol", "stated", "--out", str(tmp_path / "run"), "--quiet"]) == 2
    err = capsys.readouterr().err
    # the first kind sent is the answer read's (a constrained letter with its top_logprobs)
    assert "rejected a request with top_logprobs=20, response_format (json_schema) for 'm', which the answer read needs: " in err
    assert len(err.strip().splitlines()) == 1 and fault_server.requests == [] and nothing_stored(tmp_path)


def test_logprobs_the_protocols_need_must_come_back(fault_server, tmp_path, capsys):
    fault_server.probe = ("raw", json.dumps({"choices": [{"message": {"role": "assistant", "content": "A"}}]}).encode())
    assert run_cli(fault_server.base_url, tmp_path) == 2
    err = capsys.readouterr().err
    assert "returned no top_logprobs for 'm', which the answer read needs" in err
    # a study that reads no logprobs does not ask for them
    assert main(["run", "--model", f"m@{fault_server.base_url}", "--limit", "1", "--protocol", "verbalized",
                 "--out", str(tmp_path / "other"), "--quiet"]) == 0
    assert "logprobs" not in fault_server.probes[-1]["body"]


def test_a_finished_run_re_renders_without_its_endpoint(fault_server, tmp_path):
    assert run_cli(fault_server.base_url, tmp_path) == 0
    # one per kind of request: the constrained answer read, p-true (top_logprobs) and verbalized (plain)
    assert len(fault_server.probes) == 3 and {p["body"]["max_tokens"] for p in fault_server.probes} == {1}
    url = fault_server.base_url
    fault_server.close()  # the endpoint is gone: nothing is left to ask, so nothing is checked
    assert run_cli(url, tmp_path) == 0


def test_preflight_from_python_names_the_endpoint():
    url = closed_port_url()
    with pytest.raises(PreflightError, match="is not answering"):
        preflight("m", [Endpoint(url)], [])


def test_a_resume_checks_again_and_keeps_what_was_stored(fault_server, tmp_path, capsys):
    fault_server.default = ("status", 500, "down")  # every question fails: stored as failures, asked again later
    assert main(["run", "--model", f"m@{fault_server.base_url}", "--limit", "1", "--protocol", "verbalized",
                 "--out", str(tmp_path / "run"), "--quiet"]) == 0
    stored = (tmp_path / "run" / "responses.sqlite").read_bytes()
    fault_server.probe = ("status", 401, "no")  # the key was revoked since
    assert main(["run", "--model", f"m@{fault_server.base_url}", "--limit", "1", "--protocol", "verbalized",
                 "--out", str(tmp_path / "run"), "--quiet"]) == 2
    assert "HTTP 401" in capsys.readouterr().err
    assert (tmp_path / "run" / "responses.sqlite").read_bytes() == stored


def test_probes_are_the_distinct_kinds_of_request():
    from calibench.models.client import SamplingOptions
    from calibench.models.preflight import probes

    schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}
    user = [{"role": "user", "content": "q"}]
    kinds = probes([
        ("answer", user + [{"role": "assistant", "content": "Answer:"}], SamplingOptions(max_tokens=1, logprobs=True, top_logprobs=20)),
        ("stated", user, SamplingOptions(max_tokens=12, response_format=schema)),
        ("verbalized", user, SamplingOptions(max_tokens=32)),
        ("verbalized-json", user, SamplingOptions(max_tokens=40, response_format={**schema, "other": 1})),
    ])
    assert [k.protocols for k in kinds] == [("answer",), ("stated", "verbalized-json"), ("verbalized",)]
    assert [k.features for k in kinds] == ["top_logprobs=20, an assistant prefill", "response_format (json_schema)", "a plain request"]
    messages, options = kinds[0].request()
    assert messages[-1] == {"role": "assistant", "content": "Answer:"} and options.max_tokens == 1 and options.top_logprobs == 20
