"""One endpoint against two: the same study on a fleet of llama.cpp servers.

Usage: python benchmarks/bench_scaling.py [--model NAME] [--questions N] [--rounds R]

Starts llama.cpp servers on 127.0.0.1 (the embedded engine, each its own server and port)
and runs the same study against them as remote endpoints, the way a study uses a fleet of
vLLM or NIM endpoints: one ``[[models]]`` entry with several ``endpoints``. Three set-ups,
alternated over rounds, each from an empty store:

- one endpoint, 1 thread: the unit a fleet adds;
- two endpoints, 1 thread each: the fleet; the runner spreads requests over both;
- one endpoint, all threads: the same cores as one server (the single-machine baseline).

Prints questions per second per set-up (median over rounds) and the two-over-one ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from contextlib import ExitStack
from pathlib import Path

from calibench.models import LocalEngine
from calibench.study import parse_config, run_study

SETUPS = {"one endpoint, 1 thread": (1, 1), "two endpoints, 1 thread each": (2, 1), "one endpoint, all threads": (1, None)}


def run_once(model: str, questions: int, servers: int, threads: int | None) -> float:
    """Questions per second of one study against ``servers`` fresh llama.cpp servers."""
    with ExitStack() as stack, tempfile.TemporaryDirectory() as out:
        engines = [stack.enter_context(LocalEngine(model, threads=threads, context=2048)) for _ in range(servers)]
        cfg = parse_config({
            "name": "scaling",
            "out": str(Path(out) / "run"),
            "data": {"limit": questions},
            "metrics": {"n_boot": 10},
            # the default study's protocols: the answer read, then stated continuing it; one
            # request at a time per server, so that a question's two requests go back to back
            # on one server and share its cached prefix. The servers are llama.cpp's: prefill works
            "protocols": ["stated", "logprob"],
            "models": [{"name": model, "backend": "llama.cpp",
                        "endpoints": [{"base_url": e.base_url, "max_concurrency": 1} for e in engines]}],
        })
        run_study(cfg, show_progress=False)
        # the asking's wall time, from the run's own record (computing the metrics is not asking)
        timing = json.loads((Path(out) / "run" / "results.json").read_text())["models"][0]["timing"]
        return questions / timing["wall_s"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.model}: {args.questions} questions x the default protocols (2 requests each), {os.cpu_count()} cores, "
          f"{args.rounds} alternating rounds")
    rates: dict[str, list[float]] = {name: [] for name in SETUPS}
    for _ in range(args.rounds):
        for name, (servers, threads) in SETUPS.items():
            rates[name].append(run_once(args.model, args.questions, servers, threads))
    medians = {name: statistics.median(r) for name, r in rates.items()}
    print(f"{'set-up':<32} {'questions/s (median)':>22} {'rounds':>24}")
    for name, r in rates.items():
        print(f"{name:<32} {medians[name]:>22.3f} {', '.join(f'{x:.3f}' for x in r):>24}")
    unit = medians["one endpoint, 1 thread"]
    print(f"two endpoints / one endpoint (1 thread each): {medians['two endpoints, 1 thread each'] / unit:.2f}x")
    print(f"two endpoints, 1 thread each / one endpoint, all threads: "
          f"{medians['two endpoints, 1 thread each'] / medians['one endpoint, all threads']:.2f}x")


if __name__ == "__main__":
    main()
