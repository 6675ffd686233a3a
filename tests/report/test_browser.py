"""The report page in a real headless Chromium: it loads with no console message and no
network request, and a screenshot is saved. .ci/run installs Debian's chromium so that CI
always runs this; elsewhere it skips when no Chromium is found.

Console messages are read from Chromium's own log (``--enable-logging=stderr``) and network
requests from its net log, keeping those the page made (their isolation key is the file's
origin) apart from the browser's background traffic. A control page with a console message
and an external image shows that both detectors catch what they look for.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from calibench.report import write_report
from calibench.study.run import load_results

FIXTURE = Path(__file__).parents[1] / "fixtures" / "run"
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found (Debian: apt-get install chromium)")


def load_in_chromium(page: Path, tmp_path: Path) -> tuple[list[str], list[str], Path]:
    shot, netlog = tmp_path / f"{page.stem}.png", tmp_path / f"{page.stem}.netlog.json"
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
         f"--log-net-log={netlog}", "--window-size=1280,2400", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    events = json.loads(netlog.read_text())["events"]
    requests = sorted({
        e["params"]["url"] for e in events
        if "url" in e.get("params", {}) and "file://" in str(e["params"].get("network_isolation_key", ""))
        and not e["params"]["url"].startswith(("file:", "data:"))
    })
    return console, requests, shot


def test_the_detectors_catch_a_bad_page(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><p>x</p><script>console.error("boom")</script><img src="http://127.0.0.1:9/x.png">')
    console, requests, _ = load_in_chromium(bad, tmp_path)
    assert any("boom" in line for line in console)
    assert requests == ["http://127.0.0.1:9/x.png"]


def test_report_loads_clean_and_renders(tmp_path):
    results = load_results(FIXTURE)
    hostile = results.models[0].model_copy(update={"label": "<img src=http://127.0.0.1:9/y.png onerror=console.log(1)>"})
    page = write_report([results.model_copy(update={"models": [hostile, *results.models[1:]]})], tmp_path / "report")
    console, requests, shot = load_in_chromium(page, tmp_path)
    assert console == [] and requests == []
    assert shot.is_file() and shot.stat().st_size > 50_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
