"""Stalled requests: adaptive deadlines against a fixed short timeout, on a server that stalls.

Usage: python benchmarks/bench_stalls.py [--requests 1000] [--stall-rate 0.3] [--concurrency 32] [--rounds 1]

A server in another process answers each request after 20-100 ms, except that a share
``--stall-rate`` of them stall: half answer only after 60 s, half never answer. The same
``--requests`` requests go out through calibench's ChatClient twice per round, in turn:
(a) with the defaults (a 300 s ceiling, the deadline adapting to the observed latency) and
(b) with a fixed 10 s timeout. Target (issue 15): (a) within 2x of (b), losing no request.
Before adaptive deadlines, (a) held each stalled request for the whole 300 s (about an hour
at the defaults here). Prints each run's wall time, requests lost and attempts, and the
median ratio a / b over the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import multiprocessing
import random
import statistics
import time

from calibench.models import ChatClient, Endpoint, ModelRequestError, SamplingOptions

BODY = json.dumps({"id": "x", "object": "chat.completion",
                   "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Answer: B"}}],
                   "usage": {"prompt_tokens": 90, "completion_tokens": 3, "total_tokens": 93}}).encode()
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY


def serve(port_queue, stall_rate: float, seed: int) -> None:
    rng = random.Random(seed)

    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
                await reader.readexactly(length)
                draw = rng.random()
                if draw < stall_rate / 2:
                    await asyncio.sleep(3600)  # hangs
                await asyncio.sleep(60 if draw < stall_rate else rng.uniform(0.02, 0.1))
                writer.write(RESPONSE)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        port_queue.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


async def run(endpoint: Endpoint, n: int) -> tuple[float, int, collections.Counter]:
    messages = [{"role": "user", "content": "Q?\nA. a\nB. b\nC. c\nD. d"}]
    async with ChatClient("bench", [endpoint], seed=0) as client:

        async def one():
            try:
                return (await client.chat(messages, SamplingOptions(max_tokens=16))).attempts
            except ModelRequestError:
                return None

        start = time.perf_counter()
        attempts = await asyncio.gather(*[one() for _ in range(n)])
        return time.perf_counter() - start, attempts.count(None), collections.Counter(a for a in attempts if a)


def timed(args, seed: int, **endpoint) -> float:
    ports = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(ports, args.stall_rate, seed), daemon=True)
    server.start()
    try:
        url = f"http://127.0.0.1:{ports.get(timeout=10)}/v1"
        elapsed, lost, attempts = asyncio.run(run(Endpoint(url, max_concurrency=args.concurrency, **endpoint), args.requests))
    finally:
        server.terminate()
    label = ", ".join(f"{k}={v}" for k, v in endpoint.items()) or "defaults (adaptive, 300 s ceiling)"
    print(f"  {label:<40} {elapsed:7.1f} s  lost {lost}  attempts {dict(sorted(attempts.items()))}", flush=True)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--stall-rate", type=float, default=0.3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    print(f"{args.requests} requests, {args.stall_rate:.0%} stalling (half for 60 s, half for good), concurrency {args.concurrency}")
    ratios = []
    for r in range(args.rounds):
        adaptive = timed(args, r)
        fixed = timed(args, r, timeout_s=10.0, adaptive_timeout=False)
        ratios.append(adaptive / fixed)
        print(f"  round {r + 1}: adaptive / fixed 10 s = {ratios[-1]:.2f}x", flush=True)
    print(f"median adaptive / fixed 10 s over {args.rounds} round(s): {statistics.median(ratios):.2f}x (target within 2x)")


if __name__ == "__main__":
    main()
