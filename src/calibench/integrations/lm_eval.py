"""Reading lm-evaluation-harness's ``--log_samples`` output: every option's log-likelihood, as letter probabilities.

A multiple-choice task logs, for each document, the log-likelihood of every option's
continuation after the prompt (``filtered_resps``: one ``[loglik, is_greedy]`` per option) and
the index of the right one (``target``). Two confidences come from them, each an imported
protocol of its own:

- ``loglik``: the options' probabilities renormalised over the options, softmax(ll_i); the
  answer is the most probable option (lm-eval's ``acc``), its probability the confidence;
- ``loglik-norm``: the same after dividing each log-likelihood by its option's length in
  characters (lm-eval's ``acc_norm``), softmax(ll_i / len_i); a ranking score made into a
  probability, not one the model assigns.

With several tasks in one output directory, each task's answers are their own protocols
(``<task>/loglik``, ``<task>/loglik-norm``). Records that are not multiple choice, or whose
target or log-likelihoods cannot be read, are counted by reason and reported (never dropped silently); a file with no usable record is one
clear error.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import replace
from pathlib import Path

from calibench.data.question import LETTERS
from calibench.errors import CalibenchError
from calibench.integrations.imported import Imported, ImportedAnswer

PROTOCOLS = {
    "loglik": "lm-eval option log-likelihoods, softmax over the options (acc)",
    "loglik-norm": "lm-eval option log-likelihoods divided by the option's length in characters, softmax over the options (acc_norm)",
}
SAMPLES = re.compile(r"^samples_(?P<task>.+?)_(?P<stamp>\d{4}-\d{2}-\d{2}T[\d\-.]+)\.jsonl$")


def read_lm_eval(path: str | Path) -> Imported:
    """Every usable multiple-choice record of an lm-eval ``--log_samples`` directory or samples file."""
    path = Path(path)
    if not path.exists():
        raise CalibenchError(f"{path}: no such file or directory")
    files = [path] if path.is_file() else sorted(path.rglob("samples_*.jsonl"))
    if not files:
        raise CalibenchError(f"{path}: no lm-eval samples file (samples_<task>_<date>.jsonl, written by --log_samples)")
    results = _results_file(path)
    meta = json.loads(results.read_text(encoding="utf-8")) if results else {}
    answers, skipped, sources = [], {}, []
    for file in files:
        match = SAMPLES.match(file.name)
        task = match["task"] if match else file.stem.removeprefix("samples_")
        delimiter = meta.get("configs", {}).get(task, {}).get("target_delimiter", " ")
        data = file.read_bytes()
        sources.append({"path": str(file), "sha256": hashlib.sha256(data).hexdigest()})
        for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                skipped["not JSON"] = skipped.get("not JSON", 0) + 1
                continue
            found, reason = _answers(record, task, delimiter)
            if reason:
                skipped[reason] = skipped.get(reason, 0) + 1
            answers += found
    if not answers:
        raise CalibenchError(f"{path}: no multiple-choice record with every option's log-likelihood "
                             f"(skipped: {', '.join(f'{n} {why}' for why, n in skipped.items()) or 'none read'})")
    protocols = dict(PROTOCOLS)
    tasks = sorted({a.task for a in answers})
    if len(tasks) > 1:  # each task's answers apart: <task>/loglik, <task>/loglik-norm
        answers = [replace(a, protocol=f"{a.task}/{a.protocol}") for a in answers]
        protocols = {f"{task}/{name}": f"{text}, task {task}" for task in tasks for name, text in PROTOCOLS.items()}
    return Imported(
        tool="lm-eval", tool_version=meta.get("lm_eval_version"), model=_model_name(meta),
        protocols=protocols, answers=answers, skipped=skipped,
        sources=sources + ([{"path": str(results), "sha256": hashlib.sha256(results.read_bytes()).hexdigest()}] if results else []),
    )


def _model_name(meta: dict) -> str:
    """The model's name as the results file gives it: a GGUF file's stem, else the last part of its path or name."""
    args = (meta.get("config") or {}).get("model_args")
    if isinstance(args, dict) and args.get("gguf_file"):
        return Path(str(args["gguf_file"])).stem
    name = str(meta.get("model_name") or "lm-eval model")
    return Path(name).name if "/" in name else name


def _results_file(path: Path) -> Path | None:
    """The aggregated results file beside the samples (its model name, version and task configs)."""
    folder = path.parent if path.is_file() else path
    found = sorted(folder.rglob("results_*.json")) or sorted(folder.glob("results.json"))
    return found[-1] if found else None


def _answers(record: dict, task: str, delimiter: str) -> tuple[list[ImportedAnswer], str | None]:
    """A record's two answers (raw and length-normalised), or none and why."""
    resps = record.get("filtered_resps")
    if not isinstance(resps, list) or len(resps) < 2 or not all(isinstance(r, list) and r for r in resps):
        return [], "not multiple choice (no log-likelihood per option)"
    try:
        lls = [float(r[0]) for r in resps]
        target = int(record["target"])
    except (TypeError, ValueError, KeyError, IndexError):
        return [], "unreadable log-likelihood or target"
    if not 0 <= target < len(lls) or len(lls) > len(LETTERS) or not all(math.isfinite(x) for x in lls):
        return [], "target outside the options, or a log-likelihood not finite"
    arguments = record.get("arguments") or {}
    continuations = [str((arguments.get(f"gen_args_{k}") or {}).get("arg_1", "")) for k in range(len(lls))]
    lengths = [max(len(c.removeprefix(delimiter)), 1) for c in continuations]
    doc = record.get("doc") if isinstance(record.get("doc"), dict) else {}
    qid = str(doc["id"]) if isinstance(doc.get("id"), (str, int)) else f"{task}/{record.get('doc_id')}"
    shown = ", ".join(f"{LETTERS[k]} {x:.4f}" for k, x in enumerate(lls))
    common = {"question_id": qid, "subject": str(doc.get("subject") or task), "answer": LETTERS[target], "task": task}
    out = []
    for protocol, scores in (("loglik", lls), ("loglik-norm", [x / n for x, n in zip(lls, lengths)])):
        top = max(scores)
        weights = [math.exp(x - top) for x in scores]
        total = sum(weights)
        probs = {LETTERS[k]: w / total for k, w in enumerate(weights)}
        letter = max(probs, key=probs.get)
        out.append(ImportedAnswer(protocol=protocol, letter=letter, confidence=probs[letter], letter_probs=probs,
                                  raw_text=f"log-likelihoods: {shown}", **common))
    return out, None
