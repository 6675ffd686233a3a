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
from bench_client import MESSAGES, RESPONSE  # noqa: E402

from calibench.models import ChatClient, Endpoint, SamplingOptions  # noqa: E402

TOO_MANY = b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 5\r\nContent-Length: 2\r\n\r\n{}"


def serve(port_queue, counts, rpm: int) -> None:
    served: collections.deque = collections.deque()

    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
                await reader.readexactly(length)
                now = time.monotonic()
                while served and served[0] <= now - 60:
                    served.popleft()
                if len(served) >= rpm:
                    counts["429"] += 1
                    writer.write(TOO_MANY)
                else:
                    served.append(now)
                    counts["ok"] += 1
                    writer.write(RESPONSE)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port_queue.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


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
    server = multiprocessing.Process(target=serve, args=(ports, counts, args.rpm), daemon=True)
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
