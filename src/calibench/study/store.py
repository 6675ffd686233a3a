"""The response store: every request and raw response in SQLite, written the moment it arrives.

One row per request key: a hash of the model (id and sha256), the endpoint-independent
request body (messages and sampling options), the protocol version, the question id and
the repetition. The database runs in WAL mode with full synchronous commits, one
transaction per response, so a study killed at any point (Ctrl-C, SIGKILL) keeps every
response it had received. A failed request is stored with its error and asked again on
resume; a stored success is never asked again, and never overwritten.

A response over ``STORED_BYTES_MAX`` (a misbehaving server's junk) is stored capped
(:func:`capped`): its first choice with the reply cut to ``KEPT_REPLY_CHARS`` (five times what
the parser reads), with the full response's size and sha256 beside it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from calibench.elicit.parser import MAX_REPLY_CHARS
from calibench.errors import CalibenchError

STORED_BYTES_MAX = 1_000_000
KEPT_REPLY_CHARS = 5 * MAX_REPLY_CHARS
KEPT_LOGPROB_TOKENS = 1000

SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    protocol TEXT NOT NULL,
    question_id TEXT NOT NULL,
    repetition INTEGER NOT NULL,
    request TEXT NOT NULL,
    ok INTEGER NOT NULL,
    response TEXT,
    error TEXT,
    attempts INTEGER,
    latency_s REAL,
    endpoint TEXT,
    stored_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS by_model ON responses (model, protocol);
CREATE TABLE IF NOT EXISTS sessions (
    model TEXT NOT NULL,
    started_at REAL NOT NULL,
    wall_s REAL NOT NULL,
    requests INTEGER NOT NULL,
    prompt_s REAL NOT NULL,
    generation_s REAL NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    cached_tokens INTEGER NOT NULL,
    generated_tokens INTEGER NOT NULL
);
"""


def request_key(*, model: str, model_sha256: str | None, body: dict, protocol_version: str, question_id: str, repetition: int) -> str:
    """The store key of one request; see the module docstring for what it covers."""
    spec = {
        "model": model,
        "model_sha256": model_sha256,
        "body": body,
        "protocol": protocol_version,
        "question": question_id,
        "repetition": repetition,
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class StoredResponse:
    key: str
    model: str
    protocol: str
    question_id: str
    repetition: int
    ok: bool
    response: dict | None
    error: str | None
    attempts: int | None
    latency_s: float | None
    endpoint: str | None


class Store:
    """A study's SQLite store (``responses.sqlite`` in the run directory)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise CalibenchError(f"{self.path}: not a usable calibench store ({exc})") from None
        except OSError as exc:
            raise CalibenchError(f"{self.path}: cannot be opened ({exc.strerror})") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def done_keys(self) -> set[str]:
        """Keys whose response is stored successfully: never asked again."""
        return {row[0] for row in self._db.execute("SELECT key FROM responses WHERE ok = 1")}

    def put(self, *, key: str, model: str, protocol: str, question_id: str, repetition: int, request: dict,
            response: dict | None = None, error: str | None = None, attempts: int | None = None,
            latency_s: float | None = None, endpoint: str | None = None) -> None:
        """Store one outcome in its own transaction. A success is never replaced; a failure is,
        by a later success or a later failure."""
        ok = response is not None
        self._db.execute(
            """INSERT INTO responses (key, model, protocol, question_id, repetition, request, ok, response, error,
                                      attempts, latency_s, endpoint, stored_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (key) DO UPDATE SET ok = excluded.ok, response = excluded.response, error = excluded.error,
                   attempts = excluded.attempts, latency_s = excluded.latency_s, endpoint = excluded.endpoint,
                   stored_at = excluded.stored_at
               WHERE responses.ok = 0""",
            (key, model, protocol, question_id, repetition, json.dumps(request, ensure_ascii=False), int(ok),
             _serialized(response) if ok else None, error, attempts, latency_s, endpoint, time.time()),
        )

    def get(self, key: str) -> StoredResponse | None:
        row = self._db.execute(
            "SELECT key, model, protocol, question_id, repetition, ok, response, error, attempts, latency_s, endpoint "
            "FROM responses WHERE key = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        return StoredResponse(row[0], row[1], row[2], row[3], row[4], bool(row[5]), json.loads(row[6]) if row[6] else None, *row[7:])

    def add_session(self, model: str, *, started_at: float, wall_s: float, requests: int, prompt_s: float,
                    generation_s: float, prompt_tokens: int, cached_tokens: int, generated_tokens: int) -> None:
        """Record how long one sitting spent asking a model, and what the engine reported doing."""
        self._db.execute(
            "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (model, started_at, wall_s, requests, prompt_s, generation_s, prompt_tokens, cached_tokens, generated_tokens),
        )

    def sessions(self, model: str) -> list[dict]:
        cursor = self._db.execute("SELECT * FROM sessions WHERE model = ? ORDER BY started_at", (model,))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def count(self) -> dict[str, int]:
        ok, failed = self._db.execute("SELECT COALESCE(SUM(ok), 0), COALESCE(SUM(1 - ok), 0) FROM responses").fetchone()
        return {"ok": int(ok), "failed": int(failed)}


def _serialized(response: dict) -> str:
    text = json.dumps(response, ensure_ascii=False)
    if len(text) <= STORED_BYTES_MAX // 4:  # at most 4 bytes a character: under the cap without encoding
        return text
    whole = text.encode("utf-8")
    if len(whole) <= STORED_BYTES_MAX:
        return text
    return json.dumps(capped(response, size=len(whole), sha256=hashlib.sha256(whole).hexdigest()), ensure_ascii=False)


def capped(response: dict, *, size: int, sha256: str) -> dict:
    """What is stored of a response too large to keep: its first choice, the reply cut to
    ``KEPT_REPLY_CHARS`` and the logprobs to the first ``KEPT_LOGPROB_TOKENS`` tokens, its
    usage and timings, and ``calibench_capped``: the whole response's size in bytes and sha256
    (of it as JSON) and the reply's length in characters."""
    choices = response.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
    first = {k: choice[k] for k in ("index", "finish_reason") if k in choice}
    message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
    content = message.get("content")
    if message:
        first["message"] = {"role": message.get("role"), "content": content[:KEPT_REPLY_CHARS] if isinstance(content, str) else None}
    logprobs = choice.get("logprobs")
    if isinstance(logprobs, dict) and isinstance(logprobs.get("content"), list):
        first["logprobs"] = {"content": logprobs["content"][:KEPT_LOGPROB_TOKENS]}
    # the rest only where small: the junk may be anywhere
    kept = {k: response[k] for k in ("id", "model", "usage", "timings") if k in response and len(json.dumps(response[k])) < 10_000}
    return {**kept, "choices": [first], "calibench_capped": {
        "bytes": size, "sha256": sha256, "reply_chars": len(content) if isinstance(content, str) else None}}
