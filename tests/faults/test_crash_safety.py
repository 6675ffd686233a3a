"""Crash safety: the runner is killed with SIGKILL at random points of one study and resumed
each time. Nothing stored is lost, changed or duplicated, nothing stored is asked again,
no partial file is left, and the final results equal those of an uninterrupted run."""

import hashlib
import json
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from calibench.study import parse_config, run_study
from calibench.study.config import load_config

N_QUESTIONS = 80
KILLS = 6
OUTPUTS = ("config.json", "items.jsonl", "results.json", "report.html", "table.md")


def reply(body):
    """A deterministic answer per prompt, a few milliseconds late, so that a kill lands mid-run."""
    time.sleep(0.003)
    digest = int(hashlib.sha256(body["messages"][-1]["content"].encode()).hexdigest()[:8], 16)
    letter, confidence = "ABCD"[digest % 4], digest % 101
    if "response_format" in body:
        return ("ok", json.dumps({"answer": letter, "confidence": confidence}))
    return ("ok", f"Answer: {letter}\nConfidence: {confidence}%")


def body_hash(body):
    body = {k: v for k, v in body.items() if k != "model"}  # the store keeps the body without the model id
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def stored(db_path: Path) -> dict:
    """Every stored row by key: (request hash, response, stored_at)."""
    if not db_path.exists():
        return {}
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = db.execute("SELECT key, request, response, ok, stored_at FROM responses").fetchall()
    except sqlite3.OperationalError:  # killed before the table was created
        return {}
    finally:
        db.close()
    return {key: (body_hash(json.loads(request)), response, ok, at) for key, request, response, ok, at in rows}


def assert_outputs_whole(out: Path) -> None:
    """Any output present parses completely: the old file or the new one, never a partial one."""
    for name in OUTPUTS:
        path = out / name
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        if name.endswith(".json"):
            json.loads(text)
        elif name.endswith(".jsonl"):
            [json.loads(line) for line in text.splitlines()]
        elif name.endswith(".html"):
            assert text.rstrip().endswith("</html>")


def normalized(out: Path) -> tuple:
    """results.json and items.jsonl without what depends on when and how often the run sat."""
    results = json.loads((out / "results.json").read_text())
    results["config"].pop("out")
    for field in ("started_at", "finished_at"):
        results["provenance"].pop(field)
    for model in results["models"]:
        model.pop("timing")
    items = [json.loads(line) for line in (out / "items.jsonl").read_text().splitlines()]
    for item in items:
        item.pop("latency_s")
    return results, items


def write_config(path: Path, url: str, out: Path) -> Path:
    path.write_text(
        f'name = "crash"\nout = "{out}"\nprotocols = ["stated", "p-true", "verbalized", "verbalized-json"]\n'
        f"[data]\nn_total = {N_QUESTIONS}\n[metrics]\nn_boot = 100\n"
        f'[[models]]\nname = "m"\nendpoints = [{{ base_url = "{url}", max_concurrency = 4 }}]\n'
    )
    return path


def test_sigkill_at_random_points_then_resume(fault_server, tmp_path):
    fault_server.default = reply
    twin = run_study(parse_config(load_config(write_config(tmp_path / "twin.toml", fault_server.base_url, tmp_path / "twin"))),
                     show_progress=False)
    fault_server.requests.clear()

    out = tmp_path / "run"
    config = write_config(tmp_path / "study.toml", fault_server.base_url, out)
    command = [sys.executable, "-m", "calibench", "run", str(config), "--quiet"]
    db = out / "responses.sqlite"
    # the answer read, its follow-ups stated and p-true (built from the stored answer on resume),
    # verbalized and verbalized-json
    total = 5 * N_QUESTIONS
    rng = random.Random(20261128)
    kills = []  # (how the kill point was chosen, rows stored before, rows stored after)
    for attempt in range(KILLS):
        before = stored(db)
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if attempt == 0:
            how = "at a random time in start-up"
            time.sleep(rng.uniform(0.05, 1.0))
        elif attempt == KILLS - 1:
            how = "after the last response, while results are computed and written"
            while len(stored(db)) < total and proc.poll() is None:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.8))
        else:
            how = "after a random number of stored responses"
            target = rng.randint(len(before) + 1, total - 1)
            while len(stored(db)) < target and proc.poll() is None:
                time.sleep(0.002)
        proc.kill()
        proc.wait()
        after = stored(db)
        kills.append((how, len(before), len(after)))
        # nothing stored was lost or changed
        assert all(after.get(key) == row for key, row in before.items())
        assert_outputs_whole(out)

    finished = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    final = stored(db)
    assert len(final) == total and all(row[2] == 1 for row in final.values())
    assert len({row[0] for row in final.values()}) == total  # each request stored once
    # progress was made between kills, and the kills really interrupted the run
    assert any(b < a for _, b, a in kills) and kills[-2][2] < total
    # no request reached the server after its answer was stored
    stored_at = {row[0]: row[3] for row in final.values()}
    late = [r for r in fault_server.requests if r["t"] > stored_at[body_hash(r["body"])]]
    assert late == []
    assert len(fault_server.requests) >= total
    assert list(out.glob(".*.tmp")) == []  # no partial file left behind
    assert normalized(out) == normalized(twin)
