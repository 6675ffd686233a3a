import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from calibench.errors import CalibenchError
from calibench.study.store import Store, request_key


def key(i=0, **kw):
    spec = dict(model="m", model_sha256=None, body={"messages": [i]}, protocol_version="v@1", question_id=f"q{i}", repetition=0)
    spec.update(kw)
    return request_key(**spec)


def put(store, k, **outcome):
    store.put(key=k, model="m", protocol="verbalized", question_id="q", repetition=0, request={"messages": []}, **outcome)


def test_key_covers_model_body_protocol_question_and_repetition():
    base = key()
    assert key() == base
    for change in ({"model": "n"}, {"model_sha256": "abc"}, {"body": {"messages": [1]}}, {"protocol_version": "v@2"},
                   {"question_id": "other"}, {"repetition": 1}):
        assert key(**change) != base


def test_success_is_kept_failure_is_replaced(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        put(store, "a", error="HTTP 500")
        assert store.done_keys() == set() and store.count() == {"ok": 0, "failed": 1}
        put(store, "a", response={"choices": [{"message": {"content": "x"}}]}, attempts=2)
        assert store.done_keys() == {"a"}
        put(store, "a", response={"choices": [{"message": {"content": "OVERWRITE"}}]})
        put(store, "a", error="late failure")
        got = store.get("a")
        assert got.ok and got.response["choices"][0]["message"]["content"] == "x" and got.attempts == 2
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_not_a_store(tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CalibenchError, match="not a usable calibench store"):
        Store(junk)


def test_responses_survive_sigkill(tmp_path):
    # A writer stores 50 responses, then hangs; SIGKILL it; all 50 are there.
    script = textwrap.dedent(
        f"""
        import sys, time
        from calibench.study.store import Store
        s = Store({str(tmp_path / "k.sqlite")!r})
        for i in range(50):
            s.put(key=str(i), model="m", protocol="p", question_id=str(i), repetition=0, request={{}}, response={{"i": i}})
        print("stored", flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "stored"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with Store(tmp_path / "k.sqlite") as store:
        assert store.count() == {"ok": 50, "failed": 0}
        assert store.get("49").response == {"i": 49}


def test_a_junk_response_is_stored_capped_with_its_size_and_hash(tmp_path):
    import hashlib
    import json

    from calibench.study.store import STORED_BYTES_MAX

    junk = {"id": "x", "junk": "\u00e9" * 2_000_000, "usage": {"prompt_tokens": 3},
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Answer: B"},
                         "extra": "y" * 10}]}
    small = {"choices": [{"message": {"content": "Answer: C"}}]}
    with Store(tmp_path / "s.sqlite") as store:
        store.put(key="k", model="m", protocol="p", question_id="q", repetition=0, request={}, response=junk)
        store.put(key="s", model="m", protocol="p", question_id="q", repetition=0, request={}, response=small)
        stored, kept = store.get("k").response, store.get("s").response
    whole = json.dumps(junk, ensure_ascii=False).encode()
    assert stored == {"id": "x", "usage": {"prompt_tokens": 3},
                      "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Answer: B"}}],
                      "calibench_capped": {"bytes": len(whole), "sha256": hashlib.sha256(whole).hexdigest(), "reply_chars": 9}}
    assert len(whole) > STORED_BYTES_MAX and kept == small  # a response under the cap is stored as it came
    # the cap is in bytes: 600,000 two-byte characters are over it, 300,000 are not
    with Store(tmp_path / "s.sqlite") as store:
        for n in (300_000, 600_000):
            store.put(key=f"e{n}", model="m", protocol="p", question_id="q", repetition=0, request={},
                      response={"choices": [{"message": {"content": "\u00e9" * n}}]})
        assert "calibench_capped" not in store.get("e300000").response
        assert store.get("e600000").response["calibench_capped"]["reply_chars"] == 600_000
