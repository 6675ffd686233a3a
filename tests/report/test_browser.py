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


# on load, the page reports its own width, the window's and the comparison table's box: to its
# parent frame when it is in one (Chromium's headless window is at least 500 px wide, so the
# phone width is a 390 px frame)
MEASURE = """window.addEventListener("load", () => {
  const box = document.querySelector("table.compare").parentElement;
  const out = JSON.stringify({page: document.documentElement.scrollWidth, window: document.documentElement.clientWidth,
                              box: box.scrollWidth, box_client: box.clientWidth,
                              first_column: getComputedStyle(box.querySelector("td")).position});
  document.body.setAttribute("data-measure", out);
  if (window.parent !== window) window.parent.postMessage(out, "*");
});"""
FRAME = ('<!DOCTYPE html><body style="margin:0"><iframe src="measured.html" style="width:{w}px;height:1400px;border:0"></iframe>'
         '<script>addEventListener("message", e => document.body.setAttribute("data-measure", e.data));</script></body>')


def measure(page: Path, width: int, tmp_path: Path) -> dict:
    """The page's widths at a window ``width`` px wide, and a screenshot of it in ``tmp_path``."""
    measured = page.with_name("measured.html")
    from calibench.report.explorer import script_hash

    admitted = page.read_text().replace("script-src ", "script-src " + script_hash(MEASURE) + " ")  # as the page's own script is
    measured.write_text(admitted.replace("</body>", f"<script>{MEASURE}</script></body>"))
    frame = page.with_name(f"frame-{width}.html")
    frame.write_text(FRAME.format(w=width))
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=5000"]
    window = f"--window-size={max(width, 800)},1400"
    dom = subprocess.run([*base, window, "--dump-dom", frame.as_uri()], capture_output=True, text=True, timeout=120)
    subprocess.run([*base, window, f"--screenshot={tmp_path / f'report-{width}.png'}", frame.as_uri()],
                   capture_output=True, timeout=120, check=True)
    found = dom.stdout.split('data-measure="', 1)[1].split('"', 1)[0].replace("&quot;", '"')
    return json.loads(found)


@pytest.mark.parametrize("width", [390, 1280, 1920])
def test_no_width_scrolls_the_page_and_wide_screens_show_every_column(tmp_path, width):
    results = load_results(FIXTURE)
    long = results.models[0].model_copy(update={"label": "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"})
    page = write_report([results.model_copy(update={"models": [long, *results.models[1:]]})], tmp_path / "report")
    m = measure(page, width, tmp_path)
    assert m["page"] <= m["window"], m  # the page itself never scrolls sideways
    if width >= 1280:
        assert m["box"] <= m["box_client"], m  # every column of the comparison in view
    else:
        assert m["box"] > m["box_client"], m  # the table scrolls in its own box
    assert m["first_column"] == "sticky"
    shot = tmp_path / f"report-{width}.png"
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_explorer_opens_a_bin_and_the_page_runs_no_script_but_its_own(tmp_path):
    from calibench.report.explorer import script_hash
    from calibench.study.run import load_run

    run = load_run(FIXTURE)
    hostile = "<img src=http://127.0.0.1:9/z.png onerror=console.log(2)>"
    items = [{**i, "raw_text": hostile} if n == 0 else i for n, i in enumerate(run.items)]
    page = write_report([run.results], tmp_path / "report", items=[items])
    # a probe that presses the bin holding the hostile reply, admitted by its hash as the page's own
    # script is; and one more script that the policy must refuse
    probe = """window.addEventListener("load", () => {
  const button = document.querySelector('button[data-group="0"][data-bin="9"]');
  button.click();
  const panel = document.getElementById("explorer-0");
  document.body.setAttribute("data-probe", JSON.stringify({label: button.textContent, items: panel.querySelectorAll(".item").length,
    replies: [...panel.querySelectorAll(".item pre")].map(p => p.textContent), images: panel.querySelectorAll("img").length}));
});"""
    html = page.read_text().replace("script-src ", "script-src " + script_hash(probe) + " ")
    html = html.replace("</body>", f'<script>{probe}</script><script>console.log("not admitted")</script></body>')
    probed = page.with_name("probed.html")
    probed.write_text(html)
    console, requests, _ = load_in_chromium(probed, tmp_path)
    dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile2'}",
                          "--virtual-time-budget=5000", "--dump-dom", probed.as_uri()], capture_output=True, text=True, timeout=120)
    found = json.loads(dom.stdout.split('data-probe="', 1)[1].split('"', 1)[0].replace("&quot;", '"').replace("&lt;", "<")
                       .replace("&gt;", ">").replace("&amp;", "&"))
    first = items[0]
    assert first["model"] == run.results.models[0].name and first["confidence"] >= 0.9  # the hostile reply is in bin 9
    n = int(found["label"].split("n=")[1].split(" ")[0])
    assert found["items"] == n > 0 and hostile in found["replies"] and found["images"] == 0  # shown as text, not markup
    assert requests == []
    assert not any("not admitted" in line and "Refused" not in line for line in console)
    assert any("violates the following Content Security Policy" in line and "blocked" in line for line in console)
