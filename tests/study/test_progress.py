"""Progress in a log: plain lines at an interval and at a model's end; SIGTERM stops like Ctrl-C."""

import io
import os
import signal
import subprocess
import sys
import time

from rich.console import Console

from calibench.cli import main
from calibench.study.progress import LogProgress, parse_text


def test_log_lines_come_at_the_interval_and_at_the_end():
    now = [0.0]
    out = io.StringIO()
    progress = LogProgress(Console(file=out, width=200), interval=30, clock=lambda: now[0])
    with progress:
        task = progress.add_task("qwen", total=10, completed=2, parse="", speed="", failed=0)
        for k in range(8):
            now[0] += 10
            progress.update(task, advance=1, parse=parse_text({"stated": [k + 1, k + 1], "p-true": [k, k + 1]}), failed=1)
    lines = out.getvalue().splitlines()
    # every 30 s (after questions 3 and 6 of the 8 asked) and once at the end, not at every question
    assert len(lines) == 3 and lines[-1].startswith("qwen: 10/10 questions · 1 request(s) failed · 0.10 q/s · stated 100% p-true 88%")
    assert lines[0].startswith("qwen: 5/10 questions") and "ETA 0m50s" in lines[0]


def test_the_overall_eta_counts_the_later_models():
    now = [0.0]
    out = io.StringIO()
    # two models after this one: one with 20 questions at no known rate, one known to take 2 minutes
    progress = LogProgress(Console(file=out, width=200), later=[(20, None), (300, 2.0)], interval=30, clock=lambda: now[0])
    with progress:
        task = progress.add_task("a", total=10, parse="", speed="", failed=0)
        for _ in range(10):
            now[0] += 5
            progress.update(task, advance=1)
    first = out.getvalue().splitlines()[0]
    # after 6 questions in 30 s (0.2 q/s): 4 left here (20 s), 20 at this rate (100 s), then 120 s
    assert first.endswith("all 3 models left: ETA 4m00s (later models at this one's rate)")


def test_a_run_into_a_pipe_writes_plain_progress(fault_server, tmp_path, capsys):
    assert main(["run", "--model", f"m@{fault_server.base_url}", "--limit", "3", "--protocol", "verbalized",
                 "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    assert "m: 3/3 questions · " in err and "verbalized 100%" in err and "\x1b[" not in err  # no bar, no escapes
    assert "models left" not in err  # one model: its own ETA is the study's
    assert main(["run", "--model", f"m@{fault_server.base_url}", "--model", f"n@{fault_server.base_url}", "--limit", "3",
                 "--protocol", "verbalized", "--out", str(tmp_path / "two")]) == 0
    first, second = [line for line in capsys.readouterr().err.splitlines() if "3/3 questions" in line]
    assert first.endswith("all 2 models left: ETA 0m00s (later models at this one's rate)") and "models left" not in second


def test_sigterm_stores_what_it_has_and_says_how_to_resume(fault_server, tmp_path):
    fault_server.default = ("slow", 0.2)  # each reply takes 0.2 s: the run is still going when it is killed
    args = [sys.executable, "-m", "calibench", "run", "--model", f"m@{fault_server.base_url}", "--limit", "40",
            "--protocol", "verbalized", "--out", str(tmp_path / "run"), "--quiet", "--concurrency", "1"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ})
    deadline = time.time() + 20
    while time.time() < deadline and len(fault_server.requests) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143
    assert "terminated: every response received so far is stored in" in err and "run the same command to resume" in err
    assert "Traceback" not in err
    fault_server.default = ("ok", "Answer: B\nConfidence: 80%")
    asked = len(fault_server.requests)
    assert main(["run", "--model", f"m@{fault_server.base_url}", "--limit", "40", "--protocol", "verbalized",
                 "--out", str(tmp_path / "run"), "--quiet"]) == 0
    assert 0 < len(fault_server.requests) - asked < 40  # the rerun asked only what the killed run had not stored
