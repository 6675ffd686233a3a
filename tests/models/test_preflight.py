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
    assert "answered 404 for model 'm'" in capsys.readouterr().err and fault_server.requests == []


def test_logprobs_the_protocols_need_must_come_back(fault_server, tmp_path, capsys):
    fault_server.probe = ("raw", json.dumps({"choices": [{"message": {"role": "assistant", "content": "A"}}]}).encode())
    assert run_cli(fault_server.base_url, tmp_path) == 2
    err = capsys.readouterr().err
    assert "returned no top_logprobs for 'm', which the logprob and p-true protocols need" in err
    # a study that reads no logprobs does not ask for them
    assert main(["run", "--model", f"m@{fault_server.base_url}", "--limit", "1", "--protocol", "verbalized",
                 "--out", str(tmp_path / "other"), "--quiet"]) == 0
    assert "logprobs" not in fault_server.probes[-1]["body"]


def test_a_finished_run_re_renders_without_its_endpoint(fault_server, tmp_path):
    assert run_cli(fault_server.base_url, tmp_path) == 0
    assert len(fault_server.probes) == 1 and fault_server.probes[0]["body"]["max_tokens"] == 1
    url = fault_server.base_url
    fault_server.close()  # the endpoint is gone: nothing is left to ask, so nothing is checked
    assert run_cli(url, tmp_path) == 0


def test_preflight_from_python_names_the_endpoint():
    url = closed_port_url()
    with pytest.raises(PreflightError, match="is not answering"):
        preflight("m", [Endpoint(url)], logprobs=False)


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
