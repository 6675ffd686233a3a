"""A rate-limited endpoint, kept to: N requests at its published requests-per-minute, zero 429s.

Usage: python benchmarks/bench_rate_limit.py [--requests 120] [--rpm 40] [--concurrency 4]

A server in another process answers like bench_client.py's, except that a request which
would make more than ``--rpm`` in any sliding 60 s is answered 429 (as NVIDIA NIM's free
tier does at about 40 a minute). calibench's ChatClient sends ``--requests`` requests with
the endpoint's ``requests_per_minute`` set to the same limit. Target (issue 15): zero 429s,
and the run within 10% of the ideal (requests - 1) x 60 / rpm seconds (3 minutes at the
defaults).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_client import MESSAGES, RESPONSE, serve  # noqa: E402

from calibench.models import ChatClient, Endpoint, SamplingOptions  # noqa: E402

TOO_MANY = b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 5\r\nContent-Length: 2\r\n\r\n{}"


class SlidingMinute:
    """The reply to each request: 429 when it would make more than ``rpm`` in the last 60 s."""

    def __init__(self, counts, rpm: int):
        self.counts, self.rpm = counts, rpm
        self.served: collections.deque = collections.deque()

    def __call__(self) -> bytes:
        now = time.monotonic()
        while self.served and self.served[0] <= now - 60:
            self.served.popleft()
        if len(self.served) >= self.rpm:
            self.counts["429"] += 1
            return TOO_MANY
        self.served.append(now)
        self.counts["ok"] += 1
        return RESPONSE


async def run(url: str, n: int, rpm: int, concurrency: int) -> float:
    async with ChatClient("bench", [Endpoint(url, max_concurrency=concurrency, requests_per_minute=rpm)]) as client:
        start = time.perf_counter()
        await asyncio.gather(*[client.chat(MESSAGES, SamplingOptions(max_tokens=16)) for _ in range(n)])
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=120)
    parser.add_argument("--rpm", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    manager = multiprocessing.Manager()
    counts = manager.dict({"ok": 0, "429": 0})
    ports = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(ports, SlidingMinute(counts, args.rpm)), daemon=True)
    server.start()
    try:
        elapsed = asyncio.run(run(f"http://127.0.0.1:{ports.get(timeout=10)}/v1", args.requests, args.rpm, args.concurrency))
    finally:
        server.terminate()
    ideal = (args.requests - 1) * 60 / args.rpm
    print(f"{args.requests} requests at a {args.rpm}/min limit, concurrency {args.concurrency}")
    print(f"  served {counts['ok']}, answered 429: {counts['429']} (target 0)")
    print(f"  {elapsed:.1f} s against the ideal {ideal:.1f} s: {elapsed / ideal:.3f}x (target within 10%)")


if __name__ == "__main__":
    main()
