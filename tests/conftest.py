"""Shared fixtures: a scripted OpenAI-compatible HTTP server on 127.0.0.1 for fault tests."""

from __future__ import annotations

import json
import random
import shutil
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from calibench.models.preflight import PROMPT as PREFLIGHT_PROMPT


def completion(text: str = "Answer: B\nConfidence: 80%", *, logprobs: bool = False) -> dict:
    """A chat completion of ``text``; with ``logprobs``, its first word as the one token, certain,
    as an OpenAI-compatible server returns them when asked."""
    choice = {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
    if logprobs:
        token = (text.split() or [""])[0]
        choice["logprobs"] = {"content": [{"token": token, "logprob": 0.0, "top_logprobs": [{"token": token, "logprob": 0.0}]}]}
    return {
        "id": "x",
        "object": "chat.completion",
        "choices": [choice],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


class FaultServer:
    """Answers POST /v1/chat/completions from a script of behaviours, then with a default one.

    A behaviour is a tuple: ("ok", text), ("status", code, body, headers), ("raw", bytes),
    ("slow", seconds), ("drip", seconds between bytes), ("big", bytes of reply text), ("reset",).
    With ``faults`` (behaviours) and ``fault_rate`` set, each unscripted request gets a
    random one of them at that rate (seeded), the default otherwise. The default may be a
    function of the request body that returns a behaviour. Every request is recorded (path,
    headers, body, arrival time). calibench's preflight probes (the one-token "Reply with the
    letter A." request) is answered with ``probe`` instead and recorded in ``probes``, so that
    scripts and request counts speak of the study's own requests; ``models`` is what GET
    /v1/models lists. With ``rate_limit`` set to
    (n, seconds), a request that would make more than n in any such window is answered 429
    (counted in ``throttled``, not in ``requests``).
    """

    def __init__(self):
        self.script: deque = deque()
        self.default = ("ok", "Answer: B\nConfidence: 80%")
        self.requests: list[dict] = []
        self.faults: list[tuple] = []
        self.probe = ("ok", "A")
        self.rate_limit: tuple[int, float] | None = None  # (requests, seconds): more in any such window get 429
        self.throttled = 0
        self.probes: list[dict] = []
        self.models: list[str] | None = None  # what GET /v1/models lists (None: 404, as where there is no list)
        self.fault_rate = 0.0
        self.rng = random.Random(0)
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                if self.path.endswith("/models") and server.models is not None:
                    self._send(200, json.dumps({"object": "list", "data": [{"id": m} for m in server.models]}).encode())
                else:
                    self._send(404, b'{"error": "not found"}')

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                with server.lock:
                    body = json.loads(body)
                    record = {"path": self.path, "headers": dict(self.headers), "body": body, "t": time.time()}
                    if body.get("messages", [])[:1] == PREFLIGHT_PROMPT and body.get("max_tokens") == 1:
                        server.probes.append(record)
                        action = server.probe
                    elif server.rate_limit and sum(r["t"] > record["t"] - server.rate_limit[1] for r in server.requests) >= server.rate_limit[0]:
                        server.throttled += 1  # over the limit: refused, and not counted as a request served
                        action = ("status", 429, "rate limit exceeded", {"Retry-After": "1"})
                    elif server.script:
                        server.requests.append(record)
                        action = server.script.popleft()
                    elif server.faults and server.rng.random() < server.fault_rate:
                        server.requests.append(record)
                        action = server.rng.choice(server.faults)
                    else:
                        server.requests.append(record)
                        action = server.default
                if callable(action):
                    action = action(body)
                kind = action[0]
                if kind == "reset":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if kind == "slow":
                    time.sleep(action[1])
                    action = ("ok", "late")
                    kind = "ok"
                if kind == "big":
                    action, kind = ("ok", "Answer: B\nConfidence: 80%\n" + "x" * action[1]), "ok"
                if kind == "drip":
                    payload = json.dumps(completion("Answer: B\nConfidence: 80%")).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    try:
                        for i in range(len(payload)):
                            self.wfile.write(payload[i : i + 1])
                            self.wfile.flush()
                            time.sleep(action[1])
                    except OSError:  # the client gave up
                        pass
                    return
                if kind == "ok":
                    self._send(200, json.dumps(completion(action[1], logprobs=bool(body.get("logprobs")))).encode())
                elif kind == "raw":
                    self._send(200, action[1])
                elif kind == "status":
                    self._send(action[1], action[2].encode(), action[3] if len(action) > 3 else {})

            def _send(self, code, payload, headers=None):
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        # a client that gave up on a slow or dripping reply breaks the pipe: expected here
        self.httpd.handle_error = lambda request, client_address: None
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fault_server():
    server = FaultServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def module_fault_server():
    """One scripted server for a whole test module (for module-scoped set-ups)."""
    server = FaultServer()
    yield server
    server.close()


@pytest.fixture(autouse=True, scope="session")
def _private_model_cache(tmp_path_factory):
    """Tests never write into the user's model cache: they run with ``CALIBENCH_CACHE`` set to a
    directory of links to the assembled models and a copy of the file-hash index (so the
    installed models are neither assembled nor hashed again). Subprocesses inherit it."""
    from calibench.models.ladder import cache_dir

    real = cache_dir() / "models"
    private = tmp_path_factory.mktemp("cache")
    (private / "models").mkdir()
    for path in real.glob("*") if real.is_dir() else []:
        if path.name == "sha256.json":
            shutil.copyfile(path, private / "models" / path.name)
        elif path.suffix == ".gguf":
            (private / "models" / path.name).symlink_to(path)
    patch = pytest.MonkeyPatch()
    patch.setenv("CALIBENCH_CACHE", str(private))
    yield
    patch.undo()
