"""Produce the logs that calibench's importers are tested on, with the real tools, offline.

Usage (in .venv-integrations, see make integrations-fixtures):
    python tests/integrations/make_fixtures.py lm-eval|inspect OUT_DIR

lm-eval: the local task ``calibench_mmlu20`` (lm_eval_task/) over the first 20 questions of the
default study sample, asked of SmolLM2-135M through lm-evaluation-harness's ``hf`` backend,
which loads the model's GGUF file through transformers on the CPU (its ``gguf`` and
``local-completions`` backends need prompt log-probabilities from the server, with ``echo``,
which llama.cpp's server does not return). ``--log_samples`` writes every option's
log-likelihood; the samples file and the results file are copied into OUT_DIR under fixed
names, beside ``mmlu20.jsonl``, the questions asked.

inspect: calibench's own inspect task (``calibench/mmlu_confidence``, the ``verbalized``
protocol) over the same 20 questions, asked of Qwen2.5-Coder-0.5B on calibench's embedded llama.cpp
engine through inspect's OpenAI-compatible provider (``openai-api``); the ``.eval`` log is
copied into OUT_DIR as ``mmlu_confidence.eval``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
TASK_DIR = HERE / "lm_eval_task"
QUESTIONS = 20
MODEL = "smollm2-135m"
INSPECT_MODEL = "qwen2.5-coder-0.5b"  # SmolLM2-135M reads no verbalized reply: nothing to import


def write_questions(path: Path) -> None:
    """The first 20 questions of calibench's default study sample, as the task reads them."""
    from calibench.data import load_dataset, sample_study

    questions = sample_study(load_dataset("mmlu"), seed=0).questions[:QUESTIONS]
    lines = [json.dumps({"id": q.id, "subject": q.subject, "question": q.question, "choices": list(q.choices),
                         "answer": q.answer_index}) for q in questions]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def lm_eval(out: Path) -> None:
    from calibench.models import resolve

    gguf = resolve(MODEL).path
    out.mkdir(parents=True, exist_ok=True)
    write_questions(TASK_DIR / "mmlu20.jsonl")
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "lm_eval", "run", "--model", "hf",
                        "--model_args", f"pretrained={gguf.parent},gguf_file={gguf.name},dtype=float32",
                        "--tasks", "calibench_mmlu20", "--include_path", str(TASK_DIR), "--device", "cpu", "--batch_size", "4",
                        "--log_samples", "--output_path", tmp, "--seed", "0"],
                       cwd=TASK_DIR, env=env, check=True)
        samples = sorted(Path(tmp).rglob("samples_calibench_mmlu20_*.jsonl"))
        results = sorted(Path(tmp).rglob("results_*.json"))
        if len(samples) != 1 or len(results) != 1:
            raise SystemExit(f"expected one samples and one results file, found {samples} and {results}")
        shutil.copy(samples[0], out / "samples_calibench_mmlu20.jsonl")
        shutil.copy(results[0], out / "results.json")
    shutil.copy(TASK_DIR / "mmlu20.jsonl", out / "mmlu20.jsonl")


def inspect(out: Path) -> None:
    from calibench.models.engine import LocalEngine

    out.mkdir(parents=True, exist_ok=True)
    with LocalEngine(INSPECT_MODEL, threads=2) as engine, tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "LLAMACPP_BASE_URL": engine.base_url, "LLAMACPP_API_KEY": "local", "INSPECT_LOG_DIR": tmp}
        subprocess.run([str(Path(sys.executable).parent / "inspect"), "eval", "calibench/mmlu_confidence", "-T", f"limit={QUESTIONS}",
                        "--model", f"openai-api/llamacpp/{INSPECT_MODEL}", "--log-dir", tmp, "--log-format", "eval", "--max-connections", "1",
                        "--display", "plain"], env=env, check=True)
        logs = sorted(Path(tmp).glob("*.eval"))
        if len(logs) != 1:
            raise SystemExit(f"expected one .eval log, found {logs}")
        shutil.copy(logs[0], out / "mmlu_confidence.eval")


def main() -> None:
    tool, out = sys.argv[1], Path(sys.argv[2])
    {"lm-eval": lm_eval, "inspect": inspect}[tool](out)


if __name__ == "__main__":
    main()
