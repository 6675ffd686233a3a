"""The report page of a finished run: its size against the 5 MB limit, and its time to first render in Chromium.

Usage: python benchmarks/bench_report_page.py RUN_DIR [--rounds R]

Renders RUN_DIR's report with its items (the item explorer included) into a temporary
directory, then loads it R times in headless Chromium (a fresh profile each time) and reads
the browser's own timings: first contentful paint and the load event, in milliseconds from
navigation start. Prints the page's size beside the limit, and the median and range of each timing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from calibench.report import write_report
from calibench.report.explorer import script_hash
from calibench.study.run import load_run

LIMIT_BYTES = 5_000_000
PROBE = """window.addEventListener("load", () => setTimeout(() => {
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  const nav = performance.getEntriesByType("navigation")[0];
  document.body.setAttribute("data-timing", JSON.stringify({fcp: paint ? paint.startTime : null, load: nav.loadEventStart}));
}, 0));"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    chromium = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
    if chromium is None:
        raise SystemExit("no Chromium found")
    run = load_run(args.run_dir)
    with tempfile.TemporaryDirectory() as tmp:
        page = write_report([run.results], Path(tmp) / "report", items=[run.items])
        size = page.stat().st_size
        # the probe is admitted by its hash, as the page's own script is
        probed = page.with_name("probed.html")
        html = page.read_text().replace("script-src ", "script-src " + script_hash(PROBE) + " ")
        probed.write_text(html.replace("</body>", f"<script>{PROBE}</script></body>"))
        timings = []
        for k in range(args.rounds):
            done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={Path(tmp) / f'profile{k}'}",
                                   "--window-size=1280,1400", "--dump-dom", probed.as_uri()], capture_output=True, text=True, timeout=300)
            timings.append(json.loads(done.stdout.split('data-timing="', 1)[1].split('"', 1)[0].replace("&quot;", '"')))
    items = sum(1 for i in run.items if i.get("sample") is None)
    models = len(run.results.models)
    protocols = len({p.protocol for m in run.results.models for p in m.protocols})
    print(f"{args.run_dir}: {models} models x {protocols} protocols, {items} answers")
    print(f"page size {size / 1e6:.2f} MB, limit {LIMIT_BYTES / 1e6:.2f} MB: {size / LIMIT_BYTES:.2f}x the limit")
    for key, name in (("fcp", "first contentful paint"), ("load", "load event")):
        values = [t[key] for t in timings if t[key] is not None]
        print(f"{name}: median {statistics.median(values):.0f} ms, range {min(values):.0f}-{max(values):.0f} ms over {len(values)} loads")


if __name__ == "__main__":
    main()
