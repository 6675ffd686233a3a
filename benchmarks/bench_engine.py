"""Questions per second on the embedded engine, beside the engine's own token rates.

Usage: python benchmarks/bench_engine.py [--questions N] [--models a,b,...]

For each installed ladder model, with 1 and 4 parallel slots, and with the prompt cache on
and off: each question of the default study sample is asked twice back to back, as a
study asks two protocols (free-text "Answer/Confidence", then JSON-constrained), both
prompts sharing the question as their prefix. The floor is what the engine's own timings
say the work costs (new prompt tokens / prompt rate + generated tokens / generation rate,
summed over requests); wall / floor is the overhead on top of the engine's compute. With
4 slots the engine batches requests, so the per-request token rates shown are what each
request saw while sharing the engine, and no floor is given.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from calibench.data import load_dataset, sample_study
from calibench.models import ChatClient, Endpoint, LocalEngine, SamplingOptions
from calibench.models.ladder import LADDER, is_installed

SYSTEM = "You answer multiple-choice questions."
SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string", "enum": ["A", "B", "C", "D"]}, "confidence": {"type": "number"}},
    "required": ["answer", "confidence"],
    "additionalProperties": False,
}


def prompts(question):
    body = question.question + "\n" + "\n".join(f"{letter}. {text}" for letter, text in zip(question.letters, question.choices))
    free = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": body + "\n\nReply exactly:\nAnswer: <letter>\nConfidence: <0-100>%"},
    ]
    constrained = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": body + "\n\nReply in JSON with your answer letter and your confidence (0-100)."},
    ]
    fmt = {"type": "json_schema", "json_schema": {"name": "mcq", "schema": SCHEMA}}
    return [(free, SamplingOptions(max_tokens=24)), (constrained, SamplingOptions(max_tokens=40, response_format=fmt))]


async def run(engine: LocalEngine, questions, parallel: int, cache: bool) -> dict:
    extra = {"cache_prompt": cache}
    totals = {"prompt_s": 0.0, "gen_s": 0.0, "prompt_n": 0, "cache_n": 0, "predicted_n": 0, "requests": 0}
    gate = asyncio.Semaphore(parallel)
    async with ChatClient(engine.model.name, [Endpoint(engine.base_url, max_concurrency=parallel)]) as client:

        async def one(q):
            async with gate:  # a question's two requests go back to back, on one slot
                for messages, options in prompts(q):
                    options = SamplingOptions(**{**options.__dict__, "extra": extra})
                    r = await client.chat(messages, options)
                    t = r.timings or {}
                    totals["prompt_n"] += t.get("prompt_n", 0)
                    totals["cache_n"] += t.get("cache_n", 0)
                    totals["predicted_n"] += t.get("predicted_n", 0)
                    totals["prompt_s"] += t.get("prompt_ms", 0) / 1e3
                    totals["gen_s"] += t.get("predicted_ms", 0) / 1e3
                    totals["requests"] += 1

        start = time.perf_counter()
        await asyncio.gather(*[one(q) for q in questions])
        totals["wall_s"] = time.perf_counter() - start
    return totals


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument("--models", default=",".join(LADDER))
    args = parser.parse_args()
    questions = sample_study(load_dataset("mmlu")).questions[:: max(1, 300 // args.questions)][: args.questions]
    print(f"{len(questions)} questions x 2 requests (free text, then JSON-constrained), temperature 0")
    print(f"{'model':<20} {'slots':>5} {'cache':>5} {'q/s':>7} {'prompt tok/s':>12} {'gen tok/s':>10} {'new prompt tok':>14} {'cached':>7} {'wall/floor':>10}")
    for name in args.models.split(","):
        if not is_installed(LADDER[name]):
            print(f"{name:<20} not installed: {LADDER[name].install_command}")
            continue
        for parallel in (1, 4):
            with LocalEngine(name, parallel=parallel, context=1024) as engine:
                asyncio.run(run(engine, questions[:1], 1, True))  # warm-up
                for cache in (True, False):
                    t = asyncio.run(run(engine, questions, parallel, cache))
                    prompt_rate = t["prompt_n"] / t["prompt_s"] if t["prompt_s"] else float("nan")
                    gen_rate = t["predicted_n"] / t["gen_s"] if t["gen_s"] else float("nan")
                    # With several slots the engine batches requests, so their timings overlap
                    # and their sum is no floor; the floor is defined for one slot only.
                    ratio = f"{t['wall_s'] / (t['prompt_s'] + t['gen_s']):>10.2f}" if parallel == 1 else f"{'-':>10}"
                    print(
                        f"{name:<20} {parallel:>5} {'on' if cache else 'off':>5} {len(questions) / t['wall_s']:>7.2f}"
                        f" {prompt_rate:>12.0f} {gen_rate:>10.1f} {t['prompt_n']:>14} {t['cache_n']:>7} {ratio}"
                    )


if __name__ == "__main__":
    main()
