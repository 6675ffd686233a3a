"""The chat client's own overhead: requests per second against a server that answers at once.

Usage: python benchmarks/bench_client.py [--requests N] [--concurrency C] [--rounds R]

A minimal asyncio HTTP server in another process answers every POST with the same small
chat completion. In one run, alternating rounds, the same N requests go out (a) through
calibench's ChatClient and (b) through a bare httpx.AsyncClient loop (post, check status,
parse JSON) at the same concurrency. Target: calibench at >= 90% of the bare loop's rate.
Prints medians over the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import time

import httpx

from calibench.models import ChatClient, Endpoint, SamplingOptions

BODY = json.dumps(
    {
        "id": "x",
        "object": "chat.completion",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Answer: B\nConfidence: 80%"}}],
        "usage": {"prompt_tokens": 90, "completion_tokens": 9, "total_tokens": 99},
    }
).encode()
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY
MESSAGES = [{"role": "system", "content": "You answer multiple-choice questions."}, {"role": "user", "content": "Q?\nA. a\nB. b\nC. c\nD. d"}]


def serve(port_queue, reply=None) -> None:
    """Answer every request on a fresh port (put on ``port_queue``) with RESPONSE, or ``reply()``'s bytes."""
    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                writer.write(reply() if reply else RESPONSE)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port_queue.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


async def with_calibench(url: str, n: int, concurrency: int) -> float:
    async with ChatClient("bench", [Endpoint(url, max_concurrency=concurrency)]) as client:
        start = time.perf_counter()
        await asyncio.gather(*[client.chat(MESSAGES, SamplingOptions(max_tokens=16)) for _ in range(n)])
        return n / (time.perf_counter() - start)


async def with_bare_httpx(url: str, n: int, concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)
    body = {"model": "bench", "messages": MESSAGES, "temperature": 0.0, "max_tokens": 16}
    async with httpx.AsyncClient(timeout=None) as http:

        async def one():
            async with gate:
                r = await http.post(url + "/chat/completions", json=body)
                r.raise_for_status()
                return r.json()["choices"][0]["message"]["content"]

        start = time.perf_counter()
        await asyncio.gather(*[one() for _ in range(n)])
        return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    ports = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(ports,), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{ports.get(timeout=10)}/v1"
    ours, bare = [], []
    try:
        asyncio.run(with_bare_httpx(url, 200, args.concurrency))  # warm-up
        for _ in range(args.rounds):
            ours.append(asyncio.run(with_calibench(url, args.requests, args.concurrency)))
            bare.append(asyncio.run(with_bare_httpx(url, args.requests, args.concurrency)))
    finally:
        server.terminate()
    m_ours, m_bare = statistics.median(ours), statistics.median(bare)
    print(f"{args.requests} requests x {args.rounds} rounds, concurrency {args.concurrency}, medians")
    print(f"  bare httpx loop      {m_bare:8.0f} req/s")
    print(f"  calibench ChatClient {m_ours:8.0f} req/s   {m_ours / m_bare:.1%} of the bare loop (target >= 90%)")


if __name__ == "__main__":
    main()
