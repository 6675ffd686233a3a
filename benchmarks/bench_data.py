"""Loading and sampling MMLU, beside the floor: reading the same gzipped JSONL with the stdlib.

Usage: python benchmarks/bench_data.py [--repeats N]

Prints medians over N runs (default 15) and the ratio of calibench's loader to the bare
read (gunzip + json.loads per line, no hash check, no validation), which is the floor any
loader of this file pays.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import time

from calibench.data import DATASETS, load_dataset, sample_study
from calibench.data import loaders


def median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    path = loaders.vendored_path(DATASETS["mmlu"])

    def bare():
        return [json.loads(line) for line in gzip.decompress(path.read_bytes()).split(b"\n") if line]

    def cold_load():
        loaders._load_vendored.cache_clear()
        return load_dataset("mmlu")

    questions = load_dataset("mmlu")
    floor = median_ms(bare, args.repeats)
    cold = median_ms(cold_load, args.repeats)
    warm = median_ms(lambda: load_dataset("mmlu"), args.repeats)
    default = median_ms(lambda: sample_study(questions), args.repeats)
    whole = median_ms(lambda: sample_study(questions, subjects="all", n_total="all"), args.repeats)
    print(f"MMLU test, 14,042 questions, median of {args.repeats} runs")
    print(f"  bare gunzip + json.loads (floor)   {floor:8.1f} ms")
    print(f"  load_dataset('mmlu'), first call   {cold:8.1f} ms   {cold / floor:.2f}x the floor (sha256 check + Question objects)")
    print(f"  load_dataset('mmlu'), cached       {warm:8.1f} ms")
    print(f"  sample_study, default 300          {default:8.1f} ms")
    print(f"  sample_study, all 14,042           {whole:8.1f} ms")


if __name__ == "__main__":
    main()
