"""Shared fixtures: a scripted OpenAI-compatible HTTP server on 127.0.0.1 for fault tests."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


def completion(text: str = "Answer: B\nConfidence: 80%") -> dict:
    return {
        "id": "x",
        "object": "chat.completion",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


class FaultServer:
    """Answers POST /v1/chat/completions from a script of behaviours, then with a default one.

    A behaviour is a tuple: ("ok", text), ("status", code, body, headers), ("raw", bytes),
    ("slow", seconds), ("reset",). Every request is recorded (path, headers, body).
    """

    def __init__(self):
        self.script: deque = deque()
        self.default = ("ok", "Answer: B\nConfidence: 80%")
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                with server.lock:
                    server.requests.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
                    action = server.script.popleft() if server.script else server.default
                kind = action[0]
                if kind == "reset":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if kind == "slow":
                    time.sleep(action[1])
                    action = ("ok", "late")
                    kind = "ok"
                if kind == "ok":
                    self._send(200, json.dumps(completion(action[1])).encode())
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
